import { NEVER, Observable, defer, mergeMap, of, throwError, timer } from 'rxjs';
import { err, map, ok, type Result } from '../../src/result';
import { finished } from '../../src/steps';
import { TestScheduler } from 'rxjs/testing';
import type { StreamItem } from '../../src/marathon/events';
import type { Server, Service } from '../../src/model/types';
import { AppliedState } from '../../src/reconcile/appliedState';
import type { DesiredState } from '../../src/reconcile/applyPort';
import { pipeline, type PipelineEvent } from '../../src/reconcile/pipeline';
import { RecordingHaproxy } from '../support/recordingHaproxy';
import { makeService, VIRTUAL_TIMING } from '../support/fixtures';

const server = (n: number): Server => ({
  name: `s${n}`,
  id: n,
  host: 'h',
  ip: '10.0.0.1',
  port: 31000 + n,
  draining: false,
  healthCheckPort: null,
});
const service = (servers: readonly number[]): Service => makeService('a_10000', servers.map(server), { appId: '/a' });
/** A snapshot is just the list of task numbers of app /a; 'bad' is an invalid snapshot, 'throw' makes build throw, 'odd' makes plan throw. */
type Snap = number[] | 'bad' | 'throw' | 'odd';
const cfgOf = (tasks: number[]): string =>
  `backend a_10000\n${tasks.map((n) => `  server s${n} 10.0.0.1:${31000 + n}\n`).join('')}`;
const build = (snap: Snap): Result<DesiredState> => {
  if (snap === 'bad') return err('apps[0].id must be a non-empty string');
  if (snap === 'throw')
    throw Object.assign(new TypeError("Cannot read properties of null (reading 'alive')"), { appId: '/a' });
  // A service whose servers are not a list: `plan` cannot diff it.
  if (snap === 'odd')
    return ok({
      model: { services: [{ ...service([]), servers: null as never }], problems: [] },
      rendered: { config: 'odd', domainMap: '', appMap: '', served: [], problems: [] },
    });
  return ok({
    model: { services: [service(snap)], problems: [] },
    rendered: { config: cfgOf(snap), domainMap: '', appMap: '', served: [], problems: [] },
  });
};
/** The pipeline's build: `build` in one step (it throws, if it does, when the pipeline runs that step). */
// eslint-disable-next-line require-yield -- one step
function* buildSteps(snap: Snap): Generator<never, Result<DesiredState>, undefined> {
  return build(snap);
}
const event = (): StreamItem => ({
  kind: 'event',
  event: { type: 'status_update_event', eventType: 'status_update_event' } as never,
});

function setup(
  t: TestScheduler,
  opts: {
    items: Observable<StreamItem>;
    signals?: Observable<'hup' | 'usr1' | 'haproxy-exited' | 'files-unwritten'>;
    /** The answer of each fetch in turn (the last one again after); an Error: that read fails. */
    snapshots: (Snap | Error)[];
    haproxy?: RecordingHaproxy;
    report?: (e: PipelineEvent) => void;
    timing?: typeof VIRTUAL_TIMING;
    /** The event stream lost (failed, silent). */
    lost?: Observable<unknown>;
    /** Host names a snapshot went without, answered since. */
    hostsAnswered?: Observable<unknown>;
  },
) {
  const haproxy = opts.haproxy ?? new RecordingHaproxy();
  const applied = new AppliedState();
  const events: PipelineEvent[] = [];
  let fetches = 0;
  const run$ = pipeline<Snap>({
    items$: opts.items,
    ...(opts.lost === undefined ? {} : { streamLost$: opts.lost }),
    ...(opts.hostsAnswered === undefined ? {} : { hostsAnswered$: opts.hostsAnswered }),
    signals$: opts.signals ?? NEVER,
    fetch: () => {
      const snap = opts.snapshots[Math.min(fetches, opts.snapshots.length - 1)]!;
      fetches++;
      return snap instanceof Error ? throwError(() => snap) : of(snap);
    },
    build: buildSteps,
    haproxy,
    applied,
    report: (e) => {
      events.push(e);
      opts.report?.(e);
    },
    scheduler: t,
    timing: opts.timing ?? VIRTUAL_TIMING,
  });
  return { haproxy, applied, events, run$, fetches: () => fetches };
}

const newScheduler = () => new TestScheduler((a, b) => expect(a).toEqual(b));

describe('pipeline (virtual time)', () => {
  test('startup and a burst of events inside the max wait → one fetch, one apply', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('-a-e-e-e-e', { a: { kind: 'connected', url: 'x' }, e: event() });
      const s = setup(t, { items, snapshots: [[1], [1, 2]] });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 500); // the resync timer never ends by itself
      flush();
      // startup + connected + 4 events all within 20 ms max wait, quiet after → 1 fetch.
      expect(s.fetches()).toBe(1);
      expect(s.haproxy.applies.map((a) => a.config)).toEqual([cfgOf([1])]);
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1]));
    });
  });

  test('an unchanged snapshot skips HAProxy; task churn is planned as runtime ops', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('-------------------------------e-------------------------------e', { e: event() });
      const s = setup(t, { items, snapshots: [[1], [1], [1, 2]] });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 500); // the resync timer never ends by itself
      flush();
      expect(s.fetches()).toBe(3);
      expect(s.events.filter((e) => e.kind === 'unchanged')).toHaveLength(1);
      expect(s.haproxy.applies).toHaveLength(2);
      expect(s.haproxy.applies[1]!.plan).toEqual({
        runtimeOps: [{ kind: 'add-server', backend: 'a_10000', server: server(2) }],
        reloadReasons: [],
      });
    });
  });

  // A fault test: with no HAProxy running, a fix waited out a backoff grown to 52 s, every route down.
  test('while no HAProxy runs, a failed apply is retried within 5 s, whatever the backoff has grown to', () => {
    const t = newScheduler();
    t.run(({ flush }) => {
      const timing = {
        ...VIRTUAL_TIMING,
        resyncIntervalMs: 600_000,
        backoff: { ...VIRTUAL_TIMING.backoff, initialMs: 4000, maxMs: 300_000 },
      };
      const s = setup(t, { items: NEVER, snapshots: [[1]], timing });
      s.haproxy.failNext(5);
      const sub = s.run$.subscribe();
      t.schedule(() => (s.haproxy.running = false), 2000); // after the first failure
      t.schedule(() => sub.unsubscribe(), 100_000);
      flush();
      const failures = s.events.filter(
        (e): e is Extract<PipelineEvent, { kind: 'apply-failed' }> => e.kind === 'apply-failed',
      );
      expect(failures.map((f) => f.retryInMs)).toEqual([4000, 5000, 5000, 5000, 5000]);
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1]));
    });
  });

  // A fault test: a stream that answered and then sent nothing usable ended the 30 s resyncs of a
  // lost stream, and a change waited for its 60 s silence.
  test('a lost stream is resynced every 30 s until Marathon shows itself, not from its answer alone', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const timing = { ...VIRTUAL_TIMING, resyncIntervalMs: 300_000 };
      const items = hot<StreamItem>('20ms c 69999ms c h', {
        c: { kind: 'connected', url: 'x' },
        h: { kind: 'heartbeat' },
      });
      const lost = hot('10ms l', { l: 'lost' });
      const triggers: [string, number][] = [];
      const report = (e: PipelineEvent): void => {
        if (e.kind === 'trigger') triggers.push([e.trigger.kind, t.now()]);
      };
      const s = setup(t, { items, snapshots: [[1]], timing, lost, report });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 200_000);
      flush();
      // Answered at 20 and silent: resyncs at 30 010 and 60 010; Marathon's heartbeat at 70 021 ends them.
      expect(triggers).toEqual([
        ['startup', 0],
        ['resync', 30_010],
        ['resync', 60_010],
        ['connected', 70_021],
      ]);
    });
  });

  test('a host name answered after its snapshot went without it brings a snapshot, not the next resync', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const timing = { ...VIRTUAL_TIMING, resyncIntervalMs: 1_000_000 };
      const hostsAnswered = hot('200ms a');
      const s = setup(t, { items: NEVER, snapshots: [[1], [1, 2]], timing, hostsAnswered });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 10_000);
      flush();
      expect(s.events.flatMap((e) => (e.kind === 'trigger' ? [e.trigger.kind] : []))).toEqual(['startup', 'retry']);
      expect(s.haproxy.applies.map((a) => a.config)).toEqual([cfgOf([1]), cfgOf([1, 2])]);
    });
  });

  // A fault test: the log said "tried again 30 s later", but on a quiet cluster only the next resync did.
  test('an app left out for a cause that may pass brings a snapshot when it is due for another try', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const timing = { ...VIRTUAL_TIMING, resyncIntervalMs: 1_000_000 };
      const signals = hot<'hup'>('60ms h', { h: 'hup' });
      const retries: number[] = [];
      const report = (e: PipelineEvent): void => {
        if (e.kind === 'trigger' && e.trigger.kind === 'retry') retries.push(t.now());
      };
      const s = setup(t, { items: NEVER, signals, snapshots: [[1]], timing, report });
      const sub = s.run$.subscribe();
      t.schedule(
        () =>
          s.applied.refuse(
            [
              {
                service: service([2]),
                problem: { appId: '/a', portIndex: 0, label: null, message: 'port held' },
                retried: true,
              },
            ],
            t.now(),
          ),
        50,
      );
      t.schedule(() => sub.unsubscribe(), 100_000);
      flush();
      const triggers = s.events.flatMap((e) => (e.kind === 'trigger' ? [e.trigger.kind] : []));
      // Due 30 s after it was left out, then 60 s after that try (the snapshot still has it: tried, left out again).
      expect(triggers).toEqual(['startup', 'signal', 'retry', 'retry']);
      expect(retries.length).toBe(2);
      expect(retries[0]).toBe(50 + 30_000);
      expect(retries[1]! - retries[0]!).toBeGreaterThanOrEqual(60_000);
      expect(retries[1]! - retries[0]!).toBeLessThan(60_100);
      expect(s.fetches()).toBe(4);
    });
  });

  test('a failed apply keeps lastApplied, retries with backoff, then commits', () => {
    const t = newScheduler();
    t.run(({ flush }) => {
      const s = setup(t, { items: NEVER, snapshots: [[1]] });
      s.haproxy.failNext(2);
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 500); // the resync timer never ends by itself
      t.schedule(() => expect(s.applied.current).toBeNull(), 20);
      flush();
      expect(s.haproxy.applies).toHaveLength(3);
      const failures = s.events.filter(
        (e): e is Extract<PipelineEvent, { kind: 'apply-failed' }> => e.kind === 'apply-failed',
      );
      expect(failures.map((f) => f.retryInMs)).toEqual([10, 20]);
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1]));
    });
  });

  test('an invalid snapshot is reported once and the last applied state is kept', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('--------------------e-------------------------e', { e: event() });
      const s = setup(t, { items, snapshots: [[1], 'bad', 'bad'] });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 500); // the resync timer never ends by itself
      flush();
      expect(s.events.filter((e) => e.kind === 'snapshot-invalid')).toEqual([
        { kind: 'snapshot-invalid', error: 'apps[0].id must be a non-empty string' },
      ]);
      expect(s.haproxy.applies).toHaveLength(1);
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1]));
    });
  });

  test('SIGUSR1 re-applies the existing config; SIGHUP refetches', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const signals = hot<'hup' | 'usr1'>('----------------------------------u-------------------------h', {
        u: 'usr1',
        h: 'hup',
      });
      const s = setup(t, { items: NEVER, signals, snapshots: [[1], [1, 3]] });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 500); // the resync timer never ends by itself
      flush();
      expect(s.haproxy.reloadsOfExisting).toBe(1);
      expect(s.fetches()).toBe(2);
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1, 3]));
    });
  });

  // The event stream attaching again, found by a soak: after an outage it was back, events flowing,
  // and routing waited 80 s more for the running backoff (up to --max-backoff, 300 s).
  test.each([
    ['SIGHUP (the operator asks)', 'signal'],
    ['the event stream attached again (Marathon is back)', 'stream'],
  ] as const)("%s does not wait out a failed read's backoff: Marathon is read at once", (_what, via) => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      // Reads fail at 5, 15 and 35 (backoff 10, 20, 40: the next try due at 75); the trigger at 40.
      const at40 = '----------------------------------------x';
      const down = new Error('ECONNREFUSED');
      const appliedAt: number[] = [];
      const s = setup(t, {
        // Attached: the answer, then Marathon's first sign (its event_stream_attached, a heartbeat item).
        items:
          via === 'stream'
            ? hot<StreamItem>(at40.replace('x', '(xh)'), {
                x: { kind: 'connected', url: 'x' },
                h: { kind: 'heartbeat' },
              })
            : NEVER,
        ...(via === 'signal' ? { signals: hot<'hup' | 'usr1'>(at40, { x: 'hup' }) } : {}),
        snapshots: [down, down, down, [1]],
        report: (e) => {
          if (e.kind === 'applied') appliedAt.push(t.now());
        },
      });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 500);
      flush();
      expect(s.events.filter((e) => e.kind === 'fetch-failed')).toHaveLength(3);
      expect(appliedAt).toEqual([45]); // after the quiet time, not at 75
    });
  });

  // An audit: Marathon's REST API failed for a minute, its events flowed on; an app created once it
  // answered again waited 44 s (245 s in a second run) for the backoff. marathon-lb read at the next event.
  test("a Marathon event waits at most 5 s of a failed read's backoff, counted from the failure", () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const timing = {
        ...VIRTUAL_TIMING,
        resyncIntervalMs: 600_000,
        backoff: { ...VIRTUAL_TIMING.backoff, initialMs: 60_000, maxMs: 300_000 },
      };
      const down = new Error('HTTP 500');
      const fetchedAt: number[] = [];
      // The startup read fails at 5 (next try due at 60 005); an event at 1 000, another at 70 000.
      const items = hot<StreamItem>('1000ms e 68999ms e', { e: event() });
      const s = setup(t, {
        items,
        snapshots: [down, [1], [1, 2]],
        timing,
        report: (e) => {
          if (e.kind === 'fetching') fetchedAt.push(t.now());
        },
      });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 200_000);
      flush();
      expect(fetchedAt).toEqual([5, 5005, 70005]); // the second event finds no backoff running
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1, 2]));
    });
  });

  test('a SIGUSR1 that comes while a snapshot waits for its retry runs at once and does not drop that snapshot', () => {
    // HAProxy restarted after a crash takes this path too: the change that was failing (a full disk)
    // was dropped, and HAProxy served the older config until some later trigger.
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('------------------------------e', { e: event() });
      const signals = hot<'hup' | 'usr1'>('--------------------------------------------------u', { u: 'usr1' });
      const s = setup(t, { items, signals, snapshots: [[1], [1, 2]] });
      const sub = s.run$.subscribe();
      t.schedule(() => s.haproxy.failNext(3), 20); // [1] applied at startup; [1, 2] fails from ~35 on
      t.schedule(() => expect(s.applied.current?.rendered.config).toBe(cfgOf([1])), 49);
      // At once, not when the failing change's backoff ends (HAProxy may be down: restarted after a crash).
      t.schedule(() => expect(s.haproxy.reloadsOfExisting).toBe(1), 51);
      t.schedule(() => sub.unsubscribe(), 500); // the resync timer never ends by itself
      flush();
      expect(s.haproxy.reloadsOfExisting).toBe(1);
      expect(s.fetches()).toBe(2); // no new trigger brought it back: the snapshot was given again
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1, 2]));
    });
  });

  test('HAProxy that could not be started again is retried even when an unchanged snapshot takes its turn', () => {
    // The restart after a crash failed (its binary gone) and waited for its retry; a snapshot equal to
    // what HAProxy ran took its place in the sink, was found unchanged, and HAProxy stayed down.
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const signals = hot<'haproxy-exited'>('-------------------------x', { x: 'haproxy-exited' });
      const items = hot<StreamItem>('----------------------------e', { e: event() });
      const s = setup(t, { items, signals, snapshots: [[1]] });
      const sub = s.run$.subscribe();
      t.schedule(() => s.haproxy.failExisting(1), 20);
      t.schedule(() => sub.unsubscribe(), 500); // the resync timer never ends by itself
      flush();
      expect(s.fetches()).toBe(2);
      expect(s.events.filter((e) => e.kind === 'unchanged')).toHaveLength(1);
      expect(s.events.filter((e) => e.kind === 'apply-failed')).toHaveLength(1);
      expect(s.haproxy.reloadsOfExisting).toBe(2); // failed once, then done
    });
  });

  test('files a write behind could not write are written again with backoff, also after an unchanged snapshot took the turn', () => {
    // Logged only, the file stayed older than what HAProxy ran for good (helper 72).
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const signals = hot<'files-unwritten'>('-------------------------w', { w: 'files-unwritten' });
      const items = hot<StreamItem>('----------------------------e', { e: event() });
      const s = setup(t, { items, signals, snapshots: [[1]] });
      const sub = s.run$.subscribe();
      t.schedule(() => s.haproxy.owe(2), 20); // two tries fail (a full disk), the third writes
      t.schedule(() => sub.unsubscribe(), 500);
      flush();
      expect(s.fetches()).toBe(2);
      expect(s.events.filter((e) => e.kind === 'unchanged')).toHaveLength(1); // the snapshot of the event
      expect(
        s.events.filter((e) => e.kind === 'apply-failed').map((e) => e.kind === 'apply-failed' && e.error),
      ).toEqual([
        'cannot write haproxy.cfg: no space left on device (ENOSPC)',
        'cannot write haproxy.cfg: no space left on device (ENOSPC)',
      ]);
      expect(s.events.filter((e) => e.kind === 'applied' && e.filesWritten === true)).toHaveLength(1);
      expect(s.haproxy.reloadsOfExisting).toBe(0); // nothing reloaded for it
      expect(s.haproxy.applies).toHaveLength(1); // the startup snapshot only
    });
  });

  test('files written at last give the snapshot they took the place of again, at once', () => {
    // An audit: a label change failed on a full disk; the write behind took its place in the sink, and
    // once the disk was freed and the files written, the change waited for the 300 s resync.
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('------------------------------e', { e: event() });
      const signals = hot<'files-unwritten'>('--------------------------------------------------w', {
        w: 'files-unwritten',
      });
      const s = setup(t, { items, signals, snapshots: [[1], [1, 2]] });
      const sub = s.run$.subscribe();
      t.schedule(() => {
        s.haproxy.failNext(3); // [1] applied at startup; [1, 2] fails from ~35 on
        s.haproxy.owe(0);
      }, 20);
      t.schedule(() => sub.unsubscribe(), 500); // the resync timer never ends by itself
      flush();
      expect(s.haproxy.writesOfUnwritten).toBe(1);
      expect(s.fetches()).toBe(2); // no new trigger brought it back: the snapshot was given again
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1, 2]));
    });
  });

  test('a failed fetch is retried with backoff at once, not left until the next trigger', () => {
    const t = newScheduler();
    t.run(({ flush }) => {
      let n = 0;
      const haproxy = new RecordingHaproxy();
      const events: PipelineEvent[] = [];
      const sub = pipeline<Snap>({
        items$: NEVER,
        signals$: NEVER,
        build: buildSteps,
        haproxy,
        applied: new AppliedState(),
        report: (e) => events.push(e),
        scheduler: t,
        fetch: () => (n++ < 2 ? throwError(() => new Error('HTTP 503')) : of([4])),
        timing: VIRTUAL_TIMING,
      }).subscribe();
      // startup → fetch at 5 fails, again at 15, succeeds at 35: long before the resync at 1000.
      t.schedule(() => expect(haproxy.applies).toHaveLength(0), 34);
      t.schedule(() => expect(haproxy.applies.map((a) => a.config)).toEqual([cfgOf([4])]), 36);
      t.schedule(() => sub.unsubscribe(), 500);
      flush();
      expect(events.filter((e) => e.kind === 'fetch-failed')).toEqual([
        { kind: 'fetch-failed', error: 'HTTP 503', retryInMs: 10, attempt: 1 },
        { kind: 'fetch-failed', error: 'HTTP 503', retryInMs: 20, attempt: 2 },
      ]);
      expect(n).toBe(3);
    });
  });

  test('a newer trigger during a fetch backoff wins: one fetch at the end of the backoff, with its snapshot', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('-----------------e', { e: event() }); // event at 17, during the 10 ms backoff after the failure at 10
      let n = 0;
      const haproxy = new RecordingHaproxy();
      const events: PipelineEvent[] = [];
      const sub = pipeline<Snap>({
        items$: items,
        signals$: NEVER,
        build: buildSteps,
        haproxy,
        applied: new AppliedState(),
        report: (e) => events.push(e),
        scheduler: t,
        fetch: () => (n++ < 2 ? throwError(() => new Error('timeout')) : of([7])),
        timing: VIRTUAL_TIMING,
      }).subscribe();
      t.schedule(() => sub.unsubscribe(), 500);
      flush();
      // startup: fails at 5, retry at 15 fails (backoff 20 → 35); the event's debounce ends at 22 and waits for 35.
      expect(events.filter((e) => e.kind === 'fetching')).toHaveLength(3);
      expect(haproxy.applies.map((a) => a.config)).toEqual([cfgOf([7])]);
      const applying = events.find((e): e is Extract<PipelineEvent, { kind: 'applying' }> => e.kind === 'applying');
      expect(applying).toMatchObject({ triggeredAt: 17, fetchedAt: 35 });
    });
  });

  test('a build that throws costs that snapshot only: reported with its app, the stream lives on, the next trigger applies', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('------------------------------e------------------------------e', { e: event() });
      const s = setup(t, { items, snapshots: [[1], 'throw', [1, 2]] });
      let ended: string | null = null;
      const sub = s.run$.subscribe({
        error: (e: unknown) => (ended = String(e)),
        complete: () => (ended = 'complete'),
      });
      t.schedule(() => sub.unsubscribe(), 500);
      flush();
      expect(ended).toBeNull();
      expect(s.events.filter((e) => e.kind === 'stage-error')).toEqual([
        {
          kind: 'stage-error',
          stage: 'build',
          error: "Cannot read properties of null (reading 'alive')",
          appId: '/a',
          fetchedAt: 35,
        },
      ]);
      expect(s.haproxy.applies.map((a) => a.config)).toEqual([cfgOf([1]), cfgOf([1, 2])]);
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1, 2]));
    });
  });

  test('faults the build isolated itself (an app left out) are reported, and the rest is applied', () => {
    const t = newScheduler();
    t.run(({ flush }) => {
      const haproxy = new RecordingHaproxy();
      const events: PipelineEvent[] = [];
      const sub = pipeline<Snap>({
        items$: NEVER,
        signals$: NEVER,
        haproxy,
        applied: new AppliedState(),
        report: (e) => events.push(e),
        scheduler: t,
        fetch: () => of([8]),
        build: (snap) =>
          finished(
            map(build(snap), (state) => ({
              ...state,
              faults: [{ error: 'x is not iterable', appId: '/odd' }],
            })),
          ),
        timing: VIRTUAL_TIMING,
      }).subscribe();
      t.schedule(() => sub.unsubscribe(), 500);
      flush();
      expect(events.filter((e) => e.kind === 'stage-error')).toEqual([
        {
          kind: 'stage-error',
          stage: 'build',
          error: 'x is not iterable',
          appId: '/odd',
          fetchedAt: 5,
          isolated: true,
        },
      ]);
      expect(haproxy.applies.map((a) => a.config)).toEqual([cfgOf([8])]);
    });
  });

  test('a plan that throws falls back to a full reload of the new config', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('------------------------------e', { e: event() });
      const s = setup(t, { items, snapshots: [[1], 'odd'] });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 500);
      flush();
      expect(s.events.filter((e) => e.kind === 'stage-error').map((e) => (e as { stage: string }).stage)).toEqual([
        'plan',
      ]);
      expect(s.haproxy.applies).toHaveLength(2);
      expect(s.haproxy.applies[1]!.plan.runtimeOps).toEqual([]);
      expect(s.haproxy.applies[1]!.plan.reloadReasons).toEqual([{ kind: 'plan-failed', error: expect.any(String) }]);
      expect(s.applied.current?.rendered.config).toBe('odd');
    });
  });

  test('an apply that throws synchronously is an apply failure, retried with backoff', () => {
    const t = newScheduler();
    t.run(({ flush }) => {
      class ThrowingOnce extends RecordingHaproxy {
        private thrown = false;
        override apply(...args: Parameters<RecordingHaproxy['apply']>): ReturnType<RecordingHaproxy['apply']> {
          if (!this.thrown) {
            this.thrown = true;
            throw new RangeError('Invalid array length');
          }
          return super.apply(...args);
        }
      }
      const s = setup(t, { items: NEVER, snapshots: [[3]], haproxy: new ThrowingOnce() });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 500);
      flush();
      expect(s.events.filter((e) => e.kind === 'apply-failed')).toEqual([
        { kind: 'apply-failed', error: 'Invalid array length', retryInMs: 10 },
      ]);
      expect(s.applied.current?.rendered.config).toBe(cfgOf([3]));
    });
  });

  test('an observer that throws on every event does not stop routing', () => {
    const t = newScheduler();
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('------------------------------e', { e: event() });
      const s = setup(t, {
        items,
        snapshots: [[1], [1, 5]],
        report: () => {
          throw new Error('metrics exploded');
        },
      });
      const sub = s.run$.subscribe();
      t.schedule(() => sub.unsubscribe(), 500);
      flush();
      expect(s.applied.current?.rendered.config).toBe(cfgOf([1, 5]));
    });
  });

  test('an error nothing foresaw restarts the pipeline after a backoff, keeping the applied state', () => {
    const t = newScheduler();
    t.run(({ flush }) => {
      let subscriptions = 0;
      // A signal source that breaks once (a bug elsewhere), then behaves.
      const signals = defer(() =>
        subscriptions++ === 0 ? timer(50, t).pipe(mergeMap(() => throwError(() => new Error('boom')))) : NEVER,
      );
      const s = setup(t, { items: NEVER, signals, snapshots: [[1], [1, 6]] });
      let ended = false;
      const sub = s.run$.subscribe({ error: () => (ended = true) });
      t.schedule(() => sub.unsubscribe(), 500);
      flush();
      expect(ended).toBe(false);
      expect(s.events.filter((e) => e.kind === 'stage-error')).toEqual([
        { kind: 'stage-error', stage: 'pipeline', error: 'boom', appId: null },
      ]);
      expect(subscriptions).toBe(2);
      expect(s.fetches()).toBe(2); // the restart's startup trigger refetched
      expect(s.haproxy.applies.map((a) => a.config)).toEqual([cfgOf([1]), cfgOf([1, 6])]);
    });
  });
});
