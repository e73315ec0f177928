import type * as Crypto from 'node:crypto';
import { lazyBuiltin } from '../lazyBuiltin';
import type { MarathonApp, MarathonPortMapping, MarathonTask } from '../marathon/types';
import type { PortHolders } from './types';

const crypto = lazyBuiltin<typeof Crypto>('node:crypto');

/** How a task is reached: the agent's ports (host), Docker bridge, or its own IP (container). */
export type NetworkingMode = 'host' | 'container' | 'container/bridge';

/** Host name → IPv4 address, or undefined when it does not resolve (marathon-lb: gethostbyname). */
export type ResolveHost = (host: string) => string | undefined;

/**
 * What a ResolveHost gives for a label's name (BIND_ADDR, NETWORK_ALLOWED_ACL, a template label's
 * server) not looked up yet or not answered yet (HostResolver): no address, nor one known to have
 * none. Never an address: the label checks refuse the name until it answers.
 */
export const LOOKUP_PENDING = 'lookup pending';

export function networkingMode(app: Pick<MarathonApp, 'ipAddress' | 'container' | 'networks'>): NetworkingMode {
  let mode: string = 'host';
  if (app.ipAddress) mode = 'container';
  const dockerNetwork = app.container?.docker?.network ?? '';
  if (dockerNetwork === 'USER') mode = 'container';
  else if (dockerNetwork === 'BRIDGE') mode = 'container/bridge';
  // Marathon 1.5+: modes cannot be mixed, so the last network's mode is the app's.
  for (const n of app.networks ?? []) mode = n.mode ?? 'container';
  return mode === 'host' || mode === 'container/bridge' ? mode : 'container';
}

function portMappings(app: MarathonApp): readonly MarathonPortMapping[] {
  const docker = app.container?.docker?.portMappings ?? [];
  return docker.length > 0 ? docker : (app.container?.portMappings ?? []);
}

const definitionPorts = (app: MarathonApp): number[] =>
  (app.portDefinitions ?? []).flatMap((p) => (typeof p.port === 'number' ? [p.port] : []));

const mappingContainerPorts = (app: MarathonApp): number[] =>
  portMappings(app).flatMap((p) => (typeof p.containerPort === 'number' ? [p.containerPort] : []));

function discoveryPorts(app: MarathonApp): number[] {
  if (!app.ipAddress || Object.keys(app.ipAddress).length === 0) return [];
  return (app.ipAddress.discovery?.ports ?? []).flatMap((p) => (p.number === undefined ? [] : [Number(p.number)]));
}

/** The ports a task listens on, per service port index (marathon-lb's get_app_task_ports). */
function taskPorts(app: MarathonApp, task: MarathonTask, mode: NetworkingMode): readonly number[] {
  return taskPortsOf(app, mode)(task);
}

/** taskPorts for every task of one app, with the app-level fallbacks computed once. */
export function taskPortsOf(app: MarathonApp, mode: NetworkingMode): (task: MarathonTask) => readonly number[] {
  let fallback: readonly number[] | undefined;
  const appPorts = (): readonly number[] => {
    if (fallback !== undefined) return fallback;
    if (mode === 'host') return (fallback = definitionPorts(app));
    if (mode === 'container/bridge') {
      const defined = definitionPorts(app); // Marathon < 1.5 only
      return (fallback = defined.length > 0 ? defined : mappingContainerPorts(app));
    }
    const discovered = discoveryPorts(app);
    return (fallback = discovered.length > 0 ? discovered : mappingContainerPorts(app));
  };
  return (task) => {
    const own = task.ports ?? [];
    return mode !== 'container' && own.length > 0 ? own : appPorts();
  };
}

/** The address HAProxy dials: the task's own IP (container) or the agent's resolved address. */
export function taskIp(task: MarathonTask, mode: NetworkingMode, resolve: ResolveHost): string | undefined {
  if (mode === 'container') {
    const ip = task.ipAddresses?.[0]?.ipAddress ?? '';
    return ip === '' ? undefined : ip;
  }
  const host = task.host ?? '';
  return host === '' ? undefined : resolve(host);
}

/** The service ports the app itself declares (port mappings, port definitions, ports). */
function declaredServicePorts(app: MarathonApp, mode: NetworkingMode): readonly number[] {
  if (mode === 'container' || mode === 'container/bridge') {
    const mapped = portMappings(app).flatMap((p) =>
      p.servicePort === undefined || p.servicePort === null ? [] : [p.servicePort],
    );
    if (mapped.length > 0) return mapped;
  }
  return app.portDefinitions !== undefined ? definitionPorts(app) : (app.ports ?? []);
}

/**
 * Marathon gives IP-per-task apps no service ports (marathon#3636): marathon-lb assigns
 * deterministic ones from a range by hashing the app id and task port, in the order apps are
 * processed. Beyond upstream, a port stays with the app that holds it in the config HAProxy runs
 * (`holders`): a newly deployed app whose id sorts first, or whose hash lands on it, takes another.
 */
export class ServicePortAssigner {
  private readonly byApp = new Map<string, number>();
  private readonly taken = new Set<number>();
  /** Ports of the range the running config serves, by the app (in this snapshot) that holds each. */
  private readonly heldBy = new Map<number, string>();
  private readonly holding = new Set<string>();
  private reserved = false;

  /**
   * `apps`: the snapshot's apps. The ports the selected ones (`groups`, as --group) with tasks
   * declare, or choose with a `HAPROXY_{n}_PORT` label, are never assigned (upstream would bind two
   * frontends on one port and HAProxy would split the traffic between two apps); read at the first
   * assignment only. Ports an app never binds (another group's, an app without tasks, a port index
   * it does not have) are not taken from the range.
   */
  constructor(
    private readonly range: { readonly min: number; readonly max: number } | null,
    private readonly apps: readonly MarathonApp[] = [],
    private readonly context: { readonly groups?: readonly string[]; readonly holders?: PortHolders } = {},
  ) {}

  servicePorts(app: MarathonApp, mode: NetworkingMode): readonly (number | null)[] {
    const ports = declaredServicePorts(app, mode);
    const first = app.tasks[0];
    if (ports.length === 0 && mode === 'container' && this.range !== null && first !== undefined) {
      return taskPorts(app, first, mode).map((p) => this.assign(app.id, p));
    }
    return ports;
  }

  /** Whether servicePorts assigns ports to this app (its ports then depend on the apps before it). */
  assigns(app: MarathonApp, mode: NetworkingMode): boolean {
    return (
      mode === 'container' &&
      this.range !== null &&
      app.tasks.length > 0 &&
      declaredServicePorts(app, mode).length === 0
    );
  }

  private assign(appId: string, taskPort: number): number | null {
    const key = `${appId}\u0000${taskPort}`;
    const known = this.byApp.get(key);
    if (known !== undefined) return known;
    const range = this.range!;
    if (!this.reserved) this.reserveOthers(range);
    const size = range.max - range.min + 1;
    const free = (p: number): boolean => !this.taken.has(p) && (this.heldBy.get(p) ?? appId) === appId;
    const trial = (i: number): number => {
      const hash = crypto().createHash('sha1').update(`${appId}-${taskPort}-${i}`).digest('hex');
      return range.min + (parseInt(hash.slice(0, 8), 16) % size);
    };
    // A port it holds comes first (among its 50 trials); then upstream's: the first free trial, else
    // the lowest free port. Only an app holding ports hashes all 50.
    let port: number | undefined;
    if (this.holding.has(appId))
      for (let i = 0; i < 50 && port === undefined; i++) {
        const p = trial(i);
        if (free(p) && this.heldBy.get(p) === appId) port = p;
      }
    for (let i = 0; i < 50 && port === undefined; i++) {
      const p = trial(i);
      if (free(p)) port = p;
    }
    for (let p = range.min; port === undefined && p <= range.max; p++) if (free(p)) port = p;
    if (port === undefined) return null; // exhausted: upstream logs and skips the port
    this.byApp.set(key, port);
    this.taken.add(port);
    return port;
  }

  private reserveOthers(range: { readonly min: number; readonly max: number }): void {
    this.reserved = true;
    const inRange = (p: number): boolean => p >= range.min && p <= range.max;
    const groups = this.context.groups ?? ['*'];
    const byBackendPrefix = new Map<string, string>();
    for (const app of this.apps) {
      if (app.tasks.length === 0) continue; // no server, no frontend
      const mode = networkingMode(app);
      const declared = declaredServicePorts(app, mode);
      const count = declared.length > 0 ? declared.length : taskPorts(app, app.tasks[0]!, mode).length;
      const appGroups = app.labels['HAPROXY_GROUP']?.split(',') ?? [];
      for (let i = 0; i < count; i++) {
        const own = app.labels[`HAPROXY_${i}_GROUP`]?.split(',');
        const selected = groups.includes('*') || (own ?? appGroups).some((g) => groups.includes(g));
        if (!selected) continue;
        const label = PORT_LABEL.exec(app.labels[`HAPROXY_${i}_PORT`] ?? '');
        const port = label !== null ? Number(label[1]) : declared[i];
        if (port !== undefined && inRange(port)) this.taken.add(port);
      }
      if (declared.length === 0) byBackendPrefix.set(`${app.id.slice(1).replaceAll('/', '_')}_`, app.id);
    }
    // The ports assigned apps hold; a backend is named `<app id>_<service port>` (services.ts).
    for (const [port, backends] of this.context.holders ?? []) {
      if (!inRange(port)) continue;
      for (const backend of backends) {
        const owner = byBackendPrefix.get(backend.slice(0, backend.length - String(port).length));
        if (owner === undefined || !backend.endsWith(`_${port}`)) continue;
        this.heldBy.set(port, owner);
        this.holding.add(owner);
      }
    }
  }
}

/** A HAPROXY_{n}_PORT value as the label reader takes it (labels.ts: an integer, blanks around). */
const PORT_LABEL = /^\s*\+?(\d{1,15})\s*$/;
