import { printable } from '../printable';
import { MAX_APP_ID_LENGTH } from './haproxyText';

/** The routing model: what HAProxy should serve. Plain readonly data, compared structurally. */

export type Mode = 'http' | 'tcp';

export interface HealthCheck {
  readonly protocol: string;
  readonly path: string;
  readonly portIndex: number | null;
  readonly port: number | null;
  readonly timeoutSeconds: number;
  readonly intervalSeconds: number;
  readonly gracePeriodSeconds: number;
  readonly maxConsecutiveFailures: number;
}

export interface Server {
  /** marathon-lb's server name: host_ip_port (or ip_port) with non-alphanumerics replaced. */
  readonly name: string;
  /** Stable HAProxy server id (1..32767) derived from the name. */
  readonly id: number;
  readonly host: string;
  readonly ip: string;
  readonly port: number;
  /** Old blue/green task being drained: rendered `disabled`. */
  readonly draining: boolean;
  /** Port the health check targets for this server, when a health check applies. */
  readonly healthCheckPort: number | null;
}

/**
 * One Marathon app service port = one HAProxy frontend + backend. Every string here has been
 * checked where it enters (src/model/appsJson.ts, labels.ts, healthChecks.ts) and is held in the
 * form it is printed in: no line breaks, quotes balanced, `$` inside double quotes escaped
 * (src/model/haproxyText.ts). Only `templateLabels` is raw HAProxy text, as marathon-lb defines it.
 */
export interface Service {
  readonly appId: string;
  /** Which of the app's service ports this is: the n of its HAPROXY_{n}_* labels. */
  readonly portIndex: number;
  readonly servicePort: number;
  /**
   * True when a `HAPROXY_{n}_PORT` label chose `servicePort` rather than Marathon: such
   * a port yields to an app Marathon gave it to (render.ts), whatever the app ids' order.
   */
  readonly servicePortFromLabel?: true | undefined;
  /** `<app id without leading slash, / → _>_<servicePort>` */
  readonly backend: string;
  readonly mode: Mode;
  readonly balance: string;
  readonly bindAddr: string;
  readonly bindOptions: string | null;
  readonly sslCert: string | null;
  readonly hostname: string | null;
  readonly path: string | null;
  readonly auth: { readonly realm: string; readonly user: string; readonly passwd: string } | null;
  readonly sticky: boolean;
  readonly redirectHttpToHttps: boolean;
  readonly useHsts: boolean;
  readonly backendWeight: number;
  readonly networkAllowed: string | null;
  readonly proxyPath: string | null;
  readonly revProxyPath: string | null;
  readonly redirPath: string | null;
  readonly healthCheck: HealthCheck | null;
  /** `{healthCheckPort}` of the backend-level health check options (the first server's check port). */
  readonly backendCheckPort: number | null;
  /**
   * The apps of the HAPROXY_DEPLOYMENT_GROUP served as this one app (appId is the group's), in
   * merge order; undefined for an app outside groups. Problems of the service name them.
   */
  readonly deploymentMembers?: readonly string[] | undefined;
  /** Per-app template overrides from `HAPROXY_{n}_<TEMPLATE>` labels, keyed by template name. */
  readonly templateLabels: Readonly<Record<string, string>>;
  readonly servers: readonly Server[];
}

/** An app (or one of its service ports) left out of the config, with the reason a user can act on. */
export interface Problem {
  readonly appId: string;
  readonly portIndex: number | null;
  readonly label: string | null;
  readonly message: string;
}

export interface Model {
  /** Sorted by (appId, servicePort); only services in the selected groups, enabled, with servers. */
  readonly services: readonly Service[];
  readonly problems: readonly Problem[];
}

/**
 * The backends serving each service port in the config HAProxy runs now (portHoldersOf; more than
 * one on different bind addresses). Two apps claim one port: the one already served keeps it, so a
 * newly deployed app cannot take a port from a serving one by an id that sorts first. A controller's
 * first apply takes them from the config file it finds (portHoldersInConfig); without one (`--dry`, a
 * first start) the first by app id keeps it.
 * IP-per-task apps keep their assigned ports by them too (networking.ts).
 */
export type PortHolders = ReadonlyMap<number, readonly string[]>;

/** A `HAPROXY_{n}_*` label name as the app writes it for this service (`HAPROXY_0_VHOST`). */
export function serviceLabel(svc: Pick<Service, 'portIndex'>, label: string): string;
export function serviceLabel(svc: Pick<Service, 'portIndex'>, label: string | null): string | null;
export function serviceLabel(svc: Pick<Service, 'portIndex'>, label: string | null): string | null {
  return label === null ? null : label.replace('{n}', String(svc.portIndex));
}

export function describeProblem(p: Problem): string {
  const where = p.portIndex === null ? '' : ` port index ${p.portIndex}`;
  // A problem names a HAPROXY_* label, or else a field of the app's JSON (id, tasks[0].host, labels.X, …).
  const kind = p.label?.startsWith('HAPROXY_') === true ? 'label' : 'field';
  const label = p.label === null ? '' : ` ${kind} ${printable(cut(p.label, SHOWN_LABEL_LENGTH))}`;
  return `app ${printable(cut(p.appId, SHOWN_ID_LENGTH))}${where}${label}: ${printable(p.message)}`;
}

/**
 * Text from Marathon as a message shows it: an app id too long to route, or a label name of any
 * length, is cut (one line of the log, not 100 kB of it), and printable() keeps it to one line.
 */
function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
const SHOWN_ID_LENGTH = MAX_APP_ID_LENGTH; // every routable id is shown whole
const SHOWN_LABEL_LENGTH = 256;

/** How a problem that left out some of an app's tasks ends: how many, and that the rest are served. */
export const tasksLeftOut = (count: number): string =>
  `${count === 1 ? 'that task is' : `${count} such tasks are`} left out, the app's other tasks are served`;
