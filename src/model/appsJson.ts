import type { MarathonApp } from '../marathon/types';

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks that a `/v2/apps?embed=apps.tasks` body has the shape routing relies on, and fills the
 * defaults marathon-lb assumed (`labels: {}`, `tasks: []`). Returns one message naming the first
 * offending path, e.g. `apps[3].labels.HAPROXY_GROUP must be a string`.
 */
export function parseAppsJson(body: unknown): Parsed<readonly MarathonApp[]> {
  if (!isObject(body) || !Array.isArray(body['apps'])) {
    return { ok: false, error: 'expected a JSON object with an "apps" array (GET /v2/apps?embed=apps.tasks)' };
  }
  const apps: MarathonApp[] = [];
  const raw = body['apps'] as unknown[];
  for (let i = 0; i < raw.length; i++) {
    const checked = checkApp(raw[i], `apps[${i}]`);
    if (typeof checked === 'string') return { ok: false, error: checked };
    apps.push(checked);
  }
  return { ok: true, value: apps };
}

function checkApp(app: unknown, at: string): MarathonApp | string {
  if (!isObject(app)) return `${at} must be an object`;
  if (typeof app['id'] !== 'string' || app['id'] === '') return `${at}.id must be a non-empty string`;
  const where = `${at} (${app['id']})`;
  const labels = app['labels'] ?? {};
  if (!isObject(labels)) return `${where}.labels must be an object`;
  for (const k in labels) {
    if (typeof labels[k] !== 'string') return `${where}.labels.${k} must be a string`;
  }
  const tasks = app['tasks'] ?? [];
  if (!Array.isArray(tasks)) return `${where}.tasks must be an array`;
  for (let t = 0; t < tasks.length; t++) {
    const task: unknown = tasks[t];
    if (!isObject(task) || typeof task['id'] !== 'string') return `${where}.tasks[${t}] must be an object with a string id`;
    if (task['ports'] !== undefined && !isNumberArray(task['ports'])) return `${where}.tasks[${t}].ports must be an array of numbers`;
  }
  for (const key of ['portDefinitions', 'healthChecks', 'networks'] as const) {
    const v = app[key];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.every(isObject))) return `${where}.${key} must be an array of objects`;
  }
  if (app['ports'] !== undefined && app['ports'] !== null && !isNumberArray(app['ports'])) return `${where}.ports must be an array of numbers`;
  if (app['container'] !== undefined && app['container'] !== null && !isObject(app['container'])) return `${where}.container must be an object`;
  // Copy only when a default had to be filled in: snapshots hold thousands of apps.
  if (app['labels'] === labels && app['tasks'] === tasks) return app as unknown as MarathonApp;
  return { ...app, labels: labels as Record<string, string>, tasks } as unknown as MarathonApp;
}

function isNumberArray(v: unknown): boolean {
  return Array.isArray(v) && v.every((x) => typeof x === 'number');
}
