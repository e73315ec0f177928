import { pythonInt } from '../model/pythonInt';
import { deploymentGroup, label, servicePort, withServicePort, type JsonObject, type ZddApp } from './app';
import { fail, type ZddFailure } from './errors';
import { ok, type Result } from '../result';

/**
 * Choosing the next colour: the pure part of zdd.py's prepare_deploy. The deploy newest by
 * HAPROXY_DEPLOYMENT_STARTED_AT is the current one; the new app gets the other colour, the other
 * service port (HAPROXY_DEPLOYMENT_ALT_PORT or back to HAPROXY_0_PORT), the labels marathon-lb
 * merges blue and green by, and a first number of instances.
 */

export const nextColour = (app: { readonly labels?: unknown }): 'blue' | 'green' =>
  label(app, 'HAPROXY_DEPLOYMENT_COLOUR') === 'blue' ? 'green' : 'blue';

/**
 * The alternate port, unless the current deploy already runs on it (then HAPROXY_0_PORT). zdd.py
 * reads only the legacy `ports` field, which Marathon 1.5+ may leave out (then both colours would
 * take the alternate port): without it, the deploy's own first service port is read.
 */
export function nextPort(current: ZddApp): number {
  const alt = pythonInt(label(current, 'HAPROXY_DEPLOYMENT_ALT_PORT') ?? '');
  const legacy = Array.isArray(current.ports) && current.ports.length > 0 ? Number(current.ports[0]) : undefined;
  const own = servicePort(current);
  const first = legacy ?? (own.ok ? own.value : undefined);
  if (first === alt) return pythonInt(label(current, 'HAPROXY_0_PORT') ?? '');
  return alt;
}

/** Oldest first by HAPROXY_DEPLOYMENT_STARTED_AT (missing: "0"), stable like Python's sorted. */
export const sortDeploys = <A extends ZddApp>(apps: readonly A[]): A[] =>
  [...apps].sort((a, b) => {
    const x = label(a, 'HAPROXY_DEPLOYMENT_STARTED_AT') ?? '0';
    const y = label(b, 'HAPROXY_DEPLOYMENT_STARTED_AT') ?? '0';
    return x < y ? -1 : x > y ? 1 : 0;
  });

export const lastDeploy = <A extends ZddApp>(apps: readonly A[]): A | undefined => sortDeploys(apps).at(-1);

/** [newest, the one before]: a stuck or hybrid deploy's new and old app. */
export function lastTwoDeploys<A extends ZddApp>(apps: readonly A[]): readonly [A, A] | undefined {
  const sorted = sortDeploys(apps);
  return sorted.length < 2 ? undefined : [sorted[sorted.length - 1]!, sorted[sorted.length - 2]!];
}

/** The apps of `app`'s deployment group. */
export const previousDeploys = (apps: readonly ZddApp[], app: JsonObject): ZddApp[] =>
  apps.filter((a) => deploymentGroup(a) === deploymentGroup(app));

/** Python's datetime.now().isoformat(): local time, microseconds, no zone. */
export function isoLocal(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds() * 1000, 6)}`;
}

export interface PrepareFlags {
  readonly initialInstances: number;
  readonly newInstances: number;
}

/** The definition to POST: `app` (from --json) as the next colour of `previous` (may be empty). */
export function prepareDeploy(
  flags: PrepareFlags,
  previous: readonly ZddApp[],
  app: JsonObject,
  now: Date,
): Result<JsonObject, ZddFailure> {
  const frontPort = servicePort(app);
  if (!frontPort.ok) return frontPort;
  const current = lastDeploy(previous);
  let colour: 'blue' | 'green' = 'blue';
  let port = frontPort.value;
  const asked = app['instances'] ?? 1;
  // zdd.py sent any value on, and Marathon refused it once the deploy had begun; NaN went as null.
  if (current === undefined && !(typeof asked === 'number' && Number.isSafeInteger(asked) && asked >= 0))
    return fail(
      'missing-field',
      `${String(app['id'])}: "instances" must be a whole number of instances, not ${typeof asked === 'number' ? String(asked) : JSON.stringify(asked)}`,
    );
  let target = Number(asked);
  let instances = target;
  let newInstances = 0;
  if (current !== undefined) {
    colour = nextColour(current);
    port = nextPort(current);
    target = current.instances;
    // A hybrid deploy never asks for more new instances than there are now.
    newInstances = Math.min(flags.newInstances, target);
    const cap = newInstances > 0 ? newInstances : target;
    instances = Math.min(flags.initialInstances, cap);
  }
  if (!Number.isFinite(port))
    return fail(
      'missing-field',
      `${String(app['id'])}: HAPROXY_DEPLOYMENT_ALT_PORT or HAPROXY_0_PORT is not a port number`,
    );
  const id = `${String(app['id'])}-${colour}`;
  const labels = app['labels'] as JsonObject;
  const next: JsonObject = {
    ...app,
    id: id.startsWith('/') ? id : `/${id}`,
    instances,
    labels: {
      ...labels,
      HAPROXY_APP_ID: app['id'],
      HAPROXY_0_PORT: String(frontPort.value),
      HAPROXY_DEPLOYMENT_NEW_INSTANCES: String(newInstances),
      HAPROXY_DEPLOYMENT_TARGET_INSTANCES: String(target),
      HAPROXY_DEPLOYMENT_COLOUR: colour,
      HAPROXY_DEPLOYMENT_STARTED_AT: isoLocal(now),
    },
  };
  return ok(withServicePort(next, port));
}
