import { pythonInt } from '../model/pythonInt';
import type { MarathonApp } from '../marathon/types';
import { fail, type ZddFailure } from './errors';
import { ok, type Result } from '../result';

/** A JSON object as read from a file or Marathon (nulls already dropped by cleanupJson). */
export type JsonObject = { readonly [key: string]: unknown };

/** An app as Marathon returns it, with the fields zdd reads checked; everything else is kept as is. */
export interface ZddApp extends MarathonApp {
  readonly instances: number;
  readonly deployments: readonly unknown[];
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** zdd.py's cleanup_json: object members whose value is null are dropped, recursively. */
export function cleanupJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cleanupJson);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = cleanupJson(x);
  return out;
}

/** A label value as text: Marathon's are strings; upstream's tests also hand numbers. */
const text = (x: unknown): string =>
  typeof x === 'string' ? x : typeof x === 'number' || typeof x === 'boolean' ? String(x) : JSON.stringify(x);

function labelsOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = text(x);
  return out;
}

/** Parses one app of Marathon's answer (`where` names it in the message). */
export function parseApp(v: unknown, where: string): Result<ZddApp, ZddFailure> {
  const c = cleanupJson(v);
  if (!isObject(c) || typeof c['id'] !== 'string')
    return fail('marathon-endpoint', `${where}: not a Marathon app (no "id")`);
  // Marathon always states it: an answer without it is not an app (found by an attack: `{"app":
  // {"id": …}}` was an app of 0 instances, and zdd waited on it to --max-wait without a word).
  const instances = Number(c['instances'] ?? Number.NaN);
  if (!Number.isInteger(instances) || instances < 0)
    return fail('marathon-endpoint', `${where}: app ${c['id']} has no integer "instances"`);
  const tasks = Array.isArray(c['tasks']) ? c['tasks'].filter(isObject).filter((t) => typeof t['id'] === 'string') : [];
  const deployments = Array.isArray(c['deployments']) ? c['deployments'] : [];
  return ok({
    ...c,
    id: c['id'],
    instances,
    labels: labelsOf(c['labels']),
    tasks: tasks as unknown as ZddApp['tasks'],
    deployments,
  });
}

export const label = (app: { readonly labels?: unknown }, name: string): string | undefined =>
  isObject(app.labels) && app.labels[name] !== undefined ? text(app.labels[name]) : undefined;

/** HAPROXY_DEPLOYMENT_GROUP, the name blue and green share. */
export const deploymentGroup = (app: { readonly labels?: unknown }): string | undefined =>
  label(app, 'HAPROXY_DEPLOYMENT_GROUP');

const intLabel = (app: ZddApp, name: string): number | undefined => {
  const v = label(app, name);
  return v === undefined ? undefined : pythonInt(v);
};

/** HAPROXY_DEPLOYMENT_TARGET_INSTANCES, else the app's instances. */
export const deploymentTarget = (app: ZddApp): number =>
  intLabel(app, 'HAPROXY_DEPLOYMENT_TARGET_INSTANCES') ?? app.instances;

/** HAPROXY_DEPLOYMENT_NEW_INSTANCES (a hybrid deploy's share of new instances), else 0. */
export const newInstanceCount = (app: ZddApp): number => intLabel(app, 'HAPROXY_DEPLOYMENT_NEW_INSTANCES') ?? 0;

/** The HAProxy backend blue and green share: `<group>_<HAPROXY_0_PORT>`. */
export const deploymentBackend = (app: ZddApp): string =>
  `${deploymentGroup(app) ?? ''}_${label(app, 'HAPROXY_0_PORT') ?? ''}`;

/** zdd.py's validate_app, on the definition read from --json. */
export function validateApp(app: JsonObject): Result<JsonObject, ZddFailure> {
  if (typeof app['id'] !== 'string' || app['id'] === '')
    return fail('missing-field', "App doesn't contain a valid App ID (missing field: id)");
  if (!isObject(app['labels']))
    return fail('missing-field', `${app['id']}: No labels found. Please define the HAPROXY_DEPLOYMENT_GROUP label`);
  for (const name of ['HAPROXY_DEPLOYMENT_GROUP', 'HAPROXY_DEPLOYMENT_ALT_PORT']) {
    if (app['labels'][name] === undefined)
      return fail('missing-field', `${app['id']}: Please define the ${name} label`);
  }
  return ok(app);
}

const objects = (v: unknown): readonly JsonObject[] => (Array.isArray(v) ? v.filter(isObject) : []);
const child = (o: unknown, key: string): JsonObject => (isObject(o) && isObject(o[key]) ? o[key] : {});

/** Docker's portMappings (Marathon < 1.5), else the container's. */
function portMappings(app: JsonObject): readonly JsonObject[] {
  const docker = objects(child(child(app, 'container'), 'docker')['portMappings']);
  return docker.length > 0 ? docker : objects(child(app, 'container')['portMappings']);
}

/** The first service port: portMappings, then portDefinitions, then ports (zdd.py's get_service_port). */
export function servicePort(app: JsonObject): Result<number, ZddFailure> {
  // The field read is named when it holds no port (an audit: a servicePort "xyz" was reported as a bad
  // HAPROXY_DEPLOYMENT_ALT_PORT or HAPROXY_0_PORT).
  const port = (v: unknown, field: string): Result<number, ZddFailure> => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d{1,5}\s*$/.test(v) ? Number(v) : NaN;
    return Number.isInteger(n) && n >= 0 && n <= 65535
      ? ok(n)
      : fail('missing-field', `${String(app['id'])}: ${field} ${JSON.stringify(v) ?? String(v)} is not a port number`);
  };
  const mapped = portMappings(app)[0]?.['servicePort'];
  if (mapped !== undefined && Number(mapped) !== 0) return port(mapped, "the first port mapping's servicePort");
  // Upstream reads portDefinitions through a typo (a crash); the intended field is used here.
  const defined = objects(app['portDefinitions'])[0]?.['port'];
  if (defined !== undefined && Number(defined) !== 0) return port(defined, 'portDefinitions[0].port');
  const ports = Array.isArray(app['ports']) ? app['ports'] : [];
  if (ports.length > 0) return port(ports[0], 'ports[0]');
  return fail(
    'missing-field',
    `${String(app['id'])}: App doesn't contain a service port (missing field: container.portMappings)`,
  );
}

/** A copy of `app` whose first service port is `port`, in the same place servicePort read it from. */
export function withServicePort(app: JsonObject, port: number): JsonObject {
  const setFirst = (list: readonly JsonObject[], key: string): JsonObject[] =>
    list.map((m, i) => (i === 0 ? { ...m, [key]: port } : m));
  const container = child(app, 'container');
  const docker = child(container, 'docker');
  if (objects(docker['portMappings']).length > 0) {
    return {
      ...app,
      container: {
        ...container,
        docker: { ...docker, portMappings: setFirst(objects(docker['portMappings']), 'servicePort') },
      },
    };
  }
  if (objects(container['portMappings']).length > 0) {
    return {
      ...app,
      container: { ...container, portMappings: setFirst(objects(container['portMappings']), 'servicePort') },
    };
  }
  if (objects(app['portDefinitions']).length > 0)
    return { ...app, portDefinitions: setFirst(objects(app['portDefinitions']), 'port') };
  const ports: readonly unknown[] = Array.isArray(app['ports']) ? (app['ports'] as unknown[]) : [];
  return { ...app, ports: [port, ...ports.slice(1)] };
}
