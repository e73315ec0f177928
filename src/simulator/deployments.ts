import * as ev from './events';
import { newDeploymentId } from './taskGen';
import { ok, type Err } from '../result';
import type { Change, Ctx, Outcome, SimApp, SimDeployment, SimEvent, SimFailure, SimState, SimTask } from './types';
import { fail } from './types';

/**
 * Marathon deployments, pure. A change (create, scale, restart, kill with scale, delete) is one
 * deployment: `deployment_info` at once, `deployment_step_success` + `deployment_success` when every
 * task it started is healthy (when health-checked) and ready (when readiness-checked), or gone. Until
 * then the app is locked: Marathon answers 409 unless `?force=true`, which cancels the running one
 * (`deployment_failed`). A restart keeps the old tasks serving until then, and kills them as it ends
 * (Marathon's default upgradeStrategy, minimumHealthCapacity 1). When the simulator's clock does not
 * run, tasks start healthy and ready, so every deployment ends within its request.
 */

/** True while a task keeps its deployment open. */
const pending = (t: SimTask): boolean => (t.alive !== null && t.alive !== true) || t.ready === false;

/** The 409 Marathon answers for a change to an app with a deployment in progress, or null. */
export function lockedBy(state: SimState, appId: string, force: boolean): Err<SimFailure> | null {
  if (force) return null;
  const running = state.deployments.filter((d) => d.appId === appId);
  if (running.length === 0) return null;
  return fail(
    409,
    `App is locked by one or more deployments. Override with the option '?force=true'. ` +
      `View details at '/v2/deployments/${running[0]!.id}'.`,
  );
}

/**
 * Starts a deployment of `app` (already in `state`): cancels the app's running ones, emits its events.
 * `stopAfter`: tasks still in `app` that go once the started ones are healthy and ready (at once when
 * none is pending: then they are killed before the new ones start, as `stopped`).
 */
export function deployment(
  state: SimState,
  app: SimApp,
  action: SimDeployment['action'],
  started: readonly SimTask[],
  stopped: readonly SimTask[],
  ctx: Ctx,
  lead: readonly SimEvent[],
  stopAfter: readonly SimTask[] = [],
): Change {
  const seq = state.seq + 1;
  const id = newDeploymentId(seq, ctx.seed);
  const d = ev.deploymentEvents(id, app.def.id, action, app.def.version, ctx.now);
  const cancelled = state.deployments.filter((x) => x.appId === app.def.id);
  const waitingFor = started.filter(pending).map((t) => t.id);
  const waits = waitingFor.length > 0;
  const running: SimDeployment[] = waits
    ? [{ id, appId: app.def.id, action, version: app.def.version, waitingFor, stopAfter: stopAfter.map((t) => t.id) }]
    : [];
  const killed = waits ? stopped : [...stopped, ...stopAfter];
  const events = [
    ...lead,
    ...cancelled.map((x) => failedEvent(x, ctx.now)),
    d.info,
    ...killed.map((t) => ev.statusUpdateEvent(t, 'TASK_KILLED', ctx.now)),
    ...startEvents(started, ctx.now),
    ...(waits ? [] : [d.stepSuccess, d.success]),
  ];
  const deployments = [...state.deployments.filter((x) => !cancelled.includes(x)), ...running];
  const gone = new Set(stopAfter.map((t) => t.id));
  const apps =
    waits || gone.size === 0
      ? state.apps
      : state.apps.map((a) => (a.def.id === app.def.id ? { ...a, tasks: a.tasks.filter((t) => !gone.has(t.id)) } : a));
  return { state: { ...state, apps, seq, deployments }, events, started, stopped: killed };
}

/** Ends the deployments whose tasks are all healthy and ready (or gone): kills what restarts replace, success events. */
export function settle(
  state: SimState,
  now: string,
): { readonly state: SimState; readonly events: readonly SimEvent[]; readonly stopped: readonly SimTask[] } {
  const tasks = new Map(state.apps.flatMap((a) => a.tasks.map((t) => [t.id, t] as const)));
  const done = state.deployments.filter((d) =>
    d.waitingFor.every((id) => {
      const t = tasks.get(id);
      return t === undefined || !pending(t);
    }),
  );
  if (done.length === 0) return { state, events: [], stopped: [] };
  const gone = new Set(done.flatMap((d) => d.stopAfter));
  const stopped = [...gone].flatMap((id) => {
    const t = tasks.get(id);
    return t ? [t] : [];
  });
  const events = done.flatMap((x) => {
    const d = ev.deploymentEvents(x.id, x.appId, x.action, x.version, now);
    const kills = x.stopAfter.flatMap((id) => {
      const t = tasks.get(id);
      return t ? [ev.statusUpdateEvent(t, 'TASK_KILLED', now)] : [];
    });
    return [...kills, d.stepSuccess, d.success];
  });
  const apps =
    gone.size === 0
      ? state.apps
      : state.apps.map((a) =>
          a.tasks.some((t) => gone.has(t.id)) ? { ...a, tasks: a.tasks.filter((t) => !gone.has(t.id)) } : a,
        );
  return {
    state: { ...state, apps, deployments: state.deployments.filter((x) => !done.includes(x)) },
    events,
    stopped,
  };
}

/** Removes a deployment (`DELETE /v2/deployments/{id}`): its tasks stay as they are. */
export function cancelDeployment(state: SimState, id: string, now: string): Outcome {
  const d = state.deployments.find((x) => x.id === id);
  if (!d) return fail(404, `DeploymentPlan ${id} does not exist`);
  return ok({
    state: { ...state, deployments: state.deployments.filter((x) => x !== d) },
    events: [failedEvent(d, now)],
    started: [],
    stopped: [],
  });
}

export const startEvents = (tasks: readonly SimTask[], now: string): SimEvent[] =>
  tasks.flatMap((t) =>
    t.alive === null || t.awaitingHealth
      ? [ev.statusUpdateEvent(t, 'TASK_RUNNING', now)]
      : [ev.statusUpdateEvent(t, 'TASK_RUNNING', now), ev.healthStatusChangedEvent(t, t.alive, now)],
  );

function failedEvent(d: SimDeployment, now: string): SimEvent {
  const { success } = ev.deploymentEvents(d.id, d.appId, d.action, d.version, now);
  return { ...success, eventType: 'deployment_failed' };
}

/** Marathon's `readinessCheckResults` for an app: one per readiness check per task its deployments wait for. */
export function readinessResults(state: SimState, app: SimApp): Record<string, unknown>[] {
  const checks = Array.isArray(app.def['readinessChecks'])
    ? (app.def['readinessChecks'] as readonly Record<string, unknown>[])
    : [];
  const waiting = new Set(state.deployments.filter((d) => d.appId === app.def.id).flatMap((d) => d.waitingFor));
  // Marathon checks readiness once a task is running and healthy: before that there is no result.
  const checked = app.tasks.filter((t) => waiting.has(t.id) && t.ready !== null && !t.awaitingHealth);
  return checked.flatMap((t) =>
    checks.map((c) => ({
      name: typeof c['name'] === 'string' ? c['name'] : 'readinessCheck',
      taskId: t.id,
      ready: t.ready === true,
      ...(c['preserveLastResponse'] === true
        ? { lastResponse: { status: t.ready === true ? 200 : 503, contentType: 'application/json', body: '' } }
        : {}),
    })),
  );
}

/** One entry of `GET /v2/deployments`. */
export function renderDeployment(state: SimState, d: SimDeployment): Record<string, unknown> {
  const app = state.apps.find((a) => a.def.id === d.appId);
  const action = { action: d.action, app: d.appId };
  return {
    id: d.id,
    version: d.version,
    affectedApps: [d.appId],
    affectedPods: [],
    steps: [{ actions: [action] }],
    currentActions: [{ ...action, readinessCheckResults: app ? readinessResults(state, app) : [] }],
    currentStep: 1,
    totalSteps: 1,
  };
}
