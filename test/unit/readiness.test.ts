/**
 * --respect-readiness-checks in the model: tasks whose Marathon readiness checks have not passed
 * are not servers (and do not let old blue/green tasks drain); the event fast path leaves events that
 * could route such a task to the snapshot. Fixtures have the shapes Marathon 1.10 answers
 * `/v2/apps?embed=apps.tasks&embed=apps.readiness` with.
 */
import { fastApply, type FastState } from '../../src/reconcile/fastApply';
import { isTaskReady, withoutUnreadyTasks } from '../../src/model/readiness';
import { toModel, type ModelOptions } from '../../src/model/services';
import type { MarathonApp, MarathonTask } from '../../src/marathon/types';

const resolve = (h: string): string => h;
const OLD = '2026-12-01T10:00:00.000Z';
const NEW = '2026-12-01T11:00:00.000Z';
const readinessChecks = [
  {
    name: 'readinessCheck',
    protocol: 'HTTP',
    path: '/ready',
    portName: 'http',
    intervalSeconds: 30,
    timeoutSeconds: 10,
    httpStatusCodesForReady: [200],
    preserveLastResponse: false,
  },
];

const task = (id: string, port: number, version: string): MarathonTask => ({
  id,
  host: '10.0.0.1',
  ports: [port],
  state: 'TASK_RUNNING',
  version,
  startedAt: version,
});
/** /web scaled from 1 to 3: the deployment runs; b is checked and not ready, c has no result yet. */
const scaling: MarathonApp = {
  id: '/web',
  labels: { HAPROXY_GROUP: 'external' },
  instances: 3,
  version: NEW,
  portDefinitions: [{ port: 10001 }],
  readinessChecks,
  deployments: [{ id: 'd-1' }],
  readinessCheckResults: [{ name: 'readinessCheck', taskId: 'web.b', ready: false, lastResponse: null }],
  tasks: [task('web.a', 31001, OLD), task('web.b', 31002, NEW), task('web.c', 31003, NEW)],
};
const opts = (respect: boolean): ModelOptions => ({
  groups: ['external'],
  healthCheck: false,
  strictMode: false,
  servicePortRange: null,
  respectReadinessChecks: respect,
});
const serverPorts = (apps: readonly MarathonApp[], respect: boolean): number[][] =>
  toModel(apps, opts(respect), { resolve }).services.map((s) => s.servers.map((x) => x.port));

describe('readiness of a task (as Traefik reads Marathon)', () => {
  test('a result decides; without one, a task of the running deployment (the app version) is not ready, an older one is', () => {
    expect(
      ['web.a', 'web.b', 'web.c'].map((id) =>
        isTaskReady(
          scaling,
          scaling.tasks.find((t) => t.id === id)!,
        ),
      ),
    ).toEqual([true, false, false]);
    const checked = {
      ...scaling,
      readinessCheckResults: [
        { taskId: 'web.b', ready: true },
        { taskId: 'web.c', ready: true },
      ],
    };
    expect(checked.tasks.map((t) => isTaskReady(checked, t))).toEqual([true, true, true]);
    // Several checks: all must pass.
    const twoChecks = {
      ...scaling,
      readinessCheckResults: [
        { taskId: 'web.b', ready: true },
        { taskId: 'web.b', ready: false },
      ],
    };
    expect(isTaskReady(twoChecks, scaling.tasks[1]!)).toBe(false);
  });

  test('no readiness checks, or no deployment in progress: every task is ready (Marathon keeps no results then)', () => {
    const done = { ...scaling, deployments: [], readinessCheckResults: [] };
    expect(done.tasks.every((t) => isTaskReady(done, t))).toBe(true);
    const { readinessChecks: _r, ...plain } = scaling;
    expect(plain.tasks.every((t) => isTaskReady(plain as MarathonApp, t))).toBe(true);
    // Without embed=apps.readiness the results are missing: the deployment's tasks wait.
    const { readinessCheckResults: _x, ...unembedded } = scaling;
    expect(unembedded.tasks.map((t) => isTaskReady(unembedded as MarathonApp, t))).toEqual([true, false, false]);
  });

  test('hostile shapes are read defensively', () => {
    const odd = {
      ...scaling,
      readinessCheckResults: [null, 'x', { taskId: 'web.c', ready: 'yes' }],
    } as unknown as MarathonApp;
    expect(odd.tasks.map((t) => isTaskReady(odd, t))).toEqual([true, false, false]);
    const notList = {
      ...scaling,
      readinessCheckResults: { taskId: 'web.b', ready: true },
      deployments: 'd-1',
    } as unknown as MarathonApp;
    expect(notList.tasks.every((t) => isTaskReady(notList, t))).toBe(true);
  });
});

describe('the model with --respect-readiness-checks', () => {
  test('not-ready tasks are no servers; off (the default), every running task is one, as marathon-lb', () => {
    expect(serverPorts([scaling], false)).toEqual([[31001, 31002, 31003]]);
    expect(serverPorts([scaling], true)).toEqual([[31001]]);
    const ready = {
      ...scaling,
      readinessCheckResults: [
        { taskId: 'web.b', ready: true },
        { taskId: 'web.c', ready: false },
      ],
    };
    expect(serverPorts([ready], true)).toEqual([[31001, 31002]]);
    expect(serverPorts([{ ...scaling, deployments: [] }], true)).toEqual([[31001, 31002, 31003]]);
  });

  test('apps and lists without not-ready tasks are passed through as they are', () => {
    const plain: MarathonApp = { id: '/p', labels: {}, tasks: [task('p.1', 31010, OLD)] };
    const list = [plain, { ...scaling, deployments: [] }];
    expect(withoutUnreadyTasks(list)).toBe(list);
    const out = withoutUnreadyTasks([plain, scaling]);
    expect(out[0]).toBe(plain);
    expect(out[1]).toMatchObject({ instances: 1, tasks: [{ id: 'web.a' }] });
  });

  test('blue/green: old tasks drain only for new tasks that are ready', () => {
    const labels = (colour: string, startedAt: string): Record<string, string> => ({
      HAPROXY_GROUP: 'external',
      HAPROXY_DEPLOYMENT_GROUP: 'web',
      HAPROXY_DEPLOYMENT_ALT_PORT: '10002',
      HAPROXY_DEPLOYMENT_COLOUR: colour,
      HAPROXY_DEPLOYMENT_STARTED_AT: startedAt,
      HAPROXY_DEPLOYMENT_TARGET_INSTANCES: '2',
      HAPROXY_0_PORT: '10001',
    });
    const blue: MarathonApp = {
      id: '/web-blue',
      labels: labels('blue', OLD),
      instances: 2,
      version: OLD,
      portDefinitions: [{ port: 10001 }],
      tasks: [task('web-blue.1', 31001, OLD), task('web-blue.2', 31002, OLD)],
    };
    const green: MarathonApp = {
      id: '/web-green',
      labels: labels('green', NEW),
      instances: 1,
      version: NEW,
      portDefinitions: [{ port: 10002 }],
      readinessChecks,
      deployments: [{ id: 'd-2' }],
      readinessCheckResults: [{ taskId: 'web-green.1', ready: false }],
      tasks: [task('web-green.1', 31011, NEW)],
    };
    const servers = (apps: readonly MarathonApp[], respect: boolean): [number, boolean][] =>
      toModel(apps, opts(respect), { resolve }).services.flatMap((s) =>
        s.servers.map((x): [number, boolean] => [x.port, x.draining]),
      );
    // marathon-lb: the new task counts at once, so one old task drains although the new one cannot serve.
    expect(servers([blue, green], false)).toEqual([
      [31001, true],
      [31002, false],
      [31011, false],
    ]);
    // Respecting readiness: the new task is out, no old task drains.
    expect(servers([blue, green], true)).toEqual([
      [31001, false],
      [31002, false],
    ]);
    const readyGreen = { ...green, readinessCheckResults: [{ taskId: 'web-green.1', ready: true }] };
    expect(servers([blue, readyGreen], true)).toEqual([
      [31001, true],
      [31002, false],
      [31011, false],
    ]);
  });
});

describe('the event fast path with --respect-readiness-checks', () => {
  const settled: MarathonApp = {
    ...scaling,
    instances: 1,
    deployments: [],
    readinessCheckResults: [],
    tasks: [task('web.a', 31001, OLD)],
  };
  const state = (respect: boolean): FastState => ({
    apps: [settled],
    model: toModel([settled], opts(respect), { resolve }),
  });
  const running = {
    type: 'status_update_event',
    eventType: 'status_update_event',
    appId: '/web',
    taskId: 'web.b',
    taskStatus: 'TASK_RUNNING',
    host: '10.0.0.1',
    ports: [31002],
  } as const;

  test('a new running task of an app with readiness checks goes to the snapshot instead of HAProxy', () => {
    expect(fastApply(state(false), running, opts(false), { resolve }).ok).toBe(true);
    expect(fastApply(state(true), running, opts(true), { resolve })).toEqual({
      ok: false,
      error:
        'app /web: its tasks have readiness checks (--respect-readiness-checks): the snapshot tells whether they are ready',
    });
    const healthy = {
      type: 'health_status_changed_event',
      eventType: 'health_status_changed_event',
      appId: '/web',
      taskId: 'web.a',
      alive: true,
    } as const;
    expect(fastApply(state(true), healthy, opts(true), { resolve }).ok).toBe(false);
  });

  test('events that only take tasks out stay fast', () => {
    const two = { ...settled, instances: 2, tasks: [task('web.a', 31001, OLD), task('web.b', 31002, OLD)] };
    const s: FastState = { apps: [two], model: toModel([two], opts(true), { resolve }) };
    const killed = fastApply(s, { ...running, taskStatus: 'TASK_KILLED' }, opts(true), { resolve });
    expect(killed.ok && killed.value.changed.flatMap((x) => x.servers.map((y) => y.port))).toEqual([31001]);
    const sick = fastApply(
      s,
      {
        type: 'health_status_changed_event',
        eventType: 'health_status_changed_event',
        appId: '/web',
        taskId: 'web.a',
        alive: false,
      },
      { ...opts(true), healthCheck: true },
      { resolve },
    );
    expect(sick.ok).toBe(true);
  });
});
