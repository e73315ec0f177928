import type { MarathonApp, MarathonPortMapping } from '../marathon/types';
import type { ResolveHost } from './networking';

/**
 * What toModel read for one app: the app (as parseAppsJson handed it over) and what it looked up
 * outside the app for it (resolved task hosts, remembered health verdicts). Another app with the
 * same inputs (sameInputs) gives the same services, problems and observed health under the same
 * options, so a controller re-reading an unchanged app reuses what it built last time.
 *
 * The comparison is field by field on what the model reads (a freshly parsed equal body hits as
 * well), skipped for the very object compared last time; what was looked up outside it is always compared. It allocates nothing on a hit, so a snapshot of 5 000 unchanged
 * apps costs a walk over them. The previous snapshot's apps are held anyway by the controller's
 * applied state (for the event fast path).
 *
 * Keep in step with services.ts, networking.ts, labels.ts and healthChecks.ts: a field they start
 * to read must be compared here (test/unit/appMemo.test.ts renders changed snapshots warm and cold).
 */
export interface AppInputs {
  readonly app: MarathonApp;
  /** resolve(host) of each task, by index. */
  readonly resolved: readonly (string | undefined)[];
  /** With --health-check and health checks: remembered verdict of each task without results, by index. */
  readonly remembered: readonly (boolean | undefined)[] | null;
}

/**
 * Whether the app can be reused at all: false when its result depends on more than its inputs
 * (files named by labels, host names HAProxy resolves, deployment groups merged across apps).
 */
export function memoizable(app: MarathonApp): boolean {
  for (const name in app.labels) {
    if (
      name === 'HAPROXY_DEPLOYMENT_GROUP' ||
      name.endsWith('_SSL_CERT') ||
      name.endsWith('_BIND_OPTIONS') ||
      name.endsWith('_BIND_ADDR')
    )
      return false;
  }
  return true;
}

/** `app`'s inputs, to compare the next snapshot's app with. `health`: --health-check's remembered verdicts, else null. */
export function inputsOf(
  app: MarathonApp,
  resolve: ResolveHost,
  health: ReadonlyMap<string, boolean> | null,
): AppInputs {
  const checked = health !== null && (app.healthChecks?.length ?? 0) > 0;
  return {
    app,
    resolved: app.tasks.map((t) => (typeof t.host === 'string' && t.host !== '' ? resolve(t.host) : undefined)),
    remembered: checked
      ? app.tasks.map((t) => (t.healthCheckResults === undefined ? health.get(t.id) : undefined))
      : null,
  };
}

export function sameInputs(
  prev: AppInputs,
  app: MarathonApp,
  resolve: ResolveHost,
  health: ReadonlyMap<string, boolean> | null,
): boolean {
  const checked = health !== null && (app.healthChecks?.length ?? 0) > 0;
  if (checked !== (prev.remembered !== null)) return false;
  // The very same object: an app whose bytes did not change since the last answer (AppsBodyDecoder).
  if (prev.app !== app && !sameFields(prev.app, app, checked)) return false;
  const tasks = app.tasks;
  for (let t = 0; t < tasks.length; t++) {
    const y = tasks[t]!;
    const host = y.host;
    if ((typeof host === 'string' && host !== '' ? resolve(host) : undefined) !== prev.resolved[t]) return false;
    if (checked && y.healthCheckResults === undefined && health.get(y.id) !== prev.remembered![t]) return false;
  }
  return true;
}

/** The fields the model reads of an app and its tasks; with `checked`, also their health results. */
function sameFields(a: MarathonApp, app: MarathonApp, checked: boolean): boolean {
  if (a.id !== app.id || !sameLabels(a.labels, app.labels)) return false;
  if (!sameIpAddress(a.ipAddress, app.ipAddress)) return false;
  const ca = a.container;
  const cb = app.container;
  if (ca === undefined || ca === null || cb === undefined || cb === null) {
    if (ca !== cb) return false;
  } else if (
    ca.docker?.network !== cb.docker?.network ||
    !sameList(ca.docker?.portMappings, cb.docker?.portMappings, sameMapping) ||
    !sameList(ca.portMappings, cb.portMappings, sameMapping)
  )
    return false;
  if (!sameList(a.networks, app.networks, (x, y) => x.mode === y.mode)) return false;
  if (!sameList(a.portDefinitions, app.portDefinitions, (x, y) => x.port === y.port)) return false;
  if (!sameList(a.ports, app.ports, (x, y) => x === y)) return false;
  if (
    !sameList(
      a.healthChecks,
      app.healthChecks,
      (x, y) =>
        x.protocol === y.protocol &&
        x.path === y.path &&
        x.portIndex === y.portIndex &&
        x.port === y.port &&
        x.timeoutSeconds === y.timeoutSeconds &&
        x.intervalSeconds === y.intervalSeconds &&
        x.gracePeriodSeconds === y.gracePeriodSeconds &&
        x.maxConsecutiveFailures === y.maxConsecutiveFailures,
    )
  )
    return false;
  const ta = a.tasks;
  const tb = app.tasks;
  if (ta.length !== tb.length) return false;
  for (let t = 0; t < tb.length; t++) {
    const x = ta[t]!;
    const y = tb[t]!;
    if (x.host !== y.host || x.state !== y.state || (x.draining === true) !== (y.draining === true)) return false;
    if (x.ipAddresses?.[0]?.ipAddress !== y.ipAddresses?.[0]?.ipAddress) return false;
    if (!sameList(x.ports, y.ports, (p, q) => p === q)) return false;
    if (checked) {
      if (x.id !== y.id) return false;
      const rx = x.healthCheckResults;
      const ry = y.healthCheckResults;
      if ((rx === undefined) !== (ry === undefined)) return false;
      if (ry !== undefined && rx!.some((r) => r.alive === true) !== ry.some((r) => r.alive === true)) return false;
    }
  }
  return true;
}

/** Same names, values and order (labels are read in order). */
function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < kb.length; i++) {
    const k = kb[i]!;
    if (ka[i] !== k || a[k] !== b[k]) return false;
  }
  return true;
}

function sameIpAddress(a: MarathonApp['ipAddress'], b: MarathonApp['ipAddress']): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return a === b;
  if (Object.keys(a).length !== Object.keys(b).length) return false;
  const da = a.discovery;
  const db = b.discovery;
  // discovery is checked to be absent or an object; only its ports' numbers are read.
  return sameList(da?.ports, db?.ports, (x, y) => x.number === y.number) && (da === undefined) === (db === undefined);
}

const sameMapping = (x: MarathonPortMapping, y: MarathonPortMapping): boolean =>
  x.containerPort === y.containerPort && x.servicePort === y.servicePort;

/** Same length and items; undefined and null kept apart (the model tells them apart in places). */
function sameList<T>(
  a: readonly T[] | null | undefined,
  b: readonly T[] | null | undefined,
  same: (x: T, y: T) => boolean,
): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!same(a[i]!, b[i]!)) return false;
  return true;
}
