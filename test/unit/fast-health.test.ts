/**
 * A health event names the task, not the check. With several checks, a task that fails one and passes
 * another stays routed (healthChecks.ts): the fast path took it out for seconds, until the snapshot
 * put it back (found by an audit). A failed check of such a task is left to the snapshot.
 */
import { fastApply, fastApplyAll, type FastState } from '../../src/reconcile/fastApply';
import { toModel, type ModelOptions } from '../../src/model/services';
import type { HealthStatusChangedEvent, StatusUpdateEvent } from '../../src/marathon/eventTypes';
import type { MarathonApp, MarathonHealthCheck } from '../../src/marathon/types';

const resolve = (h: string): string => h;
const opts: ModelOptions = { groups: ['external'], healthCheck: true, strictMode: false, servicePortRange: null };
const check = (protocol: string): MarathonHealthCheck => ({ protocol, portIndex: 0, path: '/' });

function appWith(checks: readonly MarathonHealthCheck[], results: readonly { alive: boolean }[]): MarathonApp {
  return {
    id: '/api',
    labels: { HAPROXY_GROUP: 'external' },
    portDefinitions: [{ port: 10001 }],
    healthChecks: checks,
    tasks: ['a', 'b'].map((t, i) => ({
      id: `api.${t}`,
      host: '10.0.0.1',
      ports: [31001 + i],
      state: 'TASK_RUNNING',
      healthCheckResults: results,
    })),
  };
}
const stateOf = (app: MarathonApp): FastState => ({ apps: [app], model: toModel([app], opts, { resolve }) });
const health = (alive: boolean): HealthStatusChangedEvent => ({
  type: 'health_status_changed_event',
  eventType: 'health_status_changed_event',
  appId: '/api',
  taskId: 'api.a',
  alive,
});
const ports = (r: ReturnType<typeof fastApply>): number[] | string =>
  r.ok ? r.value.state.model.services.flatMap((s) => s.servers.map((x) => x.port)) : r.error;

describe('health events of a task with several health checks', () => {
  test('a failed check goes to the snapshot: the task may pass another one', () => {
    const two = stateOf(appWith([check('HTTP'), check('TCP')], [{ alive: true }, { alive: false }]));
    expect(ports(fastApply(two, health(false), opts, { resolve }))).toMatch(/several health checks/);
    // Passing one is routed either way.
    expect(ports(fastApply(two, health(true), opts, { resolve }))).toEqual([31001, 31002]);
  });

  test('a task whose results are several (the app lists one check now) goes to the snapshot too', () => {
    const s = stateOf(appWith([check('HTTP')], [{ alive: true }, { alive: true }]));
    expect(ports(fastApply(s, health(false), opts, { resolve }))).toMatch(/several health checks/);
  });

  test('with one check, a failed one takes the task out at once', () => {
    const one = stateOf(appWith([check('HTTP')], [{ alive: true }]));
    expect(ports(fastApply(one, health(false), opts, { resolve }))).toEqual([31002]);
  });

  test('the kill Marathon sends after such a failure still takes the task out at once, in the same batch or later', () => {
    const two = stateOf(appWith([check('HTTP'), check('TCP')], [{ alive: true }, { alive: false }]));
    const killed: StatusUpdateEvent = {
      type: 'status_update_event',
      eventType: 'status_update_event',
      appId: '/api',
      taskId: 'api.a',
      taskStatus: 'TASK_KILLED',
    };
    const served = (s: FastState): number[] => s.model.services.flatMap((x) => x.servers.map((y) => y.port));
    // In one batch: the failure is the snapshot's, the kill is applied.
    const together = fastApplyAll(two, [health(false), killed], opts, { resolve });
    expect(together.refused.get('/api')).toMatch(/several health checks/);
    expect(served(together.state)).toEqual([31002]);
    // A start after the refused failure is still the snapshot's.
    const started: StatusUpdateEvent = {
      ...killed,
      taskId: 'api.c',
      taskStatus: 'TASK_RUNNING',
      host: '10.0.0.1',
      ports: [31003],
    };
    const later = fastApplyAll(two, [health(false), started, killed], opts, { resolve });
    expect(served(later.state)).toEqual([31002]);
  });
});

describe('a health event naming an instance', () => {
  // Marathon ≥ 1.4 names tasks `<app>.<instance>.<n>`: an instance id is more than the app's own part.
  const app: MarathonApp = {
    ...appWith([check('HTTP')], [{ alive: true }]),
    tasks: ['instance-a', 'instance-b'].map((inst, i) => ({
      id: `api.${inst}._app.1`,
      host: '10.0.0.1',
      ports: [31001 + i],
      state: 'TASK_RUNNING',
      healthCheckResults: [{ alive: true }],
    })),
  };
  const failed = (instanceId: string): HealthStatusChangedEvent => ({
    type: 'health_status_changed_event',
    eventType: 'health_status_changed_event',
    appId: '/api',
    instanceId,
    alive: false,
  });

  test('takes out that instance’s task only', () => {
    expect(ports(fastApply(stateOf(app), failed('api.instance-a'), opts, { resolve }))).toEqual([31002]);
  });

  test('the app’s own part of every task id (a hostile event) names no instance: no task is taken out', () => {
    // It took every task of the app out of rotation until the snapshot (found by a live audit).
    expect(ports(fastApply(stateOf(app), failed('api'), opts, { resolve }))).toMatch(/its task is unknown/);
  });
});

describe('a status update that says a known task runs elsewhere', () => {
  // Marathon never moves a running task: such an event contradicts the snapshot, which decides.
  // Applied, each took the server out for one at the event's address, and routing flapped with
  // every snapshot (found by an audit).
  const app = appWith([check('HTTP')], [{ alive: true }]);
  const running = (fields: Partial<StatusUpdateEvent>): StatusUpdateEvent => ({
    type: 'status_update_event',
    eventType: 'status_update_event',
    appId: '/api',
    taskId: 'api.a',
    taskStatus: 'TASK_RUNNING',
    ...fields,
  });

  test.each([
    ['other ports', { host: '10.0.0.1', ports: [9999] }],
    ['many more ports', { host: '10.0.0.1', ports: Array.from({ length: 10000 }, (_, i) => i + 1) }],
    ['another host', { host: '10.0.0.9', ports: [31001] }],
  ])('%s: left to the snapshot', (_what, fields) => {
    expect(ports(fastApply(stateOf(app), running(fields), opts, { resolve }))).toMatch(/said to run elsewhere/);
  });

  test('its own address, or none, is applied; so is its end, wherever it is said to be', () => {
    expect(ports(fastApply(stateOf(app), running({ host: '10.0.0.1', ports: [31001] }), opts, { resolve }))).toEqual([
      31001, 31002,
    ]);
    expect(ports(fastApply(stateOf(app), running({}), opts, { resolve }))).toEqual([31001, 31002]);
    const killed = running({ taskStatus: 'TASK_KILLED', host: '10.0.0.9', ports: [9999] });
    expect(ports(fastApply(stateOf(app), killed, opts, { resolve }))).toEqual([31002]);
  });
});
