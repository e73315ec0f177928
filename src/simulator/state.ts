import { normalizeAppDef, normalizeAppId } from './appDef';
import { appById, appended, removed, replaced } from './appIndex';
import { deployment, lockedBy, settle, startEvents } from './deployments';
import * as ev from './events';
import { newTasks } from './taskGen';
import type { AppDef, Ctx, Outcome, SimApp, SimEvent, SimState, SimTask, TaskState } from './types';
import { fail, TERMINAL_STATES } from './types';
import { ok } from '../result';

/**
 * Pure state transitions of the simulated Marathon: (state, request, ctx) → new state + the events
 * Marathon would emit + the tasks that started/stopped. No clock, no randomness, no I/O.
 */

export function createApp(state: SimState, raw: unknown, ctx: Ctx): Outcome {
  const norm = normalizeAppDef(raw, state, ctx.now);
  if (!norm.ok) return norm;
  const { def, nextServicePort } = norm.value;
  if (findApp(state, def.id)) return fail(409, `app ${def.id} already exists`);
  const created = newTasks(def, def.instances, { ...state, nextServicePort }, ctx, 0);
  const app: SimApp = { def, tasks: created.tasks };
  const next = { ...created.state, apps: appended(state.apps, app) };
  return ok(
    deployment(next, app, 'StartApplication', created.tasks, [], ctx, [
      ev.apiPostEvent(app.def, ctx.now, ctx.clientIp),
    ]),
  );
}

/**
 * Marathon PUT semantics: the posted fields replace the old ones; port/health/container changes restart all tasks.
 * Without `force`, an app with a deployment in progress is locked (409).
 */
export function updateApp(state: SimState, appId: string, patch: unknown, ctx: Ctx, force = true): Outcome {
  const app = findApp(state, appId);
  if (!app) return fail(404, `app ${appId} does not exist`);
  const locked = lockedBy(state, app.def.id, force);
  if (locked) return locked;
  const normalized = normalizeAppDef(patch, state, ctx.now, app.def);
  if (!normalized.ok) return normalized;
  const norm = normalized.value;
  if (norm.def.id !== app.def.id) return fail(422, `app ${appId}: the id cannot change (got ${norm.def.id})`);
  const configChanged = !sameOn(
    app.def,
    norm.def,
    Object.keys({ ...app.def, ...norm.def }).filter((k) => !['instances', 'version', 'versionInfo'].includes(k)),
  );
  const def: AppDef = configChanged
    ? norm.def
    : {
        ...norm.def,
        versionInfo: { ...norm.def.versionInfo, lastConfigChangeAt: app.def.versionInfo.lastConfigChangeAt },
      };
  const base = { ...state, nextServicePort: norm.nextServicePort };
  if (!sameOn(app.def, norm.def, RESTART_FIELDS)) {
    // The old tasks serve until the new ones are healthy and ready (at once when the clock does not run).
    const fresh = newTasks(def, def.instances, base, ctx, 0);
    const updated = { def, tasks: [...app.tasks, ...fresh.tasks] };
    return ok(
      deployment(
        withApp(fresh.state, updated),
        updated,
        'RestartApplication',
        fresh.tasks,
        [],
        ctx,
        [ev.apiPostEvent(def, ctx.now, ctx.clientIp)],
        app.tasks,
      ),
    );
  }
  const scaled = scaleTasks(app.tasks, def, base, ctx);
  const updated = { def, tasks: scaled.tasks };
  return ok(
    deployment(withApp(scaled.state, updated), updated, 'ScaleApplication', scaled.started, scaled.stopped, ctx, [
      ev.apiPostEvent(def, ctx.now, ctx.clientIp),
    ]),
  );
}

export const scaleApp = (state: SimState, appId: string, instances: unknown, ctx: Ctx): Outcome =>
  updateApp(state, appId, { instances }, ctx);

/** Labels: merged into the old ones (a null value removes a label), or replacing them all. */
export function setLabels(state: SimState, appId: string, labels: unknown, replace: boolean, ctx: Ctx): Outcome {
  const app = findApp(state, appId);
  if (!app) return fail(404, `app ${appId} does not exist`);
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels))
    return fail(422, `app ${appId}: labels must be an object`);
  const merged: Record<string, unknown> = replace ? {} : { ...app.def.labels };
  for (const [k, v] of Object.entries(labels)) {
    if (v === null) delete merged[k];
    else merged[k] = v;
  }
  return updateApp(state, appId, { labels: merged }, ctx);
}

export function deleteApp(state: SimState, appId: string, ctx: Ctx, force = true): Outcome {
  const app = findApp(state, appId);
  if (!app) return fail(404, `app ${appId} does not exist`);
  const locked = lockedBy(state, app.def.id, force);
  if (locked) return locked;
  const gone = deployment({ ...state, apps: removed(state.apps, app) }, app, 'StopApplication', [], app.tasks, ctx, []);
  // app_terminated_event comes after the kills, before the deployment ends.
  const events = [...gone.events.slice(0, -2), ev.appTerminatedEvent(app.def.id, ctx.now), ...gone.events.slice(-2)];
  return ok({ ...gone, events });
}

/**
 * Moves a task to a new Mesos state. Terminal states (TASK_KILLED, TASK_FAILED …) remove it; Marathon then
 * starts a replacement unless `scale` is set, in which case the app's instance count drops by one.
 */
export function setTaskState(state: SimState, taskId: string, status: TaskState, scale: boolean, ctx: Ctx): Outcome {
  const found = findTask(state, taskId);
  if (!found) return fail(404, `task ${taskId} does not exist`);
  const { app, task } = found;
  if (!TERMINAL_STATES.includes(status)) {
    const moved = { ...task, state: status };
    const next = withApp(state, { ...app, tasks: app.tasks.map((t) => (t === task ? moved : t)) });
    return ok({ state: next, events: [ev.statusUpdateEvent(moved, status, ctx.now)], started: [], stopped: [] });
  }
  return killTasks(state, [taskId], scale, ctx, true, status);
}

/**
 * `POST /v2/tasks/delete[?scale=true]`: kills tasks (unknown ids are skipped). With `scale`, each app's
 * instance count drops by its killed tasks, one ScaleApplication deployment per app (locked apps: 409
 * unless `force`); without it Marathon starts a replacement per task.
 */
export function killTasks(
  state: SimState,
  taskIds: readonly string[],
  scale: boolean,
  ctx: Ctx,
  force = true,
  status: TaskState = 'TASK_KILLED',
): Outcome {
  const victims = new Map<string, SimTask[]>();
  for (const id of taskIds) {
    const found = findTask(state, id);
    if (found) victims.set(found.app.def.id, [...(victims.get(found.app.def.id) ?? []), found.task]);
  }
  let cur = state;
  const events: SimEvent[] = [];
  const started: SimTask[] = [];
  const stopped: SimTask[] = [];
  for (const [appId, tasks] of victims) {
    const app = findApp(cur, appId)!;
    const rest = app.tasks.filter((t) => !tasks.includes(t));
    stopped.push(...tasks);
    if (scale) {
      const locked = lockedBy(cur, appId, force);
      if (locked) return locked;
      const def = {
        ...app.def,
        instances: Math.max(0, app.def.instances - tasks.length),
        version: ctx.now,
        versionInfo: { ...app.def.versionInfo, lastScalingAt: ctx.now },
      };
      const updated = { def, tasks: rest };
      const out = deployment(withApp(cur, updated), updated, 'ScaleApplication', [], [], ctx, [
        ev.apiPostEvent(def, ctx.now, ctx.clientIp),
      ]);
      // The kills come first, as Marathon reports the tasks gone before the scale-down deployment.
      events.push(...tasks.map((t) => ev.statusUpdateEvent(t, status, ctx.now)), ...out.events);
      cur = out.state;
      continue;
    }
    const fresh = newTasks(app.def, tasks.length, cur, ctx, started.length);
    cur = withApp(fresh.state, { ...app, tasks: [...rest, ...fresh.tasks] });
    started.push(...fresh.tasks);
    events.push(...tasks.map((t) => ev.statusUpdateEvent(t, status, ctx.now)), ...startEvents(fresh.tasks, ctx.now));
  }
  const settled = settle(cur, ctx.now);
  return ok({
    state: settled.state,
    events: [...events, ...settled.events],
    started,
    stopped: [...stopped, ...settled.stopped],
  });
}

export function setTaskHealth(state: SimState, taskId: string, alive: boolean, ctx: Ctx): Outcome {
  const found = findTask(state, taskId);
  if (!found) return fail(404, `task ${taskId} does not exist`);
  const { app, task } = found;
  if (task.alive === null) return fail(422, `app ${app.def.id} has no healthChecks, so task ${taskId} has no health`);
  const maxFailures = Number(app.def.healthChecks[0]?.['maxConsecutiveFailures'] ?? 3) || 3;
  const changed: SimTask = alive
    ? { ...task, alive, awaitingHealth: false, consecutiveFailures: 0, lastSuccess: ctx.now }
    : {
        ...task,
        alive,
        awaitingHealth: false,
        consecutiveFailures: Math.max(task.consecutiveFailures, maxFailures),
        lastFailure: ctx.now,
      };
  const next = withApp(state, { ...app, tasks: app.tasks.map((t) => (t === task ? changed : t)) });
  const events = task.alive === alive ? [] : [ev.healthStatusChangedEvent(changed, alive, ctx.now)];
  const settled = settle(next, ctx.now);
  return ok({
    state: settled.state,
    events: [...events, ...settled.events],
    started: [],
    stopped: settled.stopped,
  });
}

/** A readiness-check verdict: Marathon sends no event for it; a deployment waiting only on it ends. */
export function setTaskReady(state: SimState, taskId: string, ready: boolean, ctx: Ctx): Outcome {
  const found = findTask(state, taskId);
  if (!found) return fail(404, `task ${taskId} does not exist`);
  const { app, task } = found;
  if (task.ready === null)
    return fail(422, `app ${app.def.id} has no readinessChecks, so task ${taskId} has no readiness`);
  const next = withApp(state, { ...app, tasks: app.tasks.map((t) => (t === task ? { ...task, ready } : t)) });
  const settled = settle(next, ctx.now);
  return ok({ state: settled.state, events: settled.events, started: [], stopped: settled.stopped });
}

function scaleTasks(
  tasks: readonly SimTask[],
  def: AppDef,
  state: SimState,
  ctx: Ctx,
): { tasks: readonly SimTask[]; started: readonly SimTask[]; stopped: readonly SimTask[]; state: SimState } {
  if (def.instances >= tasks.length) {
    const fresh = newTasks(def, def.instances - tasks.length, state, ctx, 0);
    return { tasks: [...tasks, ...fresh.tasks], started: fresh.tasks, stopped: [], state: fresh.state };
  }
  const oldestFirst = def['killSelection'] === 'OLDEST_FIRST';
  const keep = oldestFirst ? tasks.slice(tasks.length - def.instances) : tasks.slice(0, def.instances);
  return { tasks: keep, started: [], stopped: tasks.filter((t) => !keep.includes(t)), state };
}

export function findApp(state: SimState, appId: string): SimApp | undefined {
  const id = normalizeAppId(appId);
  return id === null ? undefined : appById(state.apps, id);
}

export function findTask(state: SimState, taskId: string): { app: SimApp; task: SimTask } | undefined {
  for (const app of state.apps) {
    const task = app.tasks.find((t) => t.id === taskId);
    if (task) return { app, task };
  }
  return undefined;
}

const withApp = (state: SimState, app: SimApp): SimState => ({
  ...state,
  apps: replaced(state.apps, app),
});

/** Fields whose change gives tasks a different shape, so Marathon restarts them (labels-only changes keep tasks). */
const RESTART_FIELDS = ['portDefinitions', 'container', 'networks', 'healthChecks'];

const sameOn = (a: AppDef, b: AppDef, keys: readonly string[]): boolean =>
  keys.every((k) => canonical(a[k]) === canonical(b[k]));

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}
