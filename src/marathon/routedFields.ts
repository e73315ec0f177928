/**
 * What routing reads of a Marathon app and its tasks: the fields of MarathonApp and MarathonTask
 * (types.ts), and the readiness fields readiness.ts reads. The rest of an app of
 * `/v2/apps?embed=apps.tasks` is most of it: a task's health check history, agent id and
 * timestamps, an app's container image, volumes and strategies. For the 5 000-app bench file the
 * parsed apps are 34 MB of objects, 11 MB of them routed. An app cut down to these fields renders
 * exactly as the whole app does (test/property/routed-fields.test.ts), so a process that reads
 * apps only to route them keeps these.
 *
 * Values are kept as they are, wrong types and nulls included (parseAppsJson reports them the same
 * way), and a key that is absent stays absent. Keep in step with appKey.ts's sameFields: a field the
 * model starts to read must be kept here too.
 *
 * The fields are data (RoutedShape), read by routedApp below from parsed JSON and by routedJson.ts
 * straight from an answer's bytes.
 */

/** The routed keys of an object, in the order the cut-down object has them. */
export interface RoutedShape {
  readonly fields: readonly RoutedField[];
}

/**
 * One routed key and what of its value is kept: all of it (`value`); the routed keys of an object
 * (`object`); or of each object in an array (`items`). A value of another type than the one
 * named is kept whole.
 */
export type RoutedField =
  | { readonly key: string; readonly kind: 'value' }
  | { readonly key: string; readonly kind: 'object' | 'items'; readonly shape: RoutedShape };

const values = (...keys: readonly string[]): RoutedField[] => keys.map((key) => ({ key, kind: 'value' }));
const shape = (...fields: readonly RoutedField[]): RoutedShape => ({ fields });

/** Whether a task's health check passed is all that is read of each result (healthChecks.ts). */
const HEALTH_CHECK_RESULT = shape(...values('alive'));
const TASK = shape(...values('id', 'host', 'state', 'ports', 'ipAddresses', 'startedAt', 'version', 'draining'), {
  key: 'healthCheckResults',
  kind: 'items',
  shape: HEALTH_CHECK_RESULT,
});
const CONTAINER = shape(...values('portMappings'), {
  key: 'docker',
  kind: 'object',
  shape: shape(...values('network', 'portMappings')),
});

export const ROUTED_APP: RoutedShape = shape(
  ...values(
    'id',
    'labels',
    'instances',
    'ports',
    'portDefinitions',
    'healthChecks',
    'ipAddress',
    'networks',
    'deployments',
    'readinessChecks',
    'readinessCheckResults',
    'version',
  ),
  { key: 'tasks', kind: 'items', shape: TASK },
  { key: 'container', kind: 'object', shape: CONTAINER },
  { key: 'versionInfo', kind: 'object', shape: shape(...values('lastScalingAt')) },
);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `v` cut down to `s` when it is an object; anything else as it is. */
function cut(v: unknown, s: RoutedShape): unknown {
  if (!isObject(v)) return v;
  const out: Json = {};
  for (const f of s.fields) {
    if (!Object.hasOwn(v, f.key)) continue;
    const x = v[f.key];
    out[f.key] =
      f.kind === 'value' ? x : f.kind === 'object' ? cut(x, f.shape) : Array.isArray(x) ? cutItems(x, f.shape) : x;
  }
  return out;
}

function cutItems(xs: readonly unknown[], s: RoutedShape): unknown[] {
  const out = new Array<unknown>(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = cut(xs[i], s);
  return out;
}

/** The app with only what routing reads; anything but an object as it is. */
export const routedApp = (app: unknown): unknown => cut(app, ROUTED_APP);

/** A `/v2/apps` body with its apps cut down by routedApp; any other shape as it is. */
export function routedBody(body: unknown): unknown {
  if (!isObject(body) || !Array.isArray(body['apps'])) return body;
  return { ...body, apps: body['apps'].map(routedApp) };
}
