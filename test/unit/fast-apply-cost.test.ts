/**
 * What a burst of task events costs the fast path, counted (no clock): reads of task ids, and
 * elements copied out of the cluster-sized lists. Each event must cost the size of its change, not of
 * its app or of the cluster. Found by an attack: 500 events of an app of 40 000 tasks held the controller (and its /healthz) 5 s, searching
 * and copying the app's tasks for every event; 2 000 events of 2 000 apps of 20 000 copied the apps
 * and services lists for every one of them.
 */
import type { FastEvent, FastState } from '../../src/reconcile/fastApply';
import { fastApplyAll } from '../../src/reconcile/fastApply';
import { toModel, type ModelOptions } from '../../src/model/services';
import type { MarathonApp, MarathonTask } from '../../src/marathon/types';

const opts: ModelOptions = { groups: ['external'], healthCheck: false, strictMode: false, servicePortRange: null };
const ctx = { resolve: (h: string): string => h };
const hostOf = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

const task = (app: number, n: number): MarathonTask => ({
  id: `app${app}.t${n}`,
  host: hostOf(n + 1),
  ports: [31000],
  state: 'TASK_RUNNING',
});
const app = (i: number, tasks: readonly MarathonTask[]): MarathonApp => ({
  id: `/app${i}`,
  labels: { HAPROXY_GROUP: 'external' },
  portDefinitions: [{ port: 10000 + i }],
  tasks,
});
/** A status update of task `n` of /app0. */
const update = (n: number, taskStatus: string, more: { readonly ports?: number[] } = {}): FastEvent => ({
  type: 'status_update_event',
  eventType: 'status_update_event',
  appId: '/app0',
  taskId: `app0.t${n}`,
  taskStatus,
  ...more,
});
const started = (appNo: number, n: number): FastEvent => ({
  type: 'status_update_event',
  eventType: 'status_update_event',
  appId: `/app${appNo}`,
  taskId: `app${appNo}.new${n}`,
  taskStatus: 'TASK_RUNNING',
  host: hostOf(100_000 + n),
  ports: [31000],
});

/** Tasks whose `id` counts its reads: searching an app's tasks reads every id. */
function countingIds(tasks: readonly MarathonTask[]): { readonly tasks: MarathonTask[]; readonly reads: () => number } {
  let reads = 0;
  const out = tasks.map((t) => {
    const { id, ...rest } = t;
    return Object.defineProperty({ ...rest }, 'id', {
      enumerable: true,
      get: () => {
        reads++;
        return id;
      },
    }) as MarathonTask;
  });
  return { tasks: out, reads: () => reads };
}

/** How many elements `run` copied out of arrays at least `size` long with slice (the lists' copies). */
function elementsCopied(size: number, run: () => void): number {
  const slice = Array.prototype.slice;
  let copied = 0;
  const spy = jest.spyOn(Array.prototype, 'slice').mockImplementation(function (this: unknown[], ...args) {
    if (this.length >= size) copied += this.length;
    return slice.apply(this, args) as unknown[];
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return copied;
}

describe('the fast path costs the size of a change, not of the app or the cluster', () => {
  test('events of one big app read its tasks a bounded number of times, however many events', () => {
    const TASKS = 20_000;
    // As many as the runtime API takes for such a backend before a reload is sooner (plan.ts).
    const EVENTS = 100;
    const tasks = countingIds(Array.from({ length: TASKS }, (_, n) => task(0, n)));
    const apps = [app(0, tasks.tasks)];
    const state: FastState = { apps, model: toModel(apps, opts, ctx) };
    const before = tasks.reads();
    const r = fastApplyAll(
      state,
      Array.from({ length: EVENTS }, (_, n) => started(0, n)),
      opts,
      ctx,
    );
    expect(r.refused).toEqual(new Map());
    expect(r.state.apps[0]!.tasks).toHaveLength(TASKS + EVENTS);
    expect(r.changed[0]!.servers).toHaveLength(TASKS + EVENTS);
    // The tasks indexed once and the app rebuilt once (a few reads of each id): not searched per event.
    expect(tasks.reads() - before).toBeLessThanOrEqual(5 * TASKS);
  });

  test('events of many apps read the apps and services lists a bounded number of times', () => {
    const APPS = 2_000;
    const apps = Array.from({ length: APPS }, (_, i) => app(i, [task(i, 0)]));
    const state: FastState = { apps, model: toModel(apps, opts, ctx) };
    let r: ReturnType<typeof fastApplyAll> | undefined;
    const copied = elementsCopied(APPS, () => {
      r = fastApplyAll(
        state,
        Array.from({ length: APPS }, (_, i) => started(i, 0)),
        opts,
        ctx,
      );
    });
    expect(r!.refused).toEqual(new Map());
    expect(r!.changed).toHaveLength(APPS);
    expect(r!.state.model.services.every((s) => s.servers.length === 2)).toBe(true);
    // The apps and services lists copied once for the batch: not again for every app's event.
    expect(copied).toBeLessThanOrEqual(2 * APPS);
  });

  test('a big batch of one app that is more than server churn goes to the snapshot whole, not one rebuild per event', () => {
    // New tasks of an app of two service ports start with both ports (its old ones had one): the second
    // port's backend appears, a reload (the snapshot's). One at a time, that was a rebuild of the app
    // per event, each refused. (Known tasks said to have other ports are refused at once: movesTask.)
    const TASKS = 40;
    const twoPorts = (tasks: readonly MarathonTask[]): MarathonApp => ({
      ...app(0, tasks),
      portDefinitions: [{ port: 10000 }, { port: 10500 }],
    });
    const withBothPorts = (n: number): FastEvent => ({
      type: 'status_update_event',
      eventType: 'status_update_event',
      appId: '/app0',
      taskId: `app0.both${n}`,
      taskStatus: 'TASK_RUNNING',
      host: hostOf(200_000 + n),
      ports: [31000, 31001],
    });
    const tasks = countingIds(Array.from({ length: TASKS }, (_, n) => task(0, n)));
    const apps = [twoPorts(tasks.tasks)];
    const state: FastState = { apps, model: toModel(apps, opts, ctx) };
    const before = tasks.reads();
    const r = fastApplyAll(
      state,
      Array.from({ length: TASKS }, (_, n) => withBothPorts(n)),
      opts,
      ctx,
    );
    expect(r.state).toBe(state);
    expect(r.changed).toEqual([]);
    expect(r.refused.get('/app0')).toMatch(/^app \/app0: backend-added \(40 events together: left to the snapshot\)$/);
    expect(tasks.reads() - before).toBeLessThanOrEqual(5 * TASKS);
    // A small one is still taken one event at a time: each refused alone, the app left to the snapshot.
    const small = [twoPorts(Array.from({ length: 3 }, (_, n) => task(0, n)))];
    const smallState: FastState = { apps: small, model: toModel(small, opts, ctx) };
    const few = fastApplyAll(
      smallState,
      Array.from({ length: 3 }, (_, n) => withBothPorts(n)),
      opts,
      ctx,
    );
    expect(few.refused.get('/app0')).toBe('app /app0: backend-added');
    expect(few.state).toBe(smallState);
  });

  test("an app's last tasks killed together empty its backend through the runtime API, one rebuild for the batch", () => {
    const TASKS = 40;
    const tasks = countingIds(Array.from({ length: TASKS }, (_, n) => task(0, n)));
    const apps = [app(0, tasks.tasks)];
    const state: FastState = { apps, model: toModel(apps, opts, ctx) };
    const before = tasks.reads();
    const r = fastApplyAll(
      state,
      Array.from({ length: TASKS }, (_, n) => update(n, 'TASK_KILLED')),
      opts,
      ctx,
    );
    expect(r.refused).toEqual(new Map());
    expect(r.state.apps[0]!.tasks).toEqual([]);
    expect(r.state.model.services.map((s) => [s.backend, s.servers.length])).toEqual([['app0_10000', 0]]);
    expect(r.changed.map((s) => s.backend)).toEqual(['app0_10000']);
    expect(tasks.reads() - before).toBeLessThanOrEqual(5 * TASKS);
  });
});
