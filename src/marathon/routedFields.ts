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
 */
const APP_KEYS = [
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
] as const;
const TASK_KEYS = ['id', 'host', 'state', 'ports', 'ipAddresses', 'startedAt', 'version', 'draining'] as const;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function pick(from: Json, keys: readonly string[], into: Json = {}): Json {
  for (const k of keys) if (Object.hasOwn(from, k)) into[k] = from[k];
  return into;
}

/** `v`'s routed keys when it is an object; anything else as it is. */
const picked = (v: unknown, keys: readonly string[]): unknown => (isObject(v) ? pick(v, keys) : v);

/** Whether a task's health check passed is all that is read of each result (healthChecks.ts). */
const routedResult = (r: unknown): unknown => picked(r, ['alive']);

function routedTask(task: unknown): unknown {
  if (!isObject(task)) return task;
  const out = pick(task, TASK_KEYS);
  if (Object.hasOwn(task, 'healthCheckResults')) {
    const results = task['healthCheckResults'];
    out['healthCheckResults'] = Array.isArray(results) ? results.map(routedResult) : results;
  }
  return out;
}

function routedContainer(container: unknown): unknown {
  if (!isObject(container)) return container;
  const out = pick(container, ['portMappings']);
  if (Object.hasOwn(container, 'docker')) out['docker'] = picked(container['docker'], ['network', 'portMappings']);
  return out;
}

/** The app with only what routing reads; anything but an object as it is. */
export function routedApp(app: unknown): unknown {
  if (!isObject(app)) return app;
  const out = pick(app, APP_KEYS);
  if (Object.hasOwn(app, 'tasks')) {
    const tasks = app['tasks'];
    out['tasks'] = Array.isArray(tasks) ? tasks.map(routedTask) : tasks;
  }
  if (Object.hasOwn(app, 'container')) out['container'] = routedContainer(app['container']);
  if (Object.hasOwn(app, 'versionInfo')) out['versionInfo'] = picked(app['versionInfo'], ['lastScalingAt']);
  return out;
}

/** A `/v2/apps` body with its apps cut down by routedApp; any other shape as it is. */
export function routedBody(body: unknown): unknown {
  if (!isObject(body) || !Array.isArray(body['apps'])) return body;
  return { ...body, apps: body['apps'].map(routedApp) };
}
