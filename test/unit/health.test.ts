import { NEVER, of, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ControllerMetrics } from '../../src/admin/metrics';
import type { StreamItem } from '../../src/marathon/events';
import { pipeline } from '../../src/reconcile/pipeline';
import { RecordingHaproxy } from '../support/recordingHaproxy';
import { StatusBook } from '../../src/admin/statusBook';
import { AppliedState } from '../../src/reconcile/appliedState';
import type { DesiredState } from '../../src/reconcile/applyPort';
import type { PipelineEvent } from '../../src/reconcile/pipeline';
import type { Trigger } from '../../src/reconcile/triggers';
import { makeServer, makeService, VIRTUAL_TIMING } from '../support/fixtures';
import { samples } from '../support/metrics';
import { ok } from '../../src/result';
import { finished } from '../../src/steps';

const state = (n: number): DesiredState => {
  const services = [
    makeService(
      'web',
      Array.from({ length: n }, (_, i) => makeServer(i + 1)),
    ),
  ];
  return {
    model: { services, problems: [] },
    rendered: { config: `servers ${n}`, domainMap: '', appMap: '', served: services, problems: [] },
  };
};

/** A StatusBook with --max-apply-age 60 s on a hand-moved clock, fed like the pipeline feeds it. */
function book() {
  let t = Date.UTC(2026, 0, 2);
  const applied = new AppliedState();
  const b = new StatusBook({ applied, now: () => t, maxApplyAgeMs: 60_000 });
  const on = (e: PipelineEvent): void => b.observe(e);
  return {
    b,
    at: (s: number) => void (t = Date.UTC(2026, 0, 2) + s * 1000),
    now: () => t,
    trigger: (trigger: Trigger) => on({ kind: 'trigger', trigger }),
    fetching: () => on({ kind: 'fetching' }),
    fetchFailed: (error = 'HTTP 503') => on({ kind: 'fetch-failed', error, retryInMs: 1000, attempt: 1 }),
    /** A snapshot fetched at `fetchedAt` (s) applied now. */
    applied: (n: number, fetchedAt: number) => {
      const next = state(n);
      on({
        kind: 'applying',
        reasons: [],
        runtimeOps: 1,
        triggeredAt: t,
        fetchedAt: Date.UTC(2026, 0, 2) + fetchedAt * 1000,
      });
      applied.commit(next, t);
      on({
        kind: 'applied',
        report: { reloaded: false, reasons: [], runtimeOps: 1 },
        state: next,
        previous: null,
        runtimeReasons: [],
        fetchedAt: Date.UTC(2026, 0, 2) + fetchedAt * 1000,
      });
    },
    unchanged: (fetchedAt: number) =>
      on({ kind: 'unchanged', state: applied.current ?? state(0), fetchedAt: Date.UTC(2026, 0, 2) + fetchedAt * 1000 }),
    /** Task churn of n servers routed by the fast path, applied now. */
    fastApplied: (n: number) =>
      on({
        kind: 'applied',
        report: { reloaded: false, reasons: [], runtimeOps: 1 },
        state: { ...state(n), source: { apps: [], hosts: new Map(), fast: true } },
        previous: null,
        runtimeReasons: [],
        fetchedAt: t,
      }),
    on,
  };
}

describe('health: unhealthy only when a known change waits longer than --max-apply-age', () => {
  test('a quiet cluster stays healthy for ever: resyncs find nothing to do', () => {
    const x = book();
    x.trigger({ kind: 'startup' });
    x.fetching();
    x.applied(2, 0);
    for (let s = 300; s <= 3000; s += 300) {
      x.at(s);
      x.trigger({ kind: 'resync' });
      x.fetching();
      x.unchanged(s);
    }
    x.at(4000);
    expect(x.b.health()).toEqual({ healthy: true });
    expect(x.b.status()).toMatchObject({ stale: false, unappliedChangeSince: null });
  });

  test('Marathon unreadable while nothing happens (resyncs and reconnects only) is not a reason to be unhealthy', () => {
    const x = book();
    x.trigger({ kind: 'startup' });
    x.fetching();
    x.applied(2, 0);
    x.at(10);
    x.trigger({ kind: 'connected' });
    for (let s = 10; s < 1000; s += 30) {
      x.at(s);
      x.fetching();
      x.fetchFailed();
    }
    expect(x.b.health()).toEqual({ healthy: true });
    expect(x.b.status().lastError).toBe('HTTP 503');
  });

  test('events keep arriving while /v2/apps fails: 503 after the bound, healthy again once a snapshot is applied', () => {
    const x = book();
    x.trigger({ kind: 'startup' });
    x.fetching();
    x.applied(2, 0);
    x.at(100);
    x.trigger({ kind: 'event', eventType: 'status_update_event' });
    for (let s = 101; s <= 160; s += 10) {
      x.at(s);
      x.fetching();
      x.fetchFailed();
    }
    x.at(160);
    expect(x.b.health()).toEqual({ healthy: true }); // exactly 60 s: not yet
    x.at(161);
    expect(x.b.health()).toEqual({
      healthy: false,
      reason: 'a Marathon change has waited 61 s to be applied (--max-apply-age 60 s); see /status',
    });
    expect(x.b.status().lastError).toBe('HTTP 503');
    expect(x.b.status()).toMatchObject({
      stale: true,
      unappliedChangeSince: '2026-01-02T00:01:40.000Z',
      pendingChange: true,
    });
    x.at(170);
    x.fetching();
    x.at(171);
    x.applied(3, 170);
    expect(x.b.health()).toEqual({ healthy: true });
    expect(x.b.status()).toMatchObject({ stale: false, unappliedChangeSince: null });
  });

  test('a snapshot covers only the changes known before its fetch began', () => {
    const x = book();
    x.trigger({ kind: 'startup' });
    x.fetching(); // at 0
    x.at(5);
    x.trigger({ kind: 'event', eventType: 'api_post_event' }); // after the fetch began
    x.at(6);
    x.applied(1, 0);
    expect(x.b.status().unappliedChangeSince).toBe('2026-01-02T00:00:05.000Z');
    x.at(70);
    expect(x.b.health().healthy).toBe(false); // its fetch never came (say, every retry failed)
    x.fetching();
    x.unchanged(70); // Marathon's snapshot equals what runs: nothing was lost
    expect(x.b.health()).toEqual({ healthy: true });
  });

  test('events the fast path left to the snapshot are covered only by a snapshot fetched after them, not by fast work', () => {
    const x = book();
    x.trigger({ kind: 'startup' });
    x.fetching();
    x.applied(2, 0);
    x.at(100);
    x.trigger({ kind: 'event', eventType: 'status_update_event' });
    x.on({ kind: 'fast-path', outcome: 'refused', detail: '2500 task and health events: many-server-changes' });
    // Fast work found unchanged or applied (the events of other apps), built after the refusal.
    x.at(101);
    x.on({ kind: 'unchanged', state: state(2), fetchedAt: x.now(), fast: true });
    x.fastApplied(3);
    expect(x.b.status().unappliedChangeSince).toBe('2026-01-02T00:01:40.000Z');
    x.at(161);
    expect(x.b.health().healthy).toBe(false);
    x.unchanged(99); // a snapshot fetched before the refusal
    expect(x.b.health().healthy).toBe(false);
    x.fetching();
    x.applied(1, 161);
    expect(x.b.health()).toEqual({ healthy: true });
    expect(x.b.status().unappliedChangeSince).toBeNull();
  });

  // An audit: with /v2/apps answering 503, a label change waited; a scale then routed by the fast
  // path made /healthz 200 and /status not pending, the old label still in HAProxy.
  test('a label change is covered by a snapshot fetched after it, not by task churn the fast path routes', () => {
    const x = book();
    x.trigger({ kind: 'startup' });
    x.fetching();
    x.applied(2, 0);
    x.at(100);
    x.trigger({ kind: 'event', eventType: 'api_post_event' });
    x.fetching();
    x.fetchFailed();
    x.at(130);
    x.trigger({ kind: 'event', eventType: 'status_update_event' });
    x.fastApplied(3);
    expect(x.b.status().unappliedChangeSince).toBe('2026-01-02T00:01:40.000Z');
    expect(x.b.status().pendingChange).toBe(true);
    x.at(161);
    expect(x.b.health().healthy).toBe(false);
    x.fetching();
    x.applied(3, 161);
    expect(x.b.health()).toEqual({ healthy: true });
    expect(x.b.status().pendingChange).toBe(false);
  });

  test('a differing snapshot that HAProxy keeps refusing, or a build that throws, is a change not applied', () => {
    const x = book();
    x.trigger({ kind: 'startup' });
    x.fetching();
    x.applied(1, 0);
    x.at(300);
    x.trigger({ kind: 'resync' });
    x.fetching();
    x.on({
      kind: 'applying',
      reasons: [{ kind: 'backend-added', backend: 'x' }],
      runtimeOps: 0,
      triggeredAt: x.now(),
      fetchedAt: x.now(),
    });
    x.on({ kind: 'apply-failed', error: 'haproxy -c failed', retryInMs: 8000 });
    x.at(361);
    expect(x.b.health().healthy).toBe(false);
    expect(x.b.status().lastError).toBe('apply failed: haproxy -c failed');
    x.at(400);
    x.applied(2, 300);
    expect(x.b.health().healthy).toBe(true);

    x.at(700);
    x.trigger({ kind: 'resync' });
    x.fetching();
    x.on({
      kind: 'stage-error',
      stage: 'build',
      error: "Cannot read properties of null (reading 'alive')",
      appId: '/web',
    });
    expect(x.b.status().lastError).toBe(
      "internal error in build (app /web): Cannot read properties of null (reading 'alive')",
    );
    x.at(761);
    expect(x.b.health().healthy).toBe(false);
  });

  test('HAProxy that cannot be started again after a crash lags however quiet Marathon is, until a reload succeeds', () => {
    const x = book();
    x.trigger({ kind: 'startup' });
    x.fetching();
    x.applied(1, 0);
    x.at(300); // HAProxy exited; its binary is gone: each restart with the config on disk fails
    x.on({ kind: 'apply-failed', error: 'restarting HAProxy: …: ENOENT', retryInMs: 1000, configOnDisk: true });
    expect(x.b.status()).toMatchObject({ unappliedChangeSince: '2026-01-02T00:05:00.000Z', stale: false });
    x.at(330);
    x.trigger({ kind: 'resync' });
    x.fetching();
    x.unchanged(330); // Marathon has nothing new: that does not bring HAProxy back
    x.at(361);
    x.on({ kind: 'apply-failed', error: 'restarting HAProxy: …: ENOENT', retryInMs: 2000, configOnDisk: true });
    expect(x.b.health()).toMatchObject({ healthy: false });
    expect(x.b.status()).toMatchObject({ unappliedChangeSince: '2026-01-02T00:05:00.000Z', stale: true });
    x.at(400);
    x.on({
      kind: 'applied',
      report: { reloaded: true, reasons: [{ kind: 'haproxy-restarted' }], runtimeOps: 0 },
      state: null,
      previous: null,
      runtimeReasons: [],
    });
    expect(x.b.health()).toEqual({ healthy: true });
    expect(x.b.status().unappliedChangeSince).toBeNull();
  });

  test('never applied since startup counts; --max-apply-age 0 disables the check', () => {
    let t = 0;
    const b = new StatusBook({ applied: new AppliedState(), now: () => t, maxApplyAgeMs: 0 });
    const strict = new StatusBook({ applied: new AppliedState(), now: () => t, maxApplyAgeMs: 1000 });
    for (const x of [b, strict]) x.observe({ kind: 'trigger', trigger: { kind: 'startup' } });
    t = 5000;
    expect(b.health()).toEqual({ healthy: true });
    expect(strict.health()).toMatchObject({ healthy: false });
  });
});

describe('health wired to the real pipeline (virtual time)', () => {
  test('events while every read of Marathon fails → unhealthy after the bound; the first good read → healthy', () => {
    const t = new TestScheduler((a, b) => expect(a).toEqual(b));
    t.run(({ hot, flush }) => {
      const items = hot<StreamItem>('100ms e', {
        e: { kind: 'event', event: { type: 'other', eventType: 'status_update_event' } },
      });
      const applied = new AppliedState();
      const b = new StatusBook({ applied, now: () => t.now(), maxApplyAgeMs: 200 });
      let failing = false;
      let tasks = 1;
      const sub = pipeline<number>({
        items$: items,
        signals$: NEVER,
        haproxy: new RecordingHaproxy(),
        applied,
        report: (e) => b.observe(e),
        scheduler: t,
        fetch: () => (failing ? throwError(() => new Error('HTTP 503')) : of(tasks)),
        build: (n) => finished(ok(state(n))),
        timing: { ...VIRTUAL_TIMING, resyncIntervalMs: 100_000 },
      }).subscribe();
      const checks: [number, boolean][] = [];
      const check = (at: number): void => void t.schedule(() => checks.push([at, b.health().healthy]), at);
      t.schedule(() => {
        failing = true;
        tasks = 2;
      }, 50);
      for (const at of [40, 290, 300, 301, 399]) check(at);
      t.schedule(() => (failing = false), 400);
      for (const at of [401, 441]) check(at);
      t.schedule(() => sub.unsubscribe(), 1000);
      flush();
      // Startup applied at 5; the event at 100 is not applied while reads fail; 200 ms later (300) unhealthy;
      // reads work again at 400, the running 40 ms backoff ends by 440 and the change is applied.
      expect(checks).toEqual([
        [40, true],
        [290, true],
        [300, true],
        [301, false],
        [399, false],
        [401, false],
        [441, true],
      ]);
      expect(applied.current?.rendered.config).toBe('servers 2');
    });
  });
});

describe('mlb_pipeline_errors_total', () => {
  test('counts each caught failure by stage; a retried identical fetch failure counts once in mlb_marathon_fetch_failures_total', async () => {
    const m = new ControllerMetrics({ now: () => 0 });
    for (let i = 0; i < 3; i++) m.observe({ kind: 'fetch-failed', error: 'HTTP 503', retryInMs: 1000, attempt: i + 1 });
    m.observe({ kind: 'stage-error', stage: 'build', error: 'x', appId: null });
    m.observe({ kind: 'stage-error', stage: 'plan', error: 'y', appId: null });
    m.observe({ kind: 'stage-error', stage: 'pipeline', error: 'z', appId: null });
    m.observe({ kind: 'apply-failed', error: 'boom', retryInMs: 1 });
    const x = samples(await m.text());
    expect(
      ['fetch', 'build', 'plan', 'apply', 'pipeline'].map((s) => x.get(`mlb_pipeline_errors_total{stage="${s}"}`)),
    ).toEqual([3, 1, 1, 1, 1]);
    expect(x.get('mlb_marathon_fetch_failures_total')).toBe(1);
  });
});

// Its first start failing (a full disk, a binary that exits 1), /healthz said ok until --max-apply-age
// (300 s by default), though nothing was served (found by an audit).
describe('health: HAProxy that never started', () => {
  test('unhealthy once its first config has failed to apply for 30 s; healthy again once one applies', () => {
    const x = book();
    x.trigger({ kind: 'startup' });
    x.fetching();
    const failed = (): void =>
      x.on({ kind: 'apply-failed', error: 'HAProxy reload failed (HAProxy exited): ENOSPC', retryInMs: 1000 });
    failed();
    x.at(30);
    failed();
    expect(x.b.health()).toEqual({ healthy: true }); // exactly 30 s: not yet
    x.at(31);
    expect(x.b.health()).toEqual({
      healthy: false,
      reason: 'HAProxy has not started: its first config has failed to apply for 31 s; see /status',
    });
    x.applied(1, 30);
    expect(x.b.health()).toEqual({ healthy: true });
  });

  test('a Marathon slow to answer the first read is no failure of HAProxy: healthy until --max-apply-age', () => {
    const x = book();
    x.trigger({ kind: 'startup' });
    x.fetching();
    x.at(59);
    expect(x.b.health()).toEqual({ healthy: true });
  });
});
