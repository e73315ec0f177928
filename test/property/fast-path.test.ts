/**
 * The event fast path against full rebuilds: random task starts, kills, state changes and health
 * flips, replayed on a random apps list (-H on/off, deployment-group pairs, --strict-mode,
 * IP-per-task apps with assigned service ports). Whenever the fast path takes an event, its
 * services and servers must equal a full rebuild (toModel) of the apps list the event left, but for
 * backends whose last servers went (kept empty until the snapshot's reload: servedAfter), and its
 * change must be runtime-only; when it refuses, the snapshot path (a full rebuild) goes on.
 */
import fc from 'fast-check';
import type { FastEvent, FastState } from '../../src/reconcile/fastApply';
import {
  appliesAfterRefusal,
  endsTask,
  fastApply,
  fastApplyAll,
  hasSeveralChecks,
  taskAfter,
} from '../../src/reconcile/fastApply';
import { isDeepStrictEqual } from 'node:util';
import { keptIdsOf } from '../../src/model/keptIds';
import { toModel, type ModelOptions } from '../../src/model/services';
import type { MarathonApp, MarathonTask } from '../../src/marathon/types';
import type { Service } from '../../src/model/types';
import { plan } from '../../src/reconcile/plan';

const SEED = Number(process.env.MLB_PROPERTY_SEED ?? 12);

const HOSTS = ['10.0.0.1', '10.0.0.2', 'agent-1', 'agent-2'];
const resolve = (h: string): string => (h.startsWith('agent-') ? `10.1.0.${h.slice(6)}` : h);

const taskArb = (appNo: number, ipPerTask: boolean): fc.Arbitrary<MarathonTask> =>
  fc
    .record({
      n: fc.integer({ min: 0, max: 5 }),
      host: fc.constantFrom(...HOSTS),
      port: fc.integer({ min: 31000, max: 31005 }),
      state: fc.constantFrom('TASK_RUNNING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_STAGING', 'TASK_UNREACHABLE'),
      health: fc.constantFrom<boolean | null>(true, false, null),
      // Marathon ≥ 1.4 names a task `<instance>.<n>` (`…._app.1`); older ones by the instance alone.
      ofInstance: fc.boolean(),
    })
    .map(({ n, host, port, state, health, ofInstance }) => ({
      id: ofInstance ? `app${appNo}.t${n}._app.1` : `app${appNo}.t${n}`,
      host,
      state,
      ports: [port, port + 10],
      ...(ipPerTask ? { ipAddresses: [{ ipAddress: `172.16.${appNo}.${n + 1}` }] } : {}),
      ...(health === null ? {} : { healthCheckResults: [{ alive: health }] }),
    }));

const appArb = (appNo: number): fc.Arbitrary<MarathonApp> =>
  fc
    .record({
      ipPerTask: fc.boolean(),
      checks: fc.boolean(),
      enabled: fc.constantFrom<string | null>(null, 'true', 'true', 'false'),
      deployGroup: fc.constantFrom<string | null>(null, null, 'blue', 'green'),
      startedAt: fc.constantFrom('2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'),
      instances: fc.integer({ min: 0, max: 3 }),
      target: fc.constantFrom<string | null>(null, '1', '2'),
    })
    .chain((a) =>
      fc
        .uniqueArray(taskArb(appNo, a.ipPerTask), { minLength: 1, maxLength: 4, selector: (t) => t.id })
        .map((tasks): MarathonApp => ({
          id: `/app${appNo}`,
          instances: a.instances,
          labels: {
            HAPROXY_GROUP: 'external',
            ...(a.enabled === null ? {} : { HAPROXY_0_ENABLED: a.enabled }),
            ...(a.deployGroup === null
              ? {}
              : {
                  HAPROXY_DEPLOYMENT_GROUP: a.deployGroup,
                  HAPROXY_DEPLOYMENT_STARTED_AT: a.startedAt,
                  HAPROXY_DEPLOYMENT_ALT_PORT: '10099',
                }),
            ...(a.deployGroup !== null && a.target !== null
              ? { HAPROXY_DEPLOYMENT_NEW_INSTANCES: '1', HAPROXY_DEPLOYMENT_TARGET_INSTANCES: a.target }
              : {}),
          },
          ...(a.ipPerTask
            ? { ipAddress: { discovery: { ports: [{ number: 8080 }] } } }
            : {
                portDefinitions: [
                  { port: a.deployGroup === null ? 10000 + appNo * 2 : 10090 },
                  { port: 10001 + appNo * 2 },
                ],
              }),
          ...(a.checks ? { healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0 }] } : {}),
          tasks,
        })),
    );

/**
 * The reference the fast path is held to: Marathon's apps list after one event, found by searching
 * and copying (as the fast path did before it indexed batches), or null when the event cannot be
 * applied alone (an unknown app or task, a failed check of a task with several): the snapshot's then.
 */
function applyEvent(apps: readonly MarathonApp[], event: FastEvent): readonly MarathonApp[] | null {
  const index = apps.findIndex((a) => a.id === event.appId);
  if (index < 0) return null;
  const app = apps[index]!;
  let tasks: readonly MarathonTask[];
  if (event.type === 'status_update_event') {
    const at = app.tasks.findIndex((t) => t.id === event.taskId);
    if (endsTask(event)) {
      if (at < 0) return apps;
      tasks = app.tasks.filter((_, i) => i !== at);
    } else {
      const task = taskAfter(at < 0 ? undefined : app.tasks[at], event);
      tasks = at < 0 ? [...app.tasks, task] : app.tasks.map((t, i) => (i === at ? task : t));
    }
  } else {
    const matches = (t: MarathonTask): boolean =>
      t.id === event.taskId ||
      (event.instanceId !== undefined &&
        (t.id === event.instanceId ||
          // The app's own part of its task ids (`app0`) names no instance: it matches no task by prefix.
          (event.instanceId.length > app.id.length && t.id.startsWith(`${event.instanceId}.`))));
    if (!app.tasks.some(matches)) return null;
    if (!event.alive && app.tasks.some((t) => matches(t) && hasSeveralChecks(app, t))) return null;
    tasks = app.tasks.map((t) => (matches(t) ? { ...t, healthCheckResults: [{ alive: event.alive }] } : t));
  }
  return apps.map((a, i) => (i === index ? { ...app, tasks } : a));
}

/** `apps` with each subset of those of `later` that end a task applied in turn (the others are refused). */
function withSomeEndings(apps: readonly MarathonApp[], later: readonly FastEvent[]): (readonly MarathonApp[])[] {
  let out: (readonly MarathonApp[])[] = [apps];
  for (const e of later) if (appliesAfterRefusal(e)) out = out.flatMap((l) => [l, applyEvent(l, e) ?? l]);
  return out;
}

/**
 * What the fast path serves after events, given a full rebuild of the apps list they left: those
 * services, and each backend served before that the rebuild no longer has, kept without servers (its
 * app's last tasks gone: only a reload removes a backend, and that is the snapshot's).
 */
function servedAfter(full: readonly Service[], before: readonly Service[]): Service[] {
  const rebuilt = new Set(full.map((s) => s.backend));
  const emptied = before.filter((s) => !rebuilt.has(s.backend)).map((s) => ({ ...s, servers: [] }));
  return [...full, ...emptied].sort((a, b) =>
    a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : a.servicePort - b.servicePort,
  );
}

const appsArb: fc.Arbitrary<MarathonApp[]> = fc
  .integer({ min: 1, max: 5 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => appArb(i))));

const eventArb = (apps: number): fc.Arbitrary<FastEvent> =>
  fc.oneof(
    fc
      .record({
        app: fc.integer({ min: 0, max: apps }),
        n: fc.integer({ min: 0, max: 5 }),
        host: fc.constantFrom(...HOSTS),
        port: fc.integer({ min: 31000, max: 31005 }),
        status: fc.constantFrom(
          'TASK_RUNNING',
          'TASK_RUNNING',
          'TASK_KILLED',
          'TASK_FAILED',
          'TASK_LOST',
          'TASK_FINISHED',
          'TASK_UNREACHABLE',
          'TASK_KILLING',
          'TASK_STAGING',
        ),
      })
      .map(({ app, n, host, port, status }): FastEvent => ({
        type: 'status_update_event',
        eventType: 'status_update_event',
        appId: `/app${app}`,
        taskId: `app${app}.t${n}`,
        taskStatus: status,
        host,
        ports: [port, port + 10],
        ipAddresses: [`172.16.${app}.${n + 1}`],
      })),
    fc
      .record({
        app: fc.integer({ min: 0, max: apps }),
        n: fc.integer({ min: 0, max: 5 }),
        alive: fc.boolean(),
        named: fc.constantFrom('task', 'instance', 'instance', 'prefix'),
      })
      .map(({ app, n, alive, named }): FastEvent => ({
        type: 'health_status_changed_event',
        eventType: 'health_status_changed_event',
        appId: `/app${app}`,
        alive,
        // An instance's id matches its legacy task and its `<instance>.<n>` tasks; `app0` (the app's part of every task id) no task.
        ...(named === 'task'
          ? { taskId: `app${app}.t${n}` }
          : { instanceId: named === 'prefix' ? `app${app}` : `app${app}.t${n}` }),
      })),
  );

const optsArb: fc.Arbitrary<ModelOptions> = fc
  .record({
    healthCheck: fc.boolean(),
    strictMode: fc.boolean(),
    ports: fc.constantFrom({ min: 10050, max: 10060 }, { min: 10050, max: 10052 }),
  })
  .map(({ healthCheck, strictMode, ports }) => ({
    groups: ['external'],
    healthCheck,
    strictMode,
    servicePortRange: ports,
  }));

describe('fast path = full rebuild', () => {
  it('replays random event sequences with the servers a full rebuild gives', () => {
    let fast = 0;
    let refused = 0;
    let withOps = 0; // fast applies that changed servers (not only apps nothing routes)
    let emptied = 0; // fast applies that kept a backend without servers (its last tasks gone)
    fc.assert(
      fc.property(
        appsArb.chain((apps) =>
          fc.tuple(fc.constant(apps), fc.array(eventArb(apps.length), { minLength: 1, maxLength: 15 }), optsArb),
        ),
        ([apps, events, opts]) => {
          const ctx = { resolve };
          // The snapshot path: a full rebuild, its servers that stay keeping the ids `from` runs them with.
          const rebuild = (list: readonly MarathonApp[], from?: FastState): FastState => ({
            apps: list,
            model: toModel(list, opts, from === undefined ? ctx : { ...ctx, keptIds: keptIdsOf(from.model.services) }),
          });
          let state = rebuild(apps);
          for (const e of events) {
            const r = fastApply(state, e, opts, ctx);
            if (!r.ok) {
              refused += 1;
              // The snapshot path: Marathon's list as the event left it (unchanged when unknown).
              state = rebuild(applyEvent(state.apps, e) ?? state.apps, state);
              continue;
            }
            fast += 1;
            const full = rebuild(r.value.state.apps, state).model;
            expect(r.value.state.model.services).toEqual(servedAfter(full.services, state.model.services));
            if (r.value.state.model.services.length > full.services.length) emptied += 1;
            // Runtime-only: the same backends as before, their server churn the only change.
            expect(r.value.state.model.services.map((s) => s.backend)).toEqual(
              state.model.services.map((s) => s.backend),
            );
            const changed = new Set(r.value.changed.map((s) => s.backend));
            const kept = (m: FastState) => m.model.services.filter((s) => !changed.has(s.backend));
            expect(kept(r.value.state)).toEqual(kept(state));
            const before = state.model.services.filter((s) => changed.has(s.backend));
            const p = plan(before, r.value.changed);
            expect(p.reloadReasons).toEqual([]);
            if (p.runtimeOps.length > 0) withOps += 1;
            state = r.value.state;
          }
        },
      ),
      { numRuns: 400, seed: SEED },
    );
    // Both paths were exercised (refusals: unknown apps, the first task of a backend, assigned ports).
    expect(fast).toBeGreaterThan(500);
    // Random addresses: an event moving a task the snapshot knows is the snapshot's (movesTask), so
    // fewer fast applies change servers than when such events were applied (140 against 150+).
    expect(withOps).toBeGreaterThan(120);
    expect(emptied).toBeGreaterThan(5);
    expect(refused).toBeGreaterThan(0);
  });

  it('applies random batches of events as one at a time would, each routed app rebuilt once', () => {
    let batches = 0;
    let together = 0; // batches with several events of one app, all applied
    let someRefused = 0;
    let endedLater = 0; // apps refused that still took a later event ending a task
    fc.assert(
      fc.property(
        appsArb.chain((apps) =>
          fc.tuple(
            fc.constant(apps),
            fc.array(fc.array(eventArb(apps.length), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
            optsArb,
          ),
        ),
        ([apps, eventBatches, opts]) => {
          const ctx = { resolve };
          let state: FastState = { apps, model: toModel(apps, opts, ctx) };
          for (const events of eventBatches) {
            batches += 1;
            const r = fastApplyAll(state, events, opts, ctx);
            // What it served is what a full rebuild of the apps list it left serves, with the same backends.
            const full = toModel(r.state.apps, opts, { ...ctx, keptIds: keptIdsOf(state.model.services) });
            expect(r.state.model.services).toEqual(servedAfter(full.services, state.model.services));
            expect(r.state.model.services.map((s) => s.backend)).toEqual(state.model.services.map((s) => s.backend));
            const changed = new Set(r.changed.map((s) => s.backend));
            const p = plan(
              state.model.services.filter((s) => changed.has(s.backend)),
              r.changed,
            );
            expect(p.reloadReasons).toEqual([]);
            // Each app took all its events, or (refused) the events before one and, of the later ones,
            // only some that end a task: never a later start or health change without an earlier event.
            for (let i = 0; i < state.apps.length; i++) {
              const id = state.apps[i]!.id;
              const own = events.filter((e) => e.appId === id);
              const prefixes = [state.apps];
              for (const e of own) prefixes.push(applyEvent(prefixes[prefixes.length - 1]!, e) ?? prefixes[0]!);
              const took = r.refused.has(id)
                ? prefixes.slice(0, own.length).flatMap((l, k) => withSomeEndings(l, own.slice(k + 1)).map((a) => a[i]))
                : [prefixes[prefixes.length - 1]![i]];
              expect(took).toContainEqual(r.state.apps[i]);
              if (r.refused.has(id) && !prefixes.some((l) => isDeepStrictEqual(l[i], r.state.apps[i]))) endedLater += 1;
            }
            // Where one event at a time takes them all, the batch takes them all and serves the same.
            let seq = state;
            let all = true;
            for (const e of events) {
              const one = fastApply(seq, e, opts, ctx);
              if (!one.ok) all = false;
              else seq = one.value.state;
            }
            if (all) {
              expect(r.refused.size).toBe(0);
              expect(r.state.model.services).toEqual(seq.model.services);
            }
            if (r.refused.size > 0) someRefused += 1;
            const counts = new Map<string, number>();
            for (const e of events) counts.set(e.appId, (counts.get(e.appId) ?? 0) + 1);
            if ([...counts].some(([id, n]) => n > 1 && !r.refused.has(id))) together += 1;
            state = r.state;
          }
        },
      ),
      { numRuns: 300, seed: SEED + 9 },
    );
    expect(batches).toBeGreaterThan(500);
    expect(together).toBeGreaterThan(100);
    expect(someRefused).toBeGreaterThan(0);
    expect(endedLater).toBeGreaterThan(0);
  });

  it('leaves unknown apps and health changes of unknown tasks to the snapshot', () => {
    const app: MarathonApp = {
      id: '/a',
      labels: { HAPROXY_GROUP: 'external' },
      portDefinitions: [{ port: 10000 }],
      tasks: [{ id: 'a.1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
    };
    const opts: ModelOptions = { groups: ['external'], healthCheck: false, strictMode: false, servicePortRange: null };
    const state: FastState = { apps: [app], model: toModel([app], opts, { resolve }) };
    const unknownApp = fastApply(
      state,
      {
        type: 'status_update_event',
        eventType: 'status_update_event',
        appId: '/b',
        taskId: 'b.1',
        taskStatus: 'TASK_RUNNING',
        host: '10.0.0.1',
        ports: [31000],
      },
      opts,
      { resolve },
    );
    expect(unknownApp.ok).toBe(false);
    const unknownTask = fastApply(
      state,
      {
        type: 'health_status_changed_event',
        eventType: 'health_status_changed_event',
        appId: '/a',
        taskId: 'a.9',
        alive: true,
      },
      opts,
      { resolve },
    );
    expect(unknownTask.ok).toBe(false);
    const secondTask: FastEvent = {
      type: 'status_update_event',
      eventType: 'status_update_event',
      appId: '/a',
      taskId: 'a.2',
      taskStatus: 'TASK_RUNNING',
      host: '10.0.0.2',
      ports: [31001],
    };
    // Killing the only task empties the backend (runtime-only); removing it is the snapshot's reload.
    const lastTask = fastApply(
      state,
      {
        type: 'status_update_event',
        eventType: 'status_update_event',
        appId: '/a',
        taskId: 'a.1',
        taskStatus: 'TASK_KILLED',
      },
      opts,
      { resolve },
    );
    if (!lastTask.ok) throw new Error(lastTask.error);
    expect(lastTask.value.state.model.services).toEqual([{ ...state.model.services[0]!, servers: [] }]);
    expect(plan(state.model.services, lastTask.value.state.model.services).runtimeOps).toEqual([
      { kind: 'remove-server', backend: 'a_10000', server: state.model.services[0]!.servers[0] },
    ]);
    // Its task back: runtime-only again, into the emptied backend.
    const back = fastApply(lastTask.value.state, secondTask, opts, { resolve });
    if (!back.ok) throw new Error(back.error);
    expect(back.value.state.model.services.map((s) => s.servers.map((x) => x.name))).toEqual([['10_0_0_2_31001']]);
    // A second task: runtime-only, one more server.
    const scaled = fastApply(state, secondTask, opts, { resolve });
    expect(scaled.ok && scaled.value.state.model.services[0]!.servers.map((s) => `${s.ip}:${s.port}`)).toEqual([
      '10.0.0.1:31000',
      '10.0.0.2:31001',
    ]);
  });
});
