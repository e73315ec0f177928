import { readinessResults } from './deployments';
import { instanceIdOf } from './events';
import type { AppDef, SimApp, SimState, SimTask } from './types';

/** Marathon 1.5+ JSON of the simulated state, as `/v2/apps`, `/v2/apps/{id}` and `/v2/tasks` answer. */

/** What `embed` adds to each app (Marathon always embeds counts and deployments). */
export interface Embed {
  readonly tasks: boolean;
  readonly readiness: boolean;
}

export function renderApps(state: SimState, embed: Embed): { apps: Record<string, unknown>[] } {
  return { apps: state.apps.map((a) => renderApp(state, a, embed)) };
}

/**
 * An app definition as Marathon writes it — in `/v2/apps` and in `api_post_event` alike: every field,
 * the ones the post left out with Marathon's defaults.
 */
export function appDefinition(def: AppDef): Record<string, unknown> {
  return {
    cmd: null,
    args: null,
    user: null,
    env: {},
    cpus: 0.1,
    mem: 64,
    disk: 0,
    gpus: 0,
    executor: '',
    constraints: [],
    uris: [],
    fetch: [],
    storeUrls: [],
    backoffSeconds: 1,
    backoffFactor: 1.15,
    maxLaunchDelaySeconds: 3600,
    requirePorts: false,
    killSelection: 'YOUNGEST_FIRST',
    upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
    unreachableStrategy: { inactiveAfterSeconds: 300, expungeAfterSeconds: 600 },
    ...def,
  };
}

export function renderApp(state: SimState, app: SimApp, embed: Embed): Record<string, unknown> {
  const healthChecked = app.def.healthChecks.length > 0;
  const running = app.tasks.filter((t) => t.state === 'TASK_RUNNING');
  const out: Record<string, unknown> = {
    ...appDefinition(app.def),
    tasksStaged: app.tasks.filter((t) => t.state === 'TASK_STAGING' || t.state === 'TASK_STARTING').length,
    tasksRunning: running.length,
    tasksHealthy: healthChecked ? running.filter((t) => t.alive === true).length : 0,
    tasksUnhealthy: healthChecked ? running.filter((t) => t.alive === false && !t.awaitingHealth).length : 0,
    deployments: state.deployments.filter((d) => d.appId === app.def.id).map((d) => ({ id: d.id })),
  };
  if (embed.tasks) out['tasks'] = app.tasks.map((t) => renderTask(t, app.def.healthChecks.length));
  if (embed.readiness) out['readinessCheckResults'] = readinessResults(state, app);
  return out;
}

export function renderTask(task: SimTask, healthCheckCount: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: task.id,
    appId: task.appId,
    slaveId: task.slaveId,
    agentId: task.slaveId,
    host: task.host,
    state: task.state,
    stagedAt: task.stagedAt,
    startedAt: task.startedAt,
    version: task.version,
    ports: task.ports,
    servicePorts: task.servicePorts,
    ipAddresses: [{ ipAddress: task.host, protocol: 'IPv4' }],
    localVolumes: [],
  };
  // Before its first health check (grace period), Marathon reports no results for a task.
  if (task.alive !== null && !task.awaitingHealth) {
    out['healthCheckResults'] = Array.from({ length: healthCheckCount }, () => ({
      alive: task.alive,
      consecutiveFailures: task.consecutiveFailures,
      firstSuccess: task.alive || task.lastSuccess !== null ? task.startedAt : null,
      lastSuccess: task.lastSuccess,
      lastFailure: task.lastFailure,
      lastFailureCause: task.alive ? null : task.lastFailure === null ? null : 'simulated failure',
      taskId: task.id,
      instanceId: instanceIdOf(task.id),
    }));
  }
  return out;
}

export function renderTasks(state: SimState): { tasks: Record<string, unknown>[] } {
  return { tasks: state.apps.flatMap((a) => a.tasks.map((t) => renderTask(t, a.def.healthChecks.length))) };
}
