import { MAX_APPS, TOO_MANY_APPS } from '../marathon/appsBound';
import type { MarathonApp, MarathonTask } from '../marathon/types';
import { err, ok, type Result } from '../result';
import { tasksLeftOut, type Problem } from './types';

export type Parsed<T> = Result<T>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const absent = (v: unknown): boolean => v === undefined || v === null;

/** The apps of a body, and the apps left out because their JSON does not have the shape routing relies on. */
export interface ParsedApps {
  readonly apps: readonly MarathonApp[];
  readonly problems: readonly Problem[];
}

const PORT_GROUP = /^HAPROXY_\d+_GROUP$/;

/**
 * Whether `--group` may select an app, read from its raw labels: false only when its HAPROXY_GROUP
 * is readable and names none of `groups`, and no port has a group of its own. An audit: apps of
 * another group with a broken field were reported here ("left out app …"), misleading operators.
 */
function mayBeSelected(app: unknown, groups: readonly string[] | undefined): boolean {
  if (groups === undefined || groups.includes('*') || !isObject(app) || !isObject(app['labels'])) return true;
  const labels = app['labels'];
  const own = labels['HAPROXY_GROUP'];
  if (own !== undefined && typeof own !== 'string') return true; // broken: it may be meant for us
  for (const key in labels) if (PORT_GROUP.test(key)) return true;
  return own !== undefined && own.split(',').some((g) => groups.includes(g));
}

/**
 * Checks that a `/v2/apps?embed=apps.tasks` body has the shape routing relies on. Only a body
 * without an `apps` array is an error; an app with a wrong-typed field is left out with a Problem
 * naming it (e.g. `tasks[3].ports must be an array of integers`) and the others are kept. Nulls
 * count as absent. Defaults marathon-lb assumed (`labels: {}`, `tasks: []`) are filled in, and a
 * task's null entries in `healthCheckResults` are dropped; apps are copied only when that happens.
 * With `groups` (--group), problems of apps no group of them selects are not reported.
 */
export function parseAppsJson(body: unknown, checks?: AppChecks, groups?: readonly string[]): Parsed<ParsedApps> {
  if (!isObject(body) || !Array.isArray(body['apps'])) {
    return err('expected a JSON object with an "apps" array (GET /v2/apps?embed=apps.tasks)');
  }
  const raw = body['apps'] as unknown[];
  if (raw.length > MAX_APPS) return err(TOO_MANY_APPS);
  const apps: MarathonApp[] = [];
  const problems: Problem[] = [];
  let unlisted = 0;
  for (let i = 0; i < raw.length; i++) {
    const app = raw[i];
    const checked = checks === undefined ? checkApp(app) : checkedBefore(app, checks);
    if (checked instanceof TasksLeftOut) {
      apps.push(checked.app);
      if (!mayBeSelected(app, groups)) continue;
      const space = checked.message.indexOf(' ');
      problems.push({
        appId: checked.app.id,
        portIndex: null,
        label: checked.message.slice(0, space),
        message: checked.message.slice(space + 1),
      });
      continue;
    }
    if (typeof checked !== 'string') {
      apps.push(checked);
      continue;
    }
    if (!mayBeSelected(app, groups)) continue; // another load balancer's app: not this one's to report
    if (problems.length === MAX_LISTED_SHAPE_PROBLEMS) {
      unlisted++;
      continue;
    }
    const id = isObject(app) && typeof app['id'] === 'string' && app['id'] !== '' ? app['id'] : `apps[${i}]`;
    const space = checked.indexOf(' ');
    problems.push({ appId: id, portIndex: null, label: checked.slice(0, space), message: checked.slice(space + 1) });
  }
  if (unlisted > 0)
    problems.push({
      appId: '(more apps)',
      portIndex: null,
      label: 'apps',
      message: `${unlisted} more apps are left out for JSON without the shape routing relies on (the first ${MAX_LISTED_SHAPE_PROBLEMS} are listed)`,
    });
  return ok({ apps, problems });
}

/**
 * Apps left out for their JSON's shape listed one by one; past that, one problem counts the rest
 * (each listed one is kept, shown in /status and logged while it lasts).
 */
const MAX_LISTED_SHAPE_PROBLEMS = 1000;

/**
 * Checks made before, by app object. An AppsBodyDecoder hands over the very same object for an app
 * whose bytes did not change, and objects are never changed once parsed: its check is reused.
 */
export type AppChecks = WeakMap<object, Checked>;

/** An app kept without the tasks whose JSON it cannot route by; `message` names the first. */
class TasksLeftOut {
  constructor(
    readonly app: MarathonApp,
    readonly message: string,
  ) {}
}

/** The app, typed; or kept without some tasks; or a message that starts with the offending field. */
type Checked = MarathonApp | TasksLeftOut | string;

function checkedBefore(app: unknown, checks: AppChecks): Checked {
  if (typeof app !== 'object' || app === null) return checkApp(app);
  let checked = checks.get(app);
  if (checked === undefined) checks.set(app, (checked = checkApp(app)));
  return checked;
}

const ARRAYS_OF_OBJECTS = ['portDefinitions', 'healthChecks', 'networks'] as const;

/**
 * The app, typed, or a message that starts with the offending field. A task of the wrong shape leaves
 * out that task only (as one the model cannot route: its host or port unusable), named once.
 */
function checkApp(app: unknown): Checked {
  if (!isObject(app)) return 'app must be an object';
  if (typeof app['id'] !== 'string' || app['id'] === '') return 'id must be a non-empty string';
  let labels = app['labels'] ?? {};
  if (!isObject(labels)) return 'labels must be an object';
  for (const k in labels) {
    if (labels[k] === null) {
      const kept = withoutNulls(labels);
      if (typeof kept === 'string') return kept;
      labels = kept;
      break;
    }
    if (typeof labels[k] !== 'string') return `labels.${k} must be a string`;
  }
  // Marathon lists every app's tasks with embed=apps.tasks, [] when it has none: an app without them
  // comes from an answer that lost the embed (a proxy's rewrite), whose apps are not known to be idle.
  const rawTasks = app['tasks'];
  if (!Array.isArray(rawTasks))
    return `tasks must be an array (Marathon lists them with embed=apps.tasks): ${rawTasks === undefined ? 'missing' : 'not one'}`;
  let copied: unknown[] | null = null; // made at the first task left out or changed
  let firstBad: string | null = null;
  let badTasks = 0;
  for (let t = 0; t < rawTasks.length; t++) {
    const task = checkTask(rawTasks[t], t);
    if (typeof task === 'string') {
      badTasks++;
      firstBad ??= task;
      copied ??= rawTasks.slice(0, t);
    } else if (copied !== null) copied.push(task);
    else if (task !== rawTasks[t]) (copied = rawTasks.slice(0, t)).push(task);
  }
  const tasks = copied ?? rawTasks;
  for (const key of ARRAYS_OF_OBJECTS) {
    const v = app[key];
    if (!absent(v) && !(Array.isArray(v) && v.every(isObject))) return `${key} must be an array of objects`;
  }
  const defs = app['portDefinitions'] as Record<string, unknown>[] | undefined | null;
  if (defs)
    for (const def of defs)
      // Marathon always gives one (0: assigned): without it the port was skipped, and the app with
      // it, without a word (an audit).
      if (!isInt(def['port'])) return 'portDefinitions[].port must be an integer';
  const networks = app['networks'] as Record<string, unknown>[] | undefined | null;
  if (networks) for (const n of networks) if (!optionalString(n['mode'])) return 'networks[].mode must be a string';
  if (!absent(app['ports']) && !isIntArray(app['ports'])) return 'ports must be an array of integers';
  if (!absent(app['instances']) && !isInt(app['instances'])) return 'instances must be an integer';
  if (!absent(app['versionInfo']) && !isObject(app['versionInfo'])) return 'versionInfo must be an object';
  const container = checkContainer(app['container']);
  if (container !== null) return container;
  const ipAddress = checkIpAddress(app['ipAddress']);
  if (ipAddress !== null) return ipAddress;
  // Copy only when a default had to be filled in: snapshots hold thousands of apps.
  const typed =
    app['labels'] === labels && app['tasks'] === tasks
      ? (app as unknown as MarathonApp)
      : ({ ...app, labels: labels as Record<string, string>, tasks } as unknown as MarathonApp);
  if (firstBad === null) return typed;
  return new TasksLeftOut(typed, `${firstBad}: ${tasksLeftOut(badTasks)}`);
}

/**
 * Labels without their null values, as marathon-lb's cleanup_json drops every null (the label is
 * absent); any other value that is not a string is still named.
 */
function withoutNulls(labels: Record<string, unknown>): Record<string, unknown> | string {
  const kept = Object.entries(labels).filter(([, v]) => v !== null);
  const bad = kept.find(([, v]) => typeof v !== 'string');
  // fromEntries defines each key as the object's own (a label `__proto__` stays a label).
  return bad !== undefined ? `labels.${bad[0]} must be a string` : Object.fromEntries(kept);
}

const optionalString = (v: unknown): boolean => v === undefined || v === null || typeof v === 'string';

// Runs for every task of every snapshot: plain checks, no allocation unless something is wrong.
function checkTask(task: unknown, t: number): MarathonTask | string {
  if (!isObject(task) || typeof task['id'] !== 'string') return `tasks[${t}] must be an object with a string id`;
  if (!optionalString(task['host'])) return `tasks[${t}].host must be a string`;
  if (!optionalString(task['state'])) return `tasks[${t}].state must be a string`;
  if (!optionalString(task['startedAt'])) return `tasks[${t}].startedAt must be a string`;
  const ports = task['ports'];
  if (ports !== undefined && ports !== null && !isIntArray(ports))
    return `tasks[${t}].ports must be an array of integers`;
  const ips = task['ipAddresses'];
  if (ips !== undefined && ips !== null) {
    if (!Array.isArray(ips)) return `tasks[${t}].ipAddresses must be an array`;
    for (let i = 0; i < ips.length; i++) {
      const ip: unknown = ips[i];
      if (ip !== null && !(isObject(ip) && optionalString(ip['ipAddress'])))
        return `tasks[${t}].ipAddresses[] must be objects with a string ipAddress`;
    }
  }
  const results = task['healthCheckResults'];
  if (results === null || (results !== undefined && !Array.isArray(results))) {
    // null says as much as a missing field: no results yet. So does one of another shape: the field is
    // read only with --health-check, where a task without results keeps the verdict last seen (none:
    // not routed to); marathon-lb ignores it otherwise, and it left the task out here (found by a fuzz).
    const { healthCheckResults: _dropped, ...rest } = task;
    return rest as unknown as MarathonTask;
  }
  if (results !== undefined) {
    if (!results.every(isObject))
      return { ...task, healthCheckResults: results.filter(isObject) } as unknown as MarathonTask;
  }
  return task as unknown as MarathonTask;
}

function checkContainer(c: unknown): string | null {
  if (absent(c)) return null;
  if (!isObject(c)) return 'container must be an object';
  const docker = c['docker'];
  if (!absent(docker)) {
    if (!isObject(docker)) return 'container.docker must be an object';
    if (!absent(docker['network']) && typeof docker['network'] !== 'string')
      return 'container.docker.network must be a string';
    const m = checkPortMappings(docker['portMappings'], 'container.docker.portMappings');
    if (m !== null) return m;
  }
  return checkPortMappings(c['portMappings'], 'container.portMappings');
}

function checkPortMappings(v: unknown, at: string): string | null {
  if (absent(v)) return null;
  if (!Array.isArray(v)) return `${at} must be an array`;
  for (const m of v) {
    if (!isObject(m)) return `${at} must be an array of objects`;
    for (const key of ['containerPort', 'hostPort', 'servicePort'] as const) {
      if (!absent(m[key]) && !isInt(m[key])) return `${at}[].${key} must be an integer`;
    }
  }
  return null;
}

function checkIpAddress(v: unknown): string | null {
  if (absent(v)) return null;
  if (!isObject(v)) return 'ipAddress must be an object';
  const discovery = v['discovery'];
  if (absent(discovery)) return null;
  if (!isObject(discovery)) return 'ipAddress.discovery must be an object';
  const ports = discovery['ports'];
  if (absent(ports)) return null;
  if (
    !Array.isArray(ports) ||
    !ports.every(
      (p) => isObject(p) && (absent(p['number']) || isInt(p['number']) || /^\d{1,5}$/.test(String(p['number']))),
    )
  ) {
    return 'ipAddress.discovery.ports must be objects with an integer number';
  }
  return null;
}

function isIntArray(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!Number.isInteger(v[i])) return false;
  return true;
}
