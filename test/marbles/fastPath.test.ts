import { NEVER, Observable, map, of, tap, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { MarathonEvent, StatusUpdateEvent } from '../../src/marathon/eventTypes';
import type { StreamItem } from '../../src/marathon/events';
import { appliesAfterRefusal, type FastEvent } from '../../src/reconcile/fastApply';
import type { Server, Service } from '../../src/model/types';
import { AppliedState } from '../../src/reconcile/appliedState';
import type { DesiredState } from '../../src/reconcile/applyPort';
import { fastPath, type FastBuilt, type FastPathDeps, type FastWork } from '../../src/reconcile/fastPath';
import { pipeline, type PipelineEvent } from '../../src/reconcile/pipeline';
import { RecordingHaproxy } from '../support/recordingHaproxy';
import { makeService, VIRTUAL_TIMING } from '../support/fixtures';
import { err, ok, type Result } from '../../src/result';
import { finished, type Steps } from '../../src/steps';

const newScheduler = (): TestScheduler => new TestScheduler((a, b) => expect(a).toEqual(b));

const server = (n: number): Server => ({
  name: `s${n}`,
  id: n,
  host: 'h',
  ip: '10.0.0.1',
  port: 31000 + n,
  draining: false,
  healthCheckPort: null,
});
const service = (tasks: readonly number[]): Service => makeService('a_10000', tasks.map(server), { appId: '/a' });
const cfgOf = (tasks: readonly number[]): string =>
  `backend a_10000\n${tasks.map((n) => `  server s${n} 10.0.0.1:${31000 + n}\n`).join('')}`;
/** A state is app /a's task numbers; the apps list it came from is not needed by these fakes. */
const stateOf = (tasks: readonly number[], fast = false, eventsOn?: DesiredState): DesiredState => ({
  model: { services: [service(tasks)], problems: [] },
  rendered: { config: cfgOf(tasks), domainMap: '', appMap: '', served: [], problems: [] },
  // As the real builds: the snapshot model the events were applied to (what corrections compare with).
  source: {
    apps: [],
    hosts: new Map(),
    fast,
    ...(eventsOn === undefined ? {} : { snapshotModel: eventsOn.source?.snapshotModel ?? eventsOn.model }),
  },
});
const tasksOf = (s: DesiredState): number[] => s.model.services[0]!.servers.map((x) => x.id);

const started = (n: number, appId = '/a'): StatusUpdateEvent => ({
  type: 'status_update_event',
  eventType: 'status_update_event',
  appId,
  taskId: `t${n}`,
  taskStatus: 'TASK_RUNNING',
  host: 'h',
  ports: [31000 + n],
});
const posted: MarathonEvent = { type: 'api_post_event', eventType: 'api_post_event', appId: '/a' };
/** The fake build of one event: a started task of /a joins the base's servers; any other app is unknown. */
const buildOne = (e: FastEvent, base: DesiredState): Result<DesiredState> => {
  if (e.appId !== '/a' || e.type !== 'status_update_event') return err(`app ${e.appId}: unknown`);
  return ok(stateOf([...tasksOf(base), Number(e.taskId.slice(1))], true, base));
};
/** A fake build of a batch from one of an event: the events in turn; an app refused takes only events ending a task. */
const inTurn =
  (one: (e: FastEvent, base: DesiredState) => Result<DesiredState>) =>
  (events: readonly FastEvent[], base: DesiredState): FastBuilt => {
    let state: DesiredState | null = null;
    const refused = new Map<string, string>();
    for (const e of events) {
      if (refused.has(e.appId) && !appliesAfterRefusal(e)) continue;
      const r = one(e, state ?? base);
      if (r.ok) state = r.value;
      else if (!refused.has(e.appId)) refused.set(e.appId, r.error);
    }
    return { state, refused };
  };
const build = inTurn(buildOne);
/** The stage under test on the test scheduler; the reasons it leaves events to the snapshot go to `refused`. */
const stage = (
  t: TestScheduler,
  current: () => DesiredState | null,
  b: FastPathDeps['build'],
  refused: string[] = [],
): ReturnType<typeof fastPath> =>
  fastPath({ current, build: b, now: () => 0, scheduler: t, onRefused: (_e, r) => refused.push(r) });

describe('fastPath stage', () => {
  it('turns task events of known apps into work at once, each building on the last; leaves the rest to the snapshot', () => {
    const t = newScheduler();
    t.run(({ hot, expectObservable, flush }) => {
      const applied = stateOf([1]);
      const refused: string[] = [];
      const seen: number[][] = [];
      const events = hot<MarathonEvent>('-a-p-b-u-c', {
        a: started(2),
        p: posted,
        b: started(3),
        u: started(9, '/other'),
        c: started(4),
      });
      const out = events.pipe(
        stage(t, () => applied, build, refused),
        tap((w) => seen.push(tasksOf(w.state))),
      );
      expectObservable(out.pipe(map((w: FastWork) => w.fast.what))).toBe('-a---b---c', {
        a: 'status_update_event of app /a',
        b: 'status_update_event of app /a',
        c: 'status_update_event of app /a',
      });
      flush();
      // Nothing was applied meanwhile: each builds on the previous one (the sink keeps only the newest).
      expect(seen).toEqual([
        [1, 2],
        [1, 2, 3],
        [1, 2, 3, 4],
      ]);
      expect(refused).toEqual(['app /other: unknown']);
    });
  });

  it("once an app's event is refused, its later events are the snapshot's too, until a snapshot is applied", () => {
    const t = newScheduler();
    t.run(({ hot, cold, flush }) => {
      let applied: DesiredState = stateOf([1]);
      const refused: string[] = [];
      const seen: number[][] = [];
      // Task 1 killed (the fake build refuses it, as removing an app's last task removes its backend),
      // then task 2 started: built on [1], it would serve the killed task 1 again.
      const killed: MarathonEvent = { ...started(1), taskStatus: 'TASK_KILLED' } as MarathonEvent;
      const refusing = inTurn((e: FastEvent, base: DesiredState) =>
        e.type === 'status_update_event' && e.taskStatus === 'TASK_KILLED' ? err('backend-removed') : buildOne(e, base),
      );
      const events = hot<MarathonEvent>('-k-a-----b', { k: killed, a: started(2), b: started(3) });
      events.pipe(stage(t, () => applied, refusing, refused)).subscribe((w) => seen.push(tasksOf(w.state)));
      cold('-----x').subscribe(() => (applied = stateOf([2]))); // the snapshot: task 1 gone, task 2 there
      flush();
      expect(refused).toEqual(['backend-removed', 'app /a: an earlier event of it is left to the snapshot']);
      expect(seen).toEqual([[2, 3]]);
    });
  });

  it('an event that ends a task still applies while its app is left to the snapshot', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const applied: DesiredState = stateOf([1, 2]);
      const refused: string[] = [];
      const seen: number[][] = [];
      // A failed check of task 1 is refused (it has several checks); Marathon then kills it, and a
      // task 3 starts: the kill takes task 1 out at once, the start waits for the snapshot.
      const failed: MarathonEvent = {
        type: 'health_status_changed_event',
        eventType: 'health_status_changed_event',
        appId: '/a',
        taskId: 't1',
        alive: false,
      };
      const killed: MarathonEvent = { ...started(1), taskStatus: 'TASK_KILLED' } as MarathonEvent;
      const oneEach = inTurn((e: FastEvent, base: DesiredState) => {
        if (e.type === 'health_status_changed_event') return err('several health checks');
        if (e.taskStatus !== 'TASK_KILLED') return buildOne(e, base);
        return ok(
          stateOf(
            tasksOf(base).filter((n) => `t${n}` !== e.taskId),
            true,
          ),
        );
      });
      const events = hot<MarathonEvent>('-f-k-a', { f: failed, k: killed, a: started(3) });
      events.pipe(stage(t, () => applied, oneEach, refused)).subscribe((w) => seen.push(tasksOf(w.state)));
      flush();
      expect(refused).toEqual(['several health checks', 'app /a: an earlier event of it is left to the snapshot']);
      expect(seen).toEqual([[2]]);
    });
  });

  it("names the refused event only when it was its app's one event of the batch", () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const said: string[] = [];
      const refusing = (): FastBuilt => ({ state: null, refused: new Map([['/a', 'app /a: readiness']]) });
      const killed: MarathonEvent = { ...started(1), taskStatus: 'TASK_KILLED' } as MarathonEvent;
      hot<MarathonEvent>('-(ks)-k', { k: killed, s: started(2) })
        .pipe(
          fastPath({
            current: () => stateOf([1]),
            build: refusing,
            now: () => 0,
            scheduler: t,
            onRefused: (what, r) => said.push(`${what}: ${r}`),
          }),
        )
        .subscribe();
      flush();
      // Before, a batch's first event (here the kill) was named, whichever of them was refused.
      expect(said).toEqual([
        'one of 2 task and health events: app /a: readiness',
        'status_update_event: app /a: readiness',
      ]);
    });
  });

  it('a build that throws leaves its batch to the snapshot and the stage goes on', () => {
    const t = newScheduler();
    t.run(({ hot, expectObservable, flush }) => {
      const refused: string[] = [];
      const errors: unknown[] = [];
      // /b's events throw in the build (as a model bug or data it cannot handle would); /a's build.
      const throwing = (events: readonly FastEvent[], base: DesiredState): FastBuilt => {
        if (events.some((e) => e.appId === '/b')) throw new RangeError('Maximum call stack size exceeded');
        return build(events, base);
      };
      const events = hot<MarathonEvent>('-b-a', { b: started(5, '/b'), a: started(2) });
      const out = events.pipe(
        fastPath({
          current: () => stateOf([1]),
          build: throwing,
          now: () => 0,
          scheduler: t,
          onRefused: (_e, r) => refused.push(r),
          onError: (e) => errors.push(e),
        }),
      );
      expectObservable(out.pipe(map((w: FastWork) => w.fast.what))).toBe('---a', {
        a: 'status_update_event of app /a',
      });
      flush();
      expect(refused).toEqual(['app /b: building its events failed (Maximum call stack size exceeded)']);
      expect(errors).toHaveLength(1);
    });
  });

  it('builds the events of one turn together: a burst is one build and one work', () => {
    const t = newScheduler();
    t.run(({ hot, expectObservable, flush }) => {
      const applied = stateOf([1]);
      const batches: number[] = [];
      const refused: string[] = [];
      const counting = (events: readonly FastEvent[], base: DesiredState): FastBuilt => {
        batches.push(events.length);
        return build(events, base);
      };
      const events = hot<MarathonEvent>('-(abpuc)--d', {
        a: started(2),
        b: started(3),
        p: posted,
        u: started(9, '/other'),
        c: started(4),
        d: started(5),
      });
      const out = events.pipe(stage(t, () => applied, counting, refused));
      expectObservable(out.pipe(map((w) => [w.fast.what, tasksOf(w.state).join(',')]))).toBe('-x--------y', {
        x: ['3 task and health events of app /a', '1,2,3,4'],
        y: ['status_update_event of app /a', '1,2,3,4,5'],
      });
      flush();
      expect(batches).toEqual([4, 1]); // the api_post_event is not the fast path's
      expect(refused).toEqual(['app /other: unknown']);
    });
  });

  it('an app refused part way is not said to have had all its events applied', () => {
    const t = newScheduler();
    t.run(({ hot, expectObservable, flush }) => {
      const applied = stateOf([1]);
      const refused: string[] = [];
      const health: MarathonEvent = {
        type: 'health_status_changed_event',
        eventType: 'health_status_changed_event',
        appId: '/a',
        taskId: 't2',
        alive: false,
      };
      // Task 2's start is applied; the health event is refused, and the start after it waits for the snapshot.
      const events = hot<MarathonEvent>('-(ahb)', { a: started(2), h: health, b: started(3) });
      const out = events.pipe(stage(t, () => applied, build, refused));
      expectObservable(out.pipe(map((w) => [w.fast.what, tasksOf(w.state).join(',')]))).toBe('-x', {
        x: ['3 task and health events of app /a, but those left to the snapshot', '1,2'],
      });
      flush();
      expect(refused).toEqual(['app /a: unknown']);
    });
  });

  it('does nothing before the first apply, and starts again from a snapshot once one was applied', () => {
    const t = newScheduler();
    t.run(({ hot, cold, flush }) => {
      let applied: DesiredState | null = null;
      const seen: number[][] = [];
      const events = hot<MarathonEvent>('-a-b-c-----d', { a: started(2), b: started(3), c: started(4), d: started(6) });
      events.pipe(stage(t, () => applied, build)).subscribe((w) => seen.push(tasksOf(w.state)));
      // The first snapshot [1] is applied at frame 2; a later snapshot [1, 5] at frame 8.
      cold('--x-----y').subscribe((v) => (applied = v === 'x' ? stateOf([1]) : stateOf([1, 5])));
      flush();
      expect(seen).toEqual([
        [1, 3],
        [1, 3, 4],
        [1, 5, 6],
      ]);
    });
  });
});

/** Once HAProxy ran a task, no later state it was given lacks it. */
function expectNothingTakenBack(configs: readonly string[]): void {
  const ran = new Set<number>();
  for (const config of configs) {
    const tasks = [...config.matchAll(/server s(\d+)/g)].map((m) => Number(m[1]));
    for (const n of ran) expect(tasks).toContain(n);
    for (const n of tasks) ran.add(n);
  }
}

describe('pipeline with the fast path (virtual time)', () => {
  function setup(
    t: TestScheduler,
    items: Observable<StreamItem>,
    /** The answer of each fetch in turn (the last one again after), or the answer at the time a fetch begins. */
    snapshots: number[][] | ((now: number) => number[]),
    fetchMs = 0,
    needsSnapshot?: (e: MarathonEvent) => boolean,
    applyMs = 0,
    /** How many events each replay was given. */
    replays: number[] = [],
    fast: FastPathDeps['build'] = build,
  ) {
    const haproxy = new RecordingHaproxy(applyMs > 0 ? { ms: applyMs, scheduler: t } : undefined);
    const applied = new AppliedState();
    const events: PipelineEvent[] = [];
    const times: number[] = []; // of each event
    let fetches = 0;
    /** The fake replay: each started task of /a joins the snapshot's servers, once. */
    const replay = (state: DesiredState, es: readonly FastEvent[]): Steps<DesiredState> => {
      replays.push(es.length);
      const tasks = [...new Set([...tasksOf(state), ...es.map((e) => Number((e.taskId ?? '').slice(1)))])];
      return finished(tasks.length === tasksOf(state).length ? state : stateOf(tasks, false, state));
    };
    const run$ = pipeline<number[]>({
      items$: items,
      signals$: NEVER,
      fetch: () => {
        const snap =
          typeof snapshots === 'function' ? snapshots(t.now()) : snapshots[Math.min(fetches++, snapshots.length - 1)]!;
        return fetchMs === 0 ? of(snap) : timer(fetchMs, t).pipe(map(() => snap));
      },
      build: (tasks) => finished(ok(stateOf(tasks))),
      fast,
      replay,
      ...(needsSnapshot === undefined ? {} : { needsSnapshot }),
      haproxy,
      applied,
      report: (e) => {
        events.push(e);
        times.push(t.now());
      },
      scheduler: t,
      timing: VIRTUAL_TIMING,
    });
    return { haproxy, applied, events, times, run$, fetches: () => fetches };
  }
  const kinds = (events: readonly PipelineEvent[]): string[] =>
    events.flatMap((e) =>
      e.kind === 'fast-path' ? [`fast-${e.outcome}`] : e.kind === 'applied' || e.kind === 'unchanged' ? [e.kind] : [],
    );

  it('applies a task start through the runtime API before the debounced snapshot, which then finds nothing to do', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('-c----------------------------e', {
        c: { kind: 'connected', url: 'x' },
        e: { kind: 'event', event: started(2) },
      });
      const s = setup(t, items, [[1], [1, 2]]);
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 200);
      flush();
      expect(kinds(s.events)).toEqual(['applied', 'applied', 'fast-applied', 'unchanged']);
      expect(s.haproxy.applies.map((a) => a.config)).toEqual([cfgOf([1]), cfgOf([1, 2])]);
      // The fast apply was runtime-only, at the event's frame (30), not after the quiet time.
      const fastApplying = s.events.filter((e) => e.kind === 'applying')[1];
      expect(fastApplying).toMatchObject({ reasons: [], runtimeOps: 1, triggeredAt: 30, fast: true });
      // ... marked as no read of Marathon; the snapshots are not.
      expect(s.events.filter((e) => e.kind === 'applying')[0]).not.toHaveProperty('fast');
    });
  });

  it('a state of a task after it ended (an event out of order) is neither applied nor replayed onto a snapshot', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      // Task 2 is killed at 50; a TASK_RUNNING of it comes late, at 60, while a fetch (20 frames) is under way.
      const killed: MarathonEvent = { ...started(2), taskStatus: 'TASK_KILLED' };
      const items = hot<StreamItem>('-c 48ms k 9ms r', {
        c: { kind: 'connected', url: 'x' },
        k: { kind: 'event', event: killed },
        r: { kind: 'event', event: started(2) },
      });
      const built: string[] = [];
      const replays: number[] = [];
      const recording: FastPathDeps['build'] = (events, base) => {
        built.push(...events.map((e) => (e.type === 'status_update_event' ? e.taskStatus : e.type)));
        return { state: base, refused: new Map() };
      };
      const s = setup(t, items, [[1, 2], [1]], 20, () => true, 0, replays, recording);
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 200);
      flush();
      expect(new Set(built)).toEqual(new Set(['TASK_KILLED'])); // built again on a snapshot, maybe, but only it
      expect(replays.every((n) => n <= 1)).toBe(true); // the kill alone, when a replay had any
      expect(s.haproxy.applies.at(-1)!.config).toBe(cfgOf([1]));
      expect(s.events).toContainEqual({
        kind: 'fast-path',
        outcome: 'refused',
        detail: 'status_update_event: app /a: task t2 ended before this TASK_RUNNING (an event out of order): ignored',
      });
    });
  });

  it('task churn does not wait behind a snapshot whose apply keeps failing: it goes through at once, and the snapshot is still retried', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      // A snapshot at 20 (task 9 of another kind of change) fails at each try, retried 10 then 20 frames
      // later (VIRTUAL_TIMING). Task 2 starts at 28, during the first wait.
      const items = hot<StreamItem>('-c 18ms p 7ms e', {
        c: { kind: 'connected', url: 'x' },
        p: { kind: 'event', event: posted },
        e: { kind: 'event', event: started(2) },
      });
      const s = setup(t, items, (now) => (now < 20 ? [1] : now < 28 ? [1, 9] : [1, 2, 9]));
      s.haproxy.failConfigs((config) => config.includes('server s9 '));
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 60);
      flush();
      const at = (kind: string, tasks: string): number[] =>
        s.events.flatMap((e, i) =>
          e.kind === kind && (e.kind !== 'applied' || tasksOf(e.state!).join(',') === tasks) ? [s.times[i]!] : [],
        );
      expect(at('applied', '1,2')).toEqual([28]); // at the event, not when the wait ends (35)
      const failed = at('apply-failed', '');
      expect(failed.length).toBeGreaterThanOrEqual(2); // the snapshot retried after the fast apply
      expect(failed[1]).toBeGreaterThan(28);
      expect(s.haproxy.applies.at(-1)!.config).toContain('server s9 '); // with task 2: replayed on what HAProxy runs
      expect(s.haproxy.applies.at(-1)!.config).toContain('server s2 ');
    });
  });

  it('a snapshot fetched while events came is older than them: they are applied to it again, nothing taken back', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      // Fetches take 30 frames. Task 7 starts at 50: the fetch it triggers begins at 55; task 2 starts at
      // 60, during that fetch, whose answer (at 85) shows task 7 but not task 2 yet.
      const items = hot<StreamItem>('-c 48ms e 9ms f', {
        c: { kind: 'connected', url: 'x' },
        e: { kind: 'event', event: started(7) },
        f: { kind: 'event', event: started(2) },
      });
      const s = setup(t, items, [[1], [1, 7], [1, 7, 2]], 30);
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 300);
      flush();
      // Every state HAProxy ran after task 2's fast apply kept task 2.
      const after = s.haproxy.applies.map((a) => a.config);
      expect(after[after.length - 1]).toBe(cfgOf([1, 7, 2]));
      expect(after.slice(after.indexOf(cfgOf([1, 7, 2])))).toEqual([cfgOf([1, 7, 2])]);
      expect(kinds(s.events)).not.toContain('fast-corrected');
    });
  });

  it("fast work that waited while a snapshot was applied is built again on it: neither its servers nor the snapshot's are taken back", () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      // Each apply takes 10 frames. Task 2 starts at 30; the snapshot it triggers shows task 9 as well,
      // which no event announced. Tasks 3 and 4 start (50, 55) while that snapshot is applied, task 5
      // (65) while their work is; later snapshots show them all.
      const items = hot<StreamItem>('-c 28ms e 19ms f 4ms g 9ms h', {
        c: { kind: 'connected', url: 'x' },
        e: { kind: 'event', event: started(2) },
        f: { kind: 'event', event: started(3) },
        g: { kind: 'event', event: started(4) },
        h: { kind: 'event', event: started(5) },
      });
      const s = setup(t, items, [[1], [1, 2, 9], [1, 2, 9, 3, 4, 5]], 0, undefined, 10);
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 150);
      flush();
      const states = s.haproxy.applies.map((a) => a.config);
      expectNothingTakenBack(states);
      expect(tasksOf(s.applied.current!).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 9]);
    });
  });

  it('fast work rebuilt with the events of works dropped for it, and refused so, says so and leaves them to the snapshot', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      // Each apply takes 10 frames. Task 2 starts at 30 (applied 30–40); tasks 3 and 4 start meanwhile,
      // each work built alone. The sink keeps the newest; rebuilt with both events at its turn, the
      // builder refuses them together (as a burst too big for the runtime API is).
      const items = hot<StreamItem>('-c 28ms e 2ms f 2ms g', {
        c: { kind: 'connected', url: 'x' },
        e: { kind: 'event', event: started(2) },
        f: { kind: 'event', event: started(3) },
        g: { kind: 'event', event: started(4) },
      });
      const apart: FastPathDeps['build'] = (events, base) =>
        events.length > 1
          ? { state: null, refused: new Map([['/a', 'app /a: too many together']]) }
          : build(events, base);
      const s = setup(t, items, [[1], [1, 2, 3, 4]], 0, undefined, 10, [], apart);
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 150);
      flush();
      const fast = s.events.flatMap((e, i) => (e.kind === 'fast-path' ? [[s.times[i], e.outcome, e.detail]] : []));
      expect(fast).toEqual([
        [40, 'applied', 'status_update_event of app /a'],
        [40, 'refused', 'events of app /a: app /a: too many together'],
      ]);
      // Not taken as applied: the snapshot that comes after the quiet time brings tasks 3 and 4.
      expect(tasksOf(s.applied.current!)).toEqual([1, 2, 3, 4]);
    });
  });

  it('slow fetches and slow applies: a snapshot replays what HAProxy runs, later events follow it, and nothing is taken back', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      // Fetches take 30 frames and applies 10: snapshots arrive while task events are applied, and task
      // events arrive while snapshots are. Each snapshot shows the tasks started when its fetch began.
      const items = hot<StreamItem>('-x 19ms a 9ms b 9ms c 4ms d 4ms e 14ms f 2ms g', {
        x: { kind: 'connected', url: 'x' },
        a: { kind: 'event', event: started(2) },
        b: { kind: 'event', event: started(3) },
        c: { kind: 'event', event: started(4) },
        d: { kind: 'event', event: started(5) },
        e: { kind: 'event', event: started(6) },
        f: { kind: 'event', event: started(7) },
        g: { kind: 'event', event: started(8) },
      });
      const startedAt: [number, number][] = [
        [2, 21],
        [3, 31],
        [4, 41],
        [5, 46],
        [6, 51],
        [7, 66],
        [8, 69],
      ];
      const marathon = (now: number): number[] => [1, ...startedAt.filter(([, at]) => at <= now).map(([n]) => n)];
      const s = setup(t, items, marathon, 30, undefined, 10);
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 400);
      flush();
      expectNothingTakenBack(s.haproxy.applies.map((a) => a.config));
      expect(tasksOf(s.applied.current!).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(kinds(s.events)).not.toContain('fast-corrected');
    });
  });

  it('a snapshot that differs from what the fast path did corrects it, and says so', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('-c----------------------------e', {
        c: { kind: 'connected', url: 'x' },
        e: { kind: 'event', event: started(2) },
      });
      // Marathon says task 2 is not there (it failed again already), task 3 is.
      const s = setup(t, items, [[1], [1, 3]]);
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 200);
      flush();
      expect(kinds(s.events)).toEqual(['applied', 'applied', 'fast-applied', 'fast-corrected', 'applied']);
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1, 3]));
    });
  });

  it('a task added by an event Marathon never had is a correction, though a snapshot read meanwhile replayed it', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      // Task 2 starts for real (frame 40); task 9's event comes while the snapshot after it is read.
      const items = hot<StreamItem>('-c' + '-'.repeat(38) + 'a' + '-'.repeat(9) + 'b', {
        c: { kind: 'connected', url: 'x' },
        a: { kind: 'event', event: started(2) },
        b: { kind: 'event', event: started(9) },
      });
      const s = setup(t, items, (now) => (now < 40 ? [1] : [1, 2]), 20);
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 400);
      flush();
      // The replayed snapshot kept task 9 (no correction yet); the next one, without it, corrected it once.
      expect(kinds(s.events).filter((k) => k === 'fast-corrected')).toHaveLength(1);
      expect(tasksOf(s.applied.current!)).toEqual([1, 2]);
    });
  });

  it('tasks a snapshot shows before their events came are no correction (a scale still under way)', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('-c' + '-'.repeat(38) + 'a' + '-'.repeat(40) + 'b', {
        c: { kind: 'connected', url: 'x' },
        a: { kind: 'event', event: started(2) },
        b: { kind: 'event', event: started(3) },
      });
      // Marathon lists task 3 from the first snapshot after task 2's event on; its event comes late.
      const s = setup(t, items, (now) => (now < 40 ? [1] : [1, 2, 3]));
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 400);
      flush();
      expect(kinds(s.events)).not.toContain('fast-corrected');
      expect(tasksOf(s.applied.current!)).toEqual([1, 2, 3]);
    });
  });

  it('a correction whose apply fails and is tried again is reported once', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('-c----------------------------e', {
        c: { kind: 'connected', url: 'x' },
        e: { kind: 'event', event: started(2) },
      });
      const s = setup(t, items, [[1], [1, 3]]);
      let failures = 2; // the correcting apply fails twice (a full disk), then goes through
      s.haproxy.failConfigs((config) => config.includes('server s3 ') && failures-- > 0);
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 300);
      flush();
      expect(s.events.filter((e) => e.kind === 'apply-failed')).toHaveLength(2);
      expect(kinds(s.events).filter((k) => k === 'fast-corrected')).toHaveLength(1);
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1, 3]));
    });
  });

  it('an event that changes nothing routing reads (a scale posted) triggers no snapshot', () => {
    for (const needed of [false, true]) {
      const t = newScheduler();
      t.run(({ hot, flush }) => {
        // Connected: the answer, then Marathon's event_stream_attached (a heartbeat item).
        const items = hot<StreamItem>('-(ch)-------------------------p', {
          c: { kind: 'connected', url: 'x' },
          h: { kind: 'heartbeat' },
          p: { kind: 'event', event: posted },
        });
        const s = setup(t, items, [[1]], 0, (e) => needed || e.type !== 'api_post_event');
        const sub = s.run$.subscribe();
        t.schedule(() => sub.unsubscribe(), 200);
        flush();
        // startup and connected come within the quiet time: one snapshot; the post another one only when needed.
        expect(s.fetches()).toBe(needed ? 2 : 1);
        expect(kinds(s.events)).toEqual(needed ? ['applied', 'unchanged'] : ['applied', 'fast-no-snapshot']);
      });
    }
  });

  // Found by an audit: a vhost changed (p) and changed back with a scale (q) while the first one's
  // snapshot was read; q, compared with what HAProxy ran, changed nothing, and the stale snapshot
  // stayed until the next resync.
  it('an event that changes nothing still gets a snapshot while one is under way: the newest answer wins', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('-c 28ms p 9ms q', {
        c: { kind: 'connected', url: 'x' },
        p: { kind: 'event', event: posted },
        q: { kind: 'event', event: posted },
      });
      // Marathon: [1] until the first post (30), [1, 9] until the second (40), [1] again after.
      const marathon = (now: number): number[] => (now >= 30 && now < 40 ? [1, 9] : [1]);
      // The first post changes routing; the second, compared with what HAProxy runs ([1]), nothing.
      const s = setup(t, items, marathon, 20, () => t.now() < 35);
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 300);
      flush();
      expect(s.events.filter((e) => e.kind === 'fast-path' && e.outcome === 'no-snapshot')).toEqual([]);
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1]));
      expect(s.haproxy.applies.map((a) => a.config)).toEqual([cfgOf([1]), cfgOf([1, 9]), cfgOf([1])]);
    });
  });

  // 30 events of 15 MiB each held 570 MB while /v2/apps was slow (found by an audit).
  it('events kept for replay onto a snapshot under way are bounded in size too: the next snapshot has the oldest', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const big = (n: number): StreamItem => ({
        kind: 'event',
        event: { ...started(n), timestamp: 'x'.repeat(2 ** 20) } as MarathonEvent,
      });
      const names = 'ABCDEFGHIJKLMNOPQRSTUVWXYZdefghijklmnopq'; // marble names: no 'c', no '^'
      const burst = Object.fromEntries([...names].map((name, i) => [name, big(i + 2)]));
      const items = hot<StreamItem>(`-c 18ms (${Object.keys(burst).join('')})`, {
        c: { kind: 'connected', url: 'x' },
        ...burst,
      });
      const all = Array.from({ length: 41 }, (_, i) => i + 1);
      // The burst comes at frame 20, during the first fetch (6 to 36), which answers without its tasks.
      const replays: number[] = [];
      const s = setup(t, items, (now) => (now < 20 ? [1] : all), 30, undefined, 0, replays);
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 400);
      flush();
      expect(replays.length).toBeGreaterThan(0);
      expect(Math.max(...replays)).toBe(15); // the newest events within 16 Mi characters (1 Mi and a little each)
      expect(tasksOf(s.applied.current!)).toEqual(all);
    });
  });

  it('deciding about an event that throws costs that event a snapshot, not the pipeline a restart', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('-c----------------------------p--------------------e', {
        c: { kind: 'connected', url: 'x' },
        p: { kind: 'event', event: posted },
        e: { kind: 'event', event: started(2) },
      });
      const s = setup(t, items, [[1], [1], [1, 2]], 0, (e) => {
        if (e.type === 'api_post_event') throw new RangeError('Maximum call stack size exceeded');
        return true;
      });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 300);
      flush();
      const faults = s.events.filter((e) => e.kind === 'stage-error');
      expect(faults).toEqual([
        expect.objectContaining({ stage: 'build', error: expect.stringContaining('call stack') }),
      ]);
      // The post got its snapshot; the task event after it still went the fast path (nothing restarted).
      expect(s.fetches()).toBe(3);
      expect(kinds(s.events)).toEqual(['applied', 'unchanged', 'applied', 'fast-applied', 'unchanged']);
    });
  });
});
