/**
 * `check-labels` input: one Marathon app definition, as given to `dcos marathon app add` — no
 * tasks, service ports often 0 (Marathon assigns them at deploy time), host ports often 0 (Mesos
 * picks them). The model reads `/v2/apps?embed=apps.tasks` apps, so this makes one: the service
 * ports Marathon would assign are stood in for by 10000, 10001, … (the first of Marathon's range),
 * and each instance (at most three) becomes a running, healthy task on its own loopback address
 * with the host ports Mesos would give. Each stand-in is reported as a note. Pure.
 */
import { networkingMode } from '../model/networking';
import type { MarathonApp } from '../marathon/types';
import { err, ok, type Result } from '../result';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const objects = (v: unknown): Obj[] | undefined => (Array.isArray(v) && v.every(isObject) ? v : undefined);
const unset = (v: unknown): boolean => v === undefined || v === null || v === 0;

/** First stand-in service port (Marathon's default --local_port_min) and host port (Mesos' default range). */
const FIRST_SERVICE_PORT = 10000;
const FIRST_HOST_PORT = 31000;
/** Tasks made for an app: enough for several servers, few enough for a quick haproxy -c. */
const MAX_TASKS = 3;

/** The app as Marathon would serve it, and what was assumed to make it so. */
interface MadeApp {
  readonly app: Obj;
  readonly notes: readonly string[];
}

export type Definition = Result<MadeApp>;

/** The app definition in `input` as a `/v2/apps?embed=apps.tasks` app, or why it is none. */
export function appFromDefinition(input: unknown): Definition {
  const notes: string[] = [];
  let def = input;
  // GET /v2/apps/<id> answers {"app": {...}}.
  if (isObject(def) && Object.keys(def).length === 1 && isObject(def['app'])) def = def['app'];
  if (!isObject(def)) return err('expected one Marathon app definition (a JSON object with an "id")');
  if (Array.isArray(def['apps']) || Array.isArray(def['groups'])) {
    const n = Array.isArray(def['apps']) ? def['apps'].length : 0;
    return err(
      `this is a group or app list (${n} app(s) in "apps"), not one app definition: check each app, e.g. jq '.apps[0]' FILE | marathon-lb check-labels --app-file -`,
    );
  }
  if (typeof def['id'] !== 'string' || def['id'].trim() === '') return err('the app definition has no "id" string');
  const id = def['id'].startsWith('/') ? def['id'] : `/${def['id']}`; // Marathon makes relative ids absolute
  if (def['tasks'] !== undefined)
    notes.push('the "tasks" in the input are ignored: tasks are made up from "instances"');

  const app: Obj = { ...def, id };
  if (app['labels'] === undefined || app['labels'] === null) app['labels'] = {};
  const servicePort = (at: string, i: number, given: unknown): unknown => {
    if (!unset(given)) return given;
    const port = FIRST_SERVICE_PORT + i;
    notes.push(`${at} has no service port (Marathon assigns one at deploy time): checked as ${port}`);
    return port;
  };

  // No ports at all on host networking: Marathon gives the app one (`$PORT0` is always there).
  if (app['portDefinitions'] == null && app['ports'] == null && modeOf(app) === 'host') {
    app['portDefinitions'] = [{ port: 0, protocol: 'tcp' }];
    notes.push(
      'the definition declares no ports: Marathon gives an app on host networking one by default (portDefinitions [{"port": 0}])',
    );
  }
  // Service ports, where the definition leaves them to Marathon.
  const defs = objects(app['portDefinitions']);
  if (defs !== undefined)
    app['portDefinitions'] = defs.map((d, i) => ({ ...d, port: servicePort(`portDefinitions[${i}]`, i, d['port']) }));
  const legacyPorts = app['ports'];
  if (Array.isArray(legacyPorts) && legacyPorts.every((p) => typeof p === 'number')) {
    app['ports'] = legacyPorts.map((p: number, i) => servicePort(`ports[${i}]`, i, p));
  }
  const container = isObject(app['container']) ? { ...app['container'] } : undefined;
  const docker = container !== undefined && isObject(container['docker']) ? { ...container['docker'] } : undefined;
  // A bridged app without port mappings gets one from Marathon, with a host port (applyDefaultPortMappings).
  if (
    container !== undefined &&
    container['portMappings'] == null &&
    (docker === undefined || docker['portMappings'] == null) &&
    modeOf(app) === 'container/bridge'
  ) {
    container['portMappings'] = [{ containerPort: 0, hostPort: 0, protocol: 'tcp' }];
    notes.push(
      'the definition declares no port mappings: Marathon gives an app on bridge networking one by default (portMappings [{"containerPort": 0, "hostPort": 0}])',
    );
  }
  const withServicePorts = (mappings: Obj[], at: string): Obj[] =>
    mappings.map((m, i) => ({ ...m, servicePort: servicePort(`${at}[${i}]`, i, m['servicePort']) }));
  const dockerMappings = docker !== undefined ? objects(docker['portMappings']) : undefined;
  if (docker !== undefined && dockerMappings !== undefined && dockerMappings.length > 0) {
    docker['portMappings'] = withServicePorts(dockerMappings, 'container.docker.portMappings');
  }
  const mappings = container !== undefined ? objects(container['portMappings']) : undefined;
  if (
    container !== undefined &&
    mappings !== undefined &&
    (dockerMappings === undefined || dockerMappings.length === 0)
  ) {
    container['portMappings'] = withServicePorts(mappings, 'container.portMappings');
  }
  if (container !== undefined) {
    if (docker !== undefined) container['docker'] = docker;
    app['container'] = container;
  }

  const instances = typeof app['instances'] === 'number' ? app['instances'] : 1;
  if (instances < 1)
    notes.push(`instances is ${instances}: no task would be served until it is scaled up; checked with one task`);
  app['tasks'] = Array.from({ length: Math.min(MAX_TASKS, Math.max(1, instances)) }, (_, k) => task(app, id, k));
  return ok({ app, notes });
}

function modeOf(app: Obj): ReturnType<typeof networkingMode> {
  try {
    return networkingMode(app as unknown as MarathonApp);
  } catch {
    return 'host'; // a malformed networking field: the model reports it
  }
}

/** Task k: agent 127.0.0.(k+1) (own IP for IP-per-task), the host ports Mesos would give, healthy. */
function task(app: Obj, id: string, k: number): Obj {
  const address = `127.0.0.${k + 1}`;
  const mode = modeOf(app);
  const hostPort = (i: number, fixed: unknown): number =>
    typeof fixed === 'number' && fixed > 0 ? fixed : FIRST_HOST_PORT + 100 * k + i;
  let ports: number[] = [];
  if (mode === 'host') {
    const declared =
      objects(app['portDefinitions'])?.map((d) => d['port']) ??
      (Array.isArray(app['ports']) ? (app['ports'] as unknown[]) : []);
    ports = declared.map((p, i) => hostPort(i, app['requirePorts'] === true ? p : 0));
  } else if (mode === 'container/bridge') {
    const c = isObject(app['container']) ? app['container'] : {};
    const d = isObject(c['docker']) ? c['docker'] : {};
    const m = objects(d['portMappings']) ?? objects(c['portMappings']) ?? [];
    ports = m.map((x, i) => hostPort(i, x['hostPort']));
  }
  const checks = Array.isArray(app['healthChecks']) ? app['healthChecks'] : [];
  return {
    id: `${id.slice(1).replace(/\//g, '_')}.check-labels-${k + 1}`,
    appId: id,
    host: address,
    state: 'TASK_RUNNING',
    startedAt: '2020-01-01T00:00:00.000Z',
    ports,
    ipAddresses: [{ ipAddress: address, protocol: 'IPv4' }],
    healthCheckResults: checks.map(() => ({ alive: true })),
  };
}
