import { aclNetworkHost, bindAddressWord, ipv4MappedAddress, isHostName, isIPv4, isIPv6 } from '../model/haproxyText';
import { networkingMode } from '../model/networking';
import { labelTargetNames } from '../model/templateLabels';
import { TEMPLATE_LABEL_NAMES } from '../templates/catalog';
import type { MarathonApp } from './types';

/**
 * Resolves every task host that is not an IP literal (marathon-lb: gethostbyname, IPv4), so the
 * pure model can look names up synchronously. Unresolvable hosts are simply absent.
 */
const BIND_ADDR = /^HAPROXY_\d+_BIND_ADDR$/;
const NETWORK_ALLOWED = /^HAPROXY_\d+_BACKEND_NETWORK_ALLOWED_ACL$/;
/** A per-port template label: its servers' and checks' names are looked up so it cannot reach the load balancer by one. */
const PORT_TEMPLATE = /^HAPROXY_\d+_(.+)$/;

/** The names an app makes the controller look up. */
export interface AppHostNames {
  /** Agents its tasks run on: a name that does not resolve leaves those tasks out. */
  readonly taskHosts: readonly string[];
  /** Agents given as IPv6 addresses: marathon-lb dials agents by IPv4 (gethostbyname), so never (IPv4-mapped ones aside). */
  readonly ipv6TaskHosts: readonly string[];
  /** Names HAProxy resolves when it loads the config, in HAPROXY_{n}_BIND_ADDR and _BACKEND_NETWORK_ALLOWED_ACL (the label check reports one that does not resolve). */
  readonly loadedNames: readonly string[];
  /** Names template labels send traffic or checks to: one that resolves to the loopback is refused. */
  readonly labelTargets: readonly string[];
}

/**
 * The names in an apps body that need a lookup: task hosts and the labels' names that are not IP
 * literals. `memo`: the names of each app object seen before (an unchanged app is the same object).
 */
export function hostNamesOf(body: unknown, memo?: WeakMap<object, AppHostNames>): Set<string> {
  const hosts = new Set<string>();
  for (const names of namesOfApps(body, memo)) {
    for (const h of names.taskHosts) hosts.add(h);
    for (const h of names.loadedNames) hosts.add(h);
    for (const h of names.labelTargets) hosts.add(h);
  }
  return hosts;
}

/**
 * The task hosts of an apps body without an IPv4 address, sorted: names `addresses` has none for,
 * and IPv6 addresses. Their tasks are left out (marathon-lb warns "Could not resolve ip for host").
 */
export function unresolvedTaskHosts(
  body: unknown,
  addresses: ReadonlyMap<string, string>,
  memo?: WeakMap<object, AppHostNames>,
): string[] {
  const missing = new Set<string>();
  for (const names of namesOfApps(body, memo)) {
    for (const h of names.taskHosts) if (!addresses.has(h)) missing.add(h);
    for (const h of names.ipv6TaskHosts) missing.add(h);
  }
  return [...missing].sort();
}

export function* namesOfApps(body: unknown, memo: WeakMap<object, AppHostNames> | undefined): Generator<AppHostNames> {
  const apps = (body as { apps?: unknown[] } | null)?.apps;
  if (!Array.isArray(apps)) return;
  for (const app of apps) {
    if (typeof app !== 'object' || app === null) continue;
    let names = memo?.get(app);
    if (names === undefined) {
      names = namesOf(app as Partial<MarathonApp>);
      memo?.set(app, names);
    }
    yield names;
  }
}

function namesOf(app: Partial<MarathonApp>): AppHostNames {
  const taskHosts: string[] = [];
  const ipv6TaskHosts: string[] = [];
  // IP-per-task apps are dialled at their tasks' container IPs: their agents are never looked up (as upstream).
  const tasks: readonly unknown[] = Array.isArray(app.tasks) && !dialsContainerIps(app) ? app.tasks : [];
  for (const task of tasks as readonly ({ host?: unknown } | null)[]) {
    if (typeof task?.host !== 'string') continue;
    // Only what could be a name: the model leaves any other host out, so it is never sent to DNS.
    if (isHostName(task.host))
      taskHosts.push(task.host); // no address is a host name
    else if (!isIPv4(task.host) && isIPv6(task.host) && ipv4MappedAddress(task.host) === undefined)
      ipv6TaskHosts.push(task.host);
  }
  // HAPROXY_{n}_BIND_ADDR and _BACKEND_NETWORK_ALLOWED_ACL host names: HAProxy resolves them when it loads the config.
  const loadedNames: string[] = [];
  const labelTargets: string[] = [];
  const labels = app.labels as unknown;
  if (typeof labels === 'object' && labels !== null) {
    for (const k in labels) {
      if (!Object.hasOwn(labels, k)) continue;
      const v: unknown = (labels as Record<string, unknown>)[k];
      if (typeof v !== 'string') continue;
      if (k.endsWith('_BIND_ADDR')) {
        const name = bindAddressWord(v.trim()); // as labels.ts reads it
        if (BIND_ADDR.test(k) && name !== null && isHostName(name)) loadedNames.push(name);
        continue;
      }
      if (k.endsWith('_BACKEND_NETWORK_ALLOWED_ACL')) {
        if (NETWORK_ALLOWED.test(k))
          for (const word of v.split(/[ \t]+/)) {
            const name = aclNetworkHost(word); // as labels.ts reads it
            if (name !== undefined) loadedNames.push(name);
          }
        continue;
      }
      const template = k.startsWith('HAPROXY_') ? PORT_TEMPLATE.exec(k)?.[1] : undefined;
      if (template !== undefined && TEMPLATE_LABEL_NAMES.has(template))
        labelTargets.push(...labelTargetNames(template, v));
    }
  }
  return { taskHosts, ipv6TaskHosts, loadedNames, labelTargets };
}

/** Whether the model routes the app's tasks at their container IPs (networkingMode), for a body not yet validated. */
function dialsContainerIps(app: Partial<MarathonApp>): boolean {
  try {
    return networkingMode(app as MarathonApp) === 'container';
  } catch {
    return false; // a malformed networks field: the app is left out by the model, naming it
  }
}

export function resolverFrom(known: ReadonlyMap<string, string>): (host: string) => string | undefined {
  // The map first: it holds names only, and a lookup costs less than isIPv4's regular expression.
  return (host) => known.get(host) ?? (isIPv4(host) ? host : ipv4MappedAddress(host));
}
