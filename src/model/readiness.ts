import type { MarathonApp, MarathonTask } from '../marathon/types';
import { EXCLUDED_TASK_STATES } from './healthChecks';

/**
 * --respect-readiness-checks (marathon-lb ignores readiness; Traefik's Marathon provider honours it):
 * a task whose readiness checks have not passed is left out, as if it had not started, until it is
 * ready. Marathon reports readiness only while a deployment runs, in the app's `readinessCheckResults`
 * (`/v2/apps?embed=apps.readiness`), and sends no event when it changes.
 *
 * A task is ready when its app has no `readinessChecks`, or no deployment in progress, or when all its
 * results say `ready`. Without a result yet (Marathon checks a task once it is running and healthy), a
 * task the running deployment started is not ready: it carries the app's current `version`; older
 * tasks were serving before the deployment. Traefik tells them apart by start time and the check
 * interval; the model has no clock, and the version says the same.
 */
export function isTaskReady(app: MarathonApp, task: MarathonTask): boolean {
  if (!hasReadinessChecks(app)) return true;
  const deployments = app['deployments'];
  if (!Array.isArray(deployments) || deployments.length === 0) return true;
  const raw = app['readinessCheckResults'];
  let seen = false;
  if (Array.isArray(raw)) {
    for (const r of raw as readonly unknown[]) {
      if (typeof r !== 'object' || r === null || (r as Record<string, unknown>)['taskId'] !== task.id) continue;
      if ((r as Record<string, unknown>)['ready'] !== true) return false;
      seen = true;
    }
  }
  if (seen) return true;
  const version = app['version'];
  return typeof version !== 'string' || task['version'] !== version;
}

function hasReadinessChecks(app: MarathonApp): boolean {
  const checks = app['readinessChecks'];
  return Array.isArray(checks) && checks.length > 0;
}

/**
 * The apps with their not-ready tasks left out. Those count among neither tasks nor `instances`
 * (blue/green merging drains old tasks by the new app's instances when it has no health checks), so
 * old tasks are drained only for new ones that can serve. Apps without readiness checks are passed
 * through as they are (same objects), and so is the list when nothing changes.
 */
export function withoutUnreadyTasks(apps: readonly MarathonApp[]): readonly MarathonApp[] {
  let out: MarathonApp[] | null = null;
  for (let i = 0; i < apps.length; i++) {
    const app = apps[i]!;
    if (!hasReadinessChecks(app)) continue;
    const ready = app.tasks.filter((t) => isTaskReady(app, t));
    if (ready.length === app.tasks.length) continue;
    out ??= apps.slice();
    const left = app.tasks.length - ready.length;
    out[i] = {
      ...app,
      tasks: ready,
      ...(typeof app.instances === 'number' ? { instances: Math.max(0, app.instances - left) } : {}),
    };
  }
  return out ?? apps;
}

/**
 * Why the event fast path must leave an event to the snapshot, or null. Readiness is only in snapshots
 * (no event carries it), so with --respect-readiness-checks an event that may put a task of an app with
 * readiness checks into HAProxy (running, or healthy again) waits for one; events that only take
 * tasks out stay fast.
 */
export function readinessVeto(
  app: MarathonApp,
  event: { readonly type: string; readonly taskStatus?: string; readonly alive?: boolean },
  respect: boolean | undefined,
): string | null {
  if (respect !== true || !hasReadinessChecks(app)) return null;
  const removes =
    event.type === 'health_status_changed_event'
      ? event.alive === false
      : event.taskStatus !== undefined && EXCLUDED_TASK_STATES.has(event.taskStatus);
  return removes
    ? null
    : 'its tasks have readiness checks (--respect-readiness-checks): the snapshot tells whether they are ready';
}
