import type { MarathonApp, MarathonHealthCheck, MarathonTask } from '../marathon/types';
import type { HealthCheck } from './types';

/** The health check that covers service port `portIndex`: one with an explicit port, or a matching portIndex. */
export function healthCheckFor(app: MarathonApp, portIndex: number): HealthCheck | null {
  for (const check of app.healthChecks ?? []) {
    if (check.port || check.portIndex === portIndex) return normalize(check);
  }
  return null;
}

// Marathon fills these defaults itself; a hand-written apps file may leave them out.
function normalize(c: MarathonHealthCheck): HealthCheck {
  return {
    protocol: c.protocol ?? 'HTTP',
    path: c.path ?? '/',
    portIndex: c.portIndex ?? null,
    port: c.port ? c.port : null,
    timeoutSeconds: c.timeoutSeconds ?? 20,
    intervalSeconds: c.intervalSeconds ?? 60,
    gracePeriodSeconds: c.gracePeriodSeconds ?? 300,
    maxConsecutiveFailures: c.maxConsecutiveFailures ?? 3,
  };
}

/** Task states that never receive traffic; TASK_LOST and TASK_UNREACHABLE are kept, optimistically, as upstream. */
export const EXCLUDED_TASK_STATES: ReadonlySet<string> = new Set(['TASK_STAGING', 'TASK_STARTING', 'TASK_KILLING',
  'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR',
  'TASK_UNKNOWN']);

/**
 * With `--health-check`, whether a task of an app with health checks may receive traffic:
 * alive when any result is alive; without results, the last verdict remembered for the task.
 * Returns the verdict and whether it was observed now (to be remembered by the caller).
 */
export function healthVerdict(task: MarathonTask, remembered: ReadonlyMap<string, boolean>): { alive: boolean; observed: boolean } {
  if (task.healthCheckResults === undefined) return { alive: remembered.get(task.id) ?? false, observed: false };
  return { alive: task.healthCheckResults.some((r) => r.alive === true), observed: true };
}
