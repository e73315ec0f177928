/**
 * Per service port of the checked app: served (by which backend), left out, or not selected and
 * why — the group and strict-mode rules of the model (services.ts `selected`), stated for a person.
 * Also the notes on removed directives the renderer translates. Pure.
 */
import type { MarathonApp } from '../marathon/types';
import { parseAppsJson } from '../model/appsJson';
import { networkingMode, ServicePortAssigner } from '../model/networking';
import { labelsByPort, selectionLabels } from '../model/labels';
import type { ModelOptions } from '../model/services';
import type { Service } from '../model/types';
import { TEMPLATE_LABEL_NAMES } from '../templates/catalog';
import { startsLegacy, translateLine } from '../render/legacyDirectives';
import type { RenderedConfig } from '../render/render';
import { portLabelNameNotes } from './labelNames';
import type { PortResult } from './report';

type Labels = Readonly<Record<string, unknown>>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const split = (v: string | undefined): string[] => (v === undefined ? [] : v.split(',').filter((g) => g !== ''));

/** Every group the app names (HAPROXY_GROUP and HAPROXY_{n}_GROUP): what it is checked for without --group. */
export function groupsOf(labels: Labels): string[] {
  const out = new Set(split(str(labels['HAPROXY_GROUP'])));
  for (const [k, v] of Object.entries(labels))
    if (/^HAPROXY_\d+_GROUP$/.test(k)) for (const g of split(str(v))) out.add(g);
  return [...out];
}

export interface PortsView {
  readonly ports: readonly PortResult[];
  readonly notServed?: string;
  readonly notes: readonly string[];
}

export function describePorts(
  app: Record<string, unknown>,
  first: { readonly rendered: RenderedConfig },
  opts: ModelOptions,
  groupGiven: boolean,
): PortsView {
  const parsed = parseAppsJson({ apps: [app] });
  const typed: MarathonApp | undefined = parsed.ok ? parsed.value.apps[0] : undefined;
  if (typed === undefined)
    return { ports: [], notes: [], notServed: 'the service cannot read the app definition (see the problem below)' };
  const mode = networkingMode(typed);
  const servicePorts = new ServicePortAssigner(opts.servicePortRange).servicePorts(typed, mode);
  if (servicePorts.length === 0) {
    return {
      ports: [],
      notes: [],
      notServed:
        mode !== 'container'
          ? 'the app declares no ports (portDefinitions, ports or container portMappings): there is nothing to route to'
          : opts.servicePortRange === null
            ? 'an IP-per-task app without service ports, and this marathon-lb assigns none (--min/--max-serv-port-ip-per-task 0): give container.portMappings a servicePort'
            : 'an IP-per-task app without ports: declare container.portMappings (or ipAddress.discovery.ports) for marathon-lb to assign service ports',
    };
  }
  // IP-per-task apps without service ports get them from marathon-lb's range, in app order (marathon#3636).
  const declared =
    typed.portDefinitions !== undefined ||
    (typed.ports?.length ?? 0) > 0 ||
    (typed.container?.docker?.portMappings ?? typed.container?.portMappings ?? []).some(
      (m) => m.servicePort !== undefined && m.servicePort !== null,
    );
  const notes =
    mode === 'container' && !declared && opts.servicePortRange !== null
      ? [
          `Marathon gives IP-per-task apps no service ports: marathon-lb assigns them from --min/--max-serv-port-ip-per-task (${opts.servicePortRange.min}-${opts.servicePortRange.max}), ` +
            'so the port shown depends on the other apps in the cluster',
        ]
      : [];
  const labels = typed.labels;
  // Read as the service reads them (model/labels.ts): an empty group label is the group "".
  const appGroups = labels['HAPROXY_GROUP']?.split(',') ?? [];
  const portLabels = labelsByPort(labels);
  const ports = servicePorts.map((sp, i): PortResult => {
    const portLabel = labels[`HAPROXY_${i}_PORT`];
    const servicePort = portLabel !== undefined && /^\s*\d{1,5}\s*$/.test(portLabel) ? Number(portLabel) : sp;
    const served: Service | undefined = first.rendered.served.find((s) => s.servicePort === servicePort);
    if (served !== undefined) return { index: i, servicePort, status: 'served', backend: served.backend };
    const reason = notSelected(portLabels(i), i, appGroups, opts, groupGiven);
    return reason === null
      ? { index: i, servicePort, status: 'left out' }
      : { index: i, servicePort, status: 'not selected', reason };
  });
  return { ports, notes: [...notes, ...portLabelNameNotes(labels, servicePorts.length)] };
}

function notSelected(
  portLabels: ReadonlyMap<string, string>,
  i: number,
  appGroups: readonly string[],
  opts: ModelOptions,
  groupGiven: boolean,
): string | null {
  const { groups: portGroups, enabled } = selectionLabels(portLabels);
  const own = portGroups.length > 0 ? portGroups : appGroups;
  const which = portGroups.length > 0 ? `HAPROXY_${i}_GROUP` : 'HAPROXY_GROUP';
  if (!(opts.groups.includes('*') || own.some((g) => opts.groups.includes(g)))) {
    if (own.length === 0) {
      return groupGiven
        ? `no HAPROXY_GROUP label: add HAPROXY_GROUP=${opts.groups[0] ?? 'external'} (only a marathon-lb run with --group '*' serves apps without one)`
        : "no HAPROXY_GROUP label: add HAPROXY_GROUP=<group> (e.g. external, the package's default); only a marathon-lb run with --group '*' serves apps without one";
    }
    const named = own.join(',');
    return `${which} is ${named === '' ? 'empty' : named}, and this marathon-lb serves --group ${opts.groups.join(',')}`;
  }
  if (enabled === null)
    return opts.strictMode ? `--strict-mode serves only ports with HAPROXY_${i}_ENABLED=true` : null;
  return enabled
    ? null
    : `HAPROXY_${i}_ENABLED is ${JSON.stringify(portLabels.get('ENABLED'))} (true, t, yes or y enables it)`;
}

/** For a newer HAProxy: each removed directive in a per-app template label, and the rule it is written as. */
export function legacyNotes(app: Record<string, unknown>, served: readonly Service[], translate: boolean): string[] {
  if (!translate || served.length === 0) return [];
  const labels = (app['labels'] ?? {}) as Labels;
  const notes: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    const m = /^HAPROXY_\d+_(.+)$/.exec(k);
    if (m === null || !TEMPLATE_LABEL_NAMES.has(m[1] as string) || typeof v !== 'string') continue;
    for (const line of v.split('\n')) {
      if (!startsLegacy(line)) continue;
      const t = translateLine(line);
      if (t.ok)
        notes.push(
          `label ${k}: "${line.trim()}" (removed in HAProxy 2.1) is written as "${t.value.trim().replace(/\n\s*/g, ' / ')}"; write that yourself to drop the translation`,
        );
    }
  }
  return notes;
}
