import { ControllerMetrics } from '../../src/admin/metrics';
import { formatReason, reasonCategory, type ReloadReason } from '../../src/reconcile/reloadReason';
import { LEFT_OUT_SHOWN, StatusBook, unifiedDiff, unifiedDiffInSteps } from '../../src/admin/statusBook';
import type { Problem, Server, Service } from '../../src/model/types';
import { AppliedState } from '../../src/reconcile/appliedState';
import type { DesiredState } from '../../src/reconcile/applyPort';
import type { PipelineEvent } from '../../src/reconcile/pipeline';
import { plan } from '../../src/reconcile/plan';
import { groupRuntimeOps } from '../../src/reconcile/runtimeReason';
import { makeServer, makeService } from '../support/fixtures';
import { samples } from '../support/metrics';

const server = makeServer;
const service = makeService;
const badMode: Problem = {
  appId: '/broken',
  portIndex: 0,
  label: 'HAPROXY_0_MODE',
  message: 'unknown mode "udp" (use http or tcp)',
};
const badTemplate: Problem = {
  appId: '/odd',
  portIndex: 1,
  label: null,
  message: 'template HAPROXY_BACKEND_HEAD: unknown placeholder {nope}',
};

const configOf = (services: readonly Service[]): string =>
  `global\n  maxconn 50000\n${services.map((s) => `backend ${s.backend}\n${s.servers.map((v) => `  server ${v.name} ${v.ip}:${v.port}${v.draining ? ' disabled' : ''}\n`).join('')}`).join('')}`;
function state(services: Service[], problems: Problem[] = [], renderProblems: Problem[] = []): DesiredState {
  return {
    model: { services, problems },
    rendered: { config: configOf(services), domainMap: '', appMap: '', served: services, problems: renderProblems },
  };
}

/** A fake clock (epoch ms) the tests move by hand. */
function clock(start = Date.UTC(2026, 0, 2, 3, 4, 5)): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** Feeds the events the pipeline would report for one successful apply of `next`. */
function applyOk(
  applied: AppliedState,
  c: ReturnType<typeof clock>,
  next: DesiredState,
  observe: (e: PipelineEvent) => void,
  tookMs = 40,
): void {
  const previous = applied.current;
  const p = plan(previous?.model.services ?? null, next.model.services);
  observe({ kind: 'applying', reasons: p.reloadReasons, runtimeOps: p.runtimeOps.length, triggeredAt: c.now() });
  c.advance(tookMs);
  applied.commit(next, c.now());
  observe({
    kind: 'applied',
    report: { reloaded: p.reloadReasons.length > 0, reasons: p.reloadReasons, runtimeOps: p.runtimeOps.length },
    state: next,
    previous,
    runtimeReasons: p.reloadReasons.length > 0 || previous === null ? [] : groupRuntimeOps(p.runtimeOps),
  });
}

describe('StatusBook', () => {
  test('before anything happened', () => {
    const c = clock();
    const book = new StatusBook({ applied: new AppliedState(), now: c.now });
    expect(book.status()).toEqual({
      generatedAt: '2026-01-02T03:04:05.000Z',
      lastAppliedAt: null,
      secondsSinceLastApply: null,
      pendingChange: false,
      lastError: null,
      unappliedChangeSince: null,
      stale: false,
      staleReason: null,
      services: [],
      leftOut: [],
      leftOutTotal: 0,
      recentApplies: [],
      recentFailures: [],
      marathon: {
        eventStream: false,
        streamConnected: false,
        connectedSince: null,
        disconnectedSince: null,
        lastEventAt: null,
        secondsSinceLastEvent: null,
        lastSnapshotAt: null,
        secondsSinceLastSnapshot: null,
        lastFetchError: null,
        consecutiveFetchFailures: 0,
        fetchingSince: null,
        secondsFetching: null,
      },
      haproxy: {
        enabled: false,
        readAt: null,
        secondsSinceRead: null,
        error: null,
        intervalSeconds: 0,
        historyStepSeconds: 10,
        historyPoints: 30,
        serversByState: null, // never read: unknown, not zero
        frontends: [],
        backends: [],
      },
    });
  });

  test('a snapshot of many hostile apps: /status lists the first 500 problems and gives the total', () => {
    const c = clock();
    const applied = new AppliedState();
    const book = new StatusBook({ applied, now: c.now });
    const many = Array.from({ length: 1200 }, (_, i) => ({ ...badMode, appId: `/hostile/x${i}` }));
    applyOk(applied, c, state([service('web', [server(1)])], many), (e) => book.observe(e), 10);
    const s = book.status();
    expect(s.leftOutTotal).toBe(1200);
    expect(s.leftOut).toHaveLength(LEFT_OUT_SHOWN);
    expect(s.leftOut[0]!.appId).toBe('/hostile/x0');
  });

  test('services, servers, left-out apps and the applies with reasons, durations and diffs', () => {
    const c = clock();
    const applied = new AppliedState();
    const book = new StatusBook({ applied, now: c.now });
    const observe = (e: PipelineEvent): void => book.observe(e);
    observe({ kind: 'trigger', trigger: { kind: 'startup' } });
    expect(book.status().pendingChange).toBe(true);
    const first = state(
      [service('web', [server(1), server(2)], { hostname: 'web.example.com', path: '/api' })],
      [badMode],
      [badTemplate],
    );
    applyOk(applied, c, first, observe, 120);
    c.advance(5000);
    observe({ kind: 'trigger', trigger: { kind: 'event', eventType: 'status_update_event' } });
    const second = state(
      [
        service('web', [server(1), server(2, { draining: true }), server(3)], {
          hostname: 'web.example.com',
          path: '/api',
        }),
      ],
      [badMode],
    );
    applyOk(applied, c, second, observe, 15);
    c.advance(2500);

    const s = book.status();
    expect(s.generatedAt).toBe('2026-01-02T03:04:12.635Z');
    expect(s.lastAppliedAt).toBe('2026-01-02T03:04:10.135Z');
    expect(s.secondsSinceLastApply).toBe(2.5);
    expect(s.pendingChange).toBe(false);
    expect(s.lastError).toBeNull();
    expect(s.services).toEqual([
      {
        appId: '/web',
        servicePort: 10000,
        backend: 'web',
        mode: 'http',
        hostname: 'web.example.com',
        path: '/api',
        traffic: null,
        servers: [
          { name: '10_0_0_1_31000', address: '10.0.0.1:31000', draining: false, marathonHealth: 'none', haproxy: null },
          { name: '10_0_0_2_31000', address: '10.0.0.2:31000', draining: true, marathonHealth: 'none', haproxy: null },
          { name: '10_0_0_3_31000', address: '10.0.0.3:31000', draining: false, marathonHealth: 'none', haproxy: null },
        ],
      },
    ]);
    expect(s.leftOut).toEqual([badMode]); // the render problem of the first apply is gone with it
    expect(s.recentApplies.map((a) => [a.at, a.reloaded, a.reasons, a.runtimeOps, a.durationMs])).toEqual([
      [
        '2026-01-02T03:04:10.135Z',
        false,
        // In the plan's order: a server joins rotation before another leaves it.
        ['runtime API: 1 server(s) added to web', 'runtime API: drain state of 1 server(s) changed in web'],
        2,
        15,
      ],
      ['2026-01-02T03:04:05.120Z', true, ['initial configuration'], 0, 120],
    ]);
    const [latest, initial] = s.recentApplies;
    expect(latest!.diff).toContain('--- haproxy.cfg (before)\n+++ haproxy.cfg (after)\n');
    expect(latest!.diff).toContain(
      '\n-  server 10_0_0_2_31000 10.0.0.2:31000\n+  server 10_0_0_2_31000 10.0.0.2:31000 disabled\n+  server 10_0_0_3_31000 10.0.0.3:31000\n',
    );
    expect(initial!.diff).toContain('+backend web\n');
    expect(initial!.diff.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'))).toEqual([]);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s); // plain JSON
    expect(book.status().recentApplies).toEqual(s.recentApplies); // diffs are computed once and kept
  });

  test('diffs not yet computed keep their configs only within a budget, newest applies first', () => {
    const c = clock();
    const applied = new AppliedState();
    const states = [1, 2, 3, 4].map((n) =>
      state([
        service(
          'web',
          Array.from({ length: n }, (_, i) => server(i + 1)),
        ),
      ]),
    );
    // Room for the newest two applies' configs (the three largest), not more.
    const book = new StatusBook({ applied, now: c.now, maxDiffTextChars: states[3]!.rendered.config.length * 2 });
    for (const s of states) {
      applyOk(applied, c, s, (e) => book.observe(e), 10);
      c.advance(1000);
    }
    const diffs = book.status().recentApplies.map((a) => a.diff);
    expect(diffs).toHaveLength(4);
    // The two newest: real diffs (a server added each time); the older two gave up their texts.
    for (const d of diffs.slice(0, 2)) expect(d).toContain('--- haproxy.cfg (before)');
    expect(diffs.slice(2)).toEqual([
      '(diff not kept: the configs of newer applies filled the memory kept for diffs)\n',
      '(diff not kept: the configs of newer applies filled the memory kept for diffs)\n',
    ]);
  });

  test('fast-path applies: the servers HAProxy serves, a diff of what each changed, and the snapshot that only writes the file', () => {
    const c = clock();
    const applied = new AppliedState();
    const book = new StatusBook({ applied, now: c.now });
    const observe = (e: PipelineEvent): void => book.observe(e);
    const snapshot = state([service('web', [server(1), server(2)])]);
    applyOk(applied, c, snapshot, observe);
    // The event fast path: the model has the new server, the rendered config is still the snapshot's.
    const grown = [service('web', [server(1), server(2), server(3)])];
    const lineOf = (v: Server): string => `  server ${v.name} ${v.ip}:${v.port}`;
    const fast: DesiredState = {
      model: { services: grown, problems: [] },
      rendered: snapshot.rendered,
      source: {
        apps: [],
        hosts: new Map(),
        fast: true,
        serverLines: new Map([['web', new Map(grown[0]!.servers.map((v) => [v.name, lineOf(v)]))]]),
      },
    };
    applyOk(applied, c, fast, observe);
    expect(book.status().services[0]!.servers).toHaveLength(3);
    // The next snapshot finds nothing to do in HAProxy: it writes the file.
    applyOk(applied, c, state(grown), observe);
    const [caughtUp, viaRuntime] = book.status().recentApplies;
    const added = (diff: string): string[] => diff.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'));
    expect(viaRuntime!).toMatchObject({ reloaded: false, runtimeOps: 1 });
    expect(added(viaRuntime!.diff)).toEqual([`+${lineOf(server(3))}`]);
    expect(caughtUp!).toMatchObject({ reloaded: false, runtimeOps: 0, diff: '' });
    expect(caughtUp!.reasons).toEqual([
      'config file written: its server changes were already live through the runtime API',
    ]);
  });

  test('a first apply that kept an adopted HAProxy says so, with no diff (the file held this config already)', () => {
    const c = clock();
    const applied = new AppliedState();
    const book = new StatusBook({ applied, now: c.now });
    const next = state([service('web', [server(1)])]);
    book.observe({ kind: 'applying', reasons: [{ kind: 'initial' }], runtimeOps: 0, triggeredAt: c.now() });
    applied.commit(next, c.now());
    book.observe({
      kind: 'applied',
      report: { reloaded: false, reasons: [], runtimeOps: 0, keptAdopted: true },
      state: next,
      previous: null,
      runtimeReasons: [],
    });
    expect(book.status().recentApplies[0]).toMatchObject({
      reloaded: false,
      runtimeOps: 0,
      reasons: ['kept as adopted: the HAProxy an earlier controller left runs this config already'],
      diff: '',
    });
  });

  test('Marathon health beside each server: healthy with --health-check, unknown without, none for an app without checks', () => {
    const check = {
      protocol: 'HTTP',
      path: '/health',
      portIndex: 0,
      port: null,
      timeoutSeconds: 1,
      intervalSeconds: 1,
      gracePeriodSeconds: 0,
      maxConsecutiveFailures: 1,
    };
    const next = state([service('checked', [server(1)], { healthCheck: check }), service('plain', [server(2)])]);
    for (const [healthCheck, expected] of [
      [true, ['healthy', 'none']],
      [false, ['unknown', 'none']],
    ] as const) {
      const applied = new AppliedState();
      const c = clock();
      const book = new StatusBook({ applied, now: c.now, healthCheck });
      applyOk(applied, c, next, (e) => book.observe(e));
      expect(book.status().services.map((s) => s.servers[0]!.marathonHealth)).toEqual(expected);
    }
  });

  test('IPv6 servers are shown as [ip]:port', () => {
    const applied = new AppliedState();
    const c = clock();
    const book = new StatusBook({ applied, now: c.now });
    applyOk(applied, c, state([service('v6', [server(1, { ip: 'fd00::1', port: 8080 })])]), (e) => book.observe(e));
    expect(book.status().services[0]!.servers[0]!.address).toBe('[fd00::1]:8080');
  });

  test('failures: last error until the next success, newest first, apply failures keep a change pending', () => {
    const c = clock();
    const applied = new AppliedState();
    const book = new StatusBook({ applied, now: c.now });
    const observe = (e: PipelineEvent): void => book.observe(e);
    applyOk(applied, c, state([service('web', [server(1)])]), observe);

    observe({ kind: 'trigger', trigger: { kind: 'resync' } });
    c.advance(1000);
    observe({ kind: 'fetch-failed', error: 'connect ECONNREFUSED 127.0.0.1:8080' });
    expect(book.status()).toMatchObject({ lastError: 'connect ECONNREFUSED 127.0.0.1:8080', pendingChange: false });
    observe({ kind: 'trigger', trigger: { kind: 'signal', signal: 'hup' } });
    observe({ kind: 'unchanged', state: applied.current! });
    expect(book.status()).toMatchObject({ lastError: null, pendingChange: false });

    observe({ kind: 'trigger', trigger: { kind: 'event', eventType: 'api_post_event' } });
    observe({ kind: 'applying', reasons: [], runtimeOps: 1, triggeredAt: c.now() });
    c.advance(300);
    observe({ kind: 'apply-failed', error: 'haproxy -c rejected the config', retryInMs: 750 });
    let s = book.status();
    expect(s.lastError).toBe('apply failed: haproxy -c rejected the config');
    expect(s.pendingChange).toBe(true); // the sink retries
    expect(s.recentFailures).toEqual([
      {
        at: '2026-01-02T03:04:06.340Z',
        kind: 'apply-failed',
        error: 'haproxy -c rejected the config',
        retryInMs: 750,
        durationMs: 300,
      },
      {
        at: '2026-01-02T03:04:06.040Z',
        kind: 'fetch-failed',
        error: 'connect ECONNREFUSED 127.0.0.1:8080',
        retryInMs: null,
        durationMs: null,
      },
    ]);
    applyOk(applied, c, state([service('web', [server(1), server(2)])]), observe);
    s = book.status();
    expect(s).toMatchObject({ lastError: null, pendingChange: false });
    expect(s.recentApplies).toHaveLength(2);
    expect(s.recentFailures).toHaveLength(2);
  });

  test('task churn applied beside a failing change leaves that change failing, pending and unapplied since its event', async () => {
    const c = clock();
    const applied = new AppliedState();
    const book = new StatusBook({ applied, now: c.now });
    const metrics = new ControllerMetrics({ now: c.now });
    const observe = (e: PipelineEvent): void => {
      book.observe(e);
      metrics.observe(e);
    };
    const snapshot = state([service('web', [server(1)])]);
    applyOk(applied, c, snapshot, observe);
    c.advance(1000);
    const changedAt = c.now();
    observe({ kind: 'trigger', trigger: { kind: 'event', eventType: 'api_post_event' } });
    observe({ kind: 'fetching' });
    observe({ kind: 'applying', reasons: [], runtimeOps: 0, triggeredAt: c.now(), fetchedAt: c.now() });
    c.advance(30000);
    observe({ kind: 'apply-failed', error: 'haproxy -c could not check the new config', retryInMs: 5000 });
    // A task of another app starts: the fast path applies it through the runtime API during the backoff.
    c.advance(1000);
    observe({ kind: 'trigger', trigger: { kind: 'event', eventType: 'status_update_event' } });
    const grown = [service('web', [server(1), server(2)])];
    applyOk(
      applied,
      c,
      { ...state(grown), rendered: snapshot.rendered, source: { apps: [], hosts: new Map(), fast: true } },
      observe,
    );
    const s = book.status();
    expect(s).toMatchObject({
      pendingChange: true,
      lastError: 'apply failed: haproxy -c could not check the new config',
      unappliedChangeSince: new Date(changedAt).toISOString(),
    });
    expect(s.services[0]!.servers).toHaveLength(2);
    const age = async () => samples(await metrics.text()).get('mlb_unapplied_change_age_seconds');
    expect(await age()).toBeCloseTo((c.now() - changedAt) / 1000, 3);
    // The change applies at its retry: nothing is pending any more.
    const fetchedAt = c.now();
    observe({ kind: 'applying', reasons: [], runtimeOps: 0, triggeredAt: c.now(), fetchedAt });
    applied.commit(state(grown), c.now());
    observe({
      kind: 'applied',
      report: { reloaded: true, reasons: [], runtimeOps: 0 },
      state: state(grown),
      previous: null,
      fetchedAt,
      runtimeReasons: [],
    });
    expect(book.status()).toMatchObject({ pendingChange: false, lastError: null, unappliedChangeSince: null });
    expect(await age()).toBe(0);
  });

  test('a config file that cannot be written while HAProxy runs the change does not make later task churn stale', async () => {
    // Counted as a failing change, churn after it stayed "unapplied" and /healthz went 503 while
    // HAProxy matched Marathon (helper 75).
    const c = clock();
    const applied = new AppliedState();
    const book = new StatusBook({ applied, now: c.now });
    const snapshot = state([service('web', [server(1)])]);
    applyOk(applied, c, snapshot, (e) => book.observe(e));
    c.advance(1000);
    book.observe({
      kind: 'apply-failed',
      error: 'the config HAProxy runs could not be written: ENOSPC',
      retryInMs: 1000,
      filesOnly: true,
    });
    c.advance(1000);
    book.observe({ kind: 'trigger', trigger: { kind: 'event', eventType: 'status_update_event' } });
    const grown = [service('web', [server(1), server(2)])];
    applyOk(
      applied,
      c,
      { ...state(grown), rendered: snapshot.rendered, source: { apps: [], hosts: new Map(), fast: true } },
      (e) => book.observe(e),
    );
    c.advance(600_000);
    expect(book.status()).toMatchObject({
      unappliedChangeSince: null,
      lastError: 'apply failed: the config HAProxy runs could not be written: ENOSPC',
    });
    expect(book.health()).toEqual({ healthy: true });
  });

  test('a trigger during an apply is still pending after it', () => {
    const c = clock();
    const applied = new AppliedState();
    const book = new StatusBook({ applied, now: c.now });
    book.observe({ kind: 'applying', reasons: [{ kind: 'initial' }], runtimeOps: 0, triggeredAt: c.now() });
    book.observe({ kind: 'trigger', trigger: { kind: 'event', eventType: 'status_update_event' } });
    const next = state([service('web', [server(1)])]);
    applied.commit(next, c.now());
    book.observe({
      kind: 'applied',
      report: { reloaded: true, reasons: [{ kind: 'initial' }], runtimeOps: 0 },
      state: next,
      previous: null,
      runtimeReasons: [],
    });
    expect(book.status().pendingChange).toBe(true);
    book.observe({ kind: 'unchanged', state: applied.current! });
    expect(book.status().pendingChange).toBe(false);
  });

  test('a SIGUSR1 reload is listed without a diff or duration and leaves the applied state alone', () => {
    const c = clock();
    const applied = new AppliedState();
    const book = new StatusBook({ applied, now: c.now });
    book.observe({
      kind: 'applied',
      report: { reloaded: true, reasons: [{ kind: 'sigusr1' }], runtimeOps: 0 },
      state: null,
      previous: null,
      runtimeReasons: [],
    });
    expect(book.status().recentApplies).toEqual([
      {
        at: '2026-01-02T03:04:05.000Z',
        reloaded: true,
        reasons: ['SIGUSR1: reload the existing config'],
        runtimeOps: 0,
        durationMs: null,
        diff: '',
      },
    ]);
    expect(book.status().lastAppliedAt).toBeNull();
  });

  test('a failure that a reload of the config on disk or a late file write ends is cleared, not kept pending', () => {
    const c = clock();
    const applied = new AppliedState();
    const book = new StatusBook({ applied, now: c.now });
    applyOk(applied, c, state([service('web', [server(1)])]), (e) => book.observe(e));
    const fail = (error: string): void =>
      book.observe({ kind: 'apply-failed', error, retryInMs: 1000, configOnDisk: true });
    const reloadedFromDisk: PipelineEvent = {
      kind: 'applied',
      report: { reloaded: true, reasons: [{ kind: 'sigusr1' }], runtimeOps: 0 },
      state: null,
      previous: null,
      runtimeReasons: [],
    };
    fail('SIGUSR1: not reloading: the config on disk is older than the one HAProxy runs (ENOSPC)');
    expect(book.status()).toMatchObject({ pendingChange: true, lastError: expect.stringMatching(/ENOSPC/) });
    book.observe(reloadedFromDisk);
    expect(book.status()).toMatchObject({ pendingChange: false, lastError: null });
    // The files HAProxy runs, written at last.
    book.observe({
      kind: 'apply-failed',
      error: 'the config HAProxy runs could not be written: ENOSPC',
      retryInMs: 1000,
    });
    book.observe({ ...reloadedFromDisk, report: { reloaded: false, reasons: [], runtimeOps: 0 }, filesWritten: true });
    expect(book.status()).toMatchObject({ pendingChange: false, lastError: null });
    expect(book.status().recentApplies[0]!.reasons).toEqual([
      'config file written at last: HAProxy ran its servers already (an earlier write had failed)',
    ]);
  });

  test('keeps the newest N applies', () => {
    const c = clock();
    const applied = new AppliedState();
    const book = new StatusBook({ applied, now: c.now, keep: 3 });
    for (let n = 1; n <= 5; n++) {
      c.advance(1000);
      applyOk(
        applied,
        c,
        state([
          service(
            'web',
            Array.from({ length: n }, (_, i) => server(i + 1)),
          ),
        ]),
        (e) => book.observe(e),
      );
    }
    expect(book.status().recentApplies.map((a) => a.runtimeOps)).toEqual([1, 1, 1]);
    expect(book.status().recentApplies.map((a) => a.at)).toEqual([
      '2026-01-02T03:04:10.200Z',
      '2026-01-02T03:04:09.160Z',
      '2026-01-02T03:04:08.120Z',
    ]);
  });

  test('diffs are bounded: cut at a size, and not computed for huge rewrites', () => {
    const before = Array.from({ length: 400 }, (_, i) => `line ${i}\n`).join('');
    const after = Array.from({ length: 400 }, (_, i) => `line ${i} changed\n`).join('');
    expect(unifiedDiff(before, before, 100, 1000)).toBe('');
    expect(unifiedDiff(before, after, 100, 100_000)).toBe('(diff not shown: more than 100 lines changed)\n');
    const cut = unifiedDiff(before, after, 10_000, 2000);
    expect(cut.length).toBeLessThan(2100);
    expect(cut).toMatch(/… \d+ more line\(s\) of diff not shown\n$/);
  });
});

describe('diffs made a step at a time', () => {
  const config = (n: number, changed: ReadonlySet<number>): string =>
    Array.from(
      { length: n },
      (_, i) => `  server s${i} 10.0.0.${i % 250}:${31000 + i}${changed.has(i) ? ' disabled' : ''}\n`,
    ).join('');

  test('the same text as the diff made at once: equal, cut, too many edits', async () => {
    const before = config(2000, new Set());
    for (const [after, maxEdits, maxChars] of [
      [before, 100, 1000],
      [config(2000, new Set([3, 700, 1999])), 100, 100_000],
      [config(2000, new Set(Array.from({ length: 300 }, (_, i) => i * 5))), 10_000, 2000],
      [config(2000, new Set(Array.from({ length: 300 }, (_, i) => i * 5))), 100, 100_000],
    ] as const) {
      expect(await unifiedDiffInSteps(before, after, maxEdits, maxChars)).toBe(
        unifiedDiff(before, after, maxEdits, maxChars),
      );
    }
  });

  test('other work runs while a big diff is made (the controller answers /healthz meanwhile)', async () => {
    const before = config(50_000, new Set());
    const after = config(50_000, new Set(Array.from({ length: 500 }, (_, i) => i * 97)));
    let turns = 0;
    let done = false;
    const tick = (): void => {
      turns++;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    const text = await unifiedDiffInSteps(before, after, 2000, 64 * 1024);
    done = true;
    expect(text).toMatch(/^--- haproxy\.cfg \(before\)/m);
    expect(turns).toBeGreaterThan(10);
  });
});

describe('reload reasons', () => {
  test('plan() gives typed reasons: formatted for people, counted by their kind (no text parsed back)', () => {
    const s = (backend: string, servers: Server[], extra: Partial<Service> = {}): Service =>
      service(backend, servers, extra);
    const reasons: ReloadReason[] = [
      ...plan(null, [s('a', [server(1)])]).reloadReasons,
      ...plan(
        [s('a', [server(1)]), s('b', [server(1)])],
        [s('a', [server(1)], { balance: 'leastconn' }), s('c', [server(1)])],
      ).reloadReasons,
      ...plan(
        [s('a', [server(1)], { balance: 'static-rr' })],
        [s('a', [server(1), server(2)], { balance: 'static-rr' })],
      ).reloadReasons,
      ...plan([s('a', [server(1)])], [s('a', [server(1, { id: 7 })])]).reloadReasons,
      { kind: 'sigusr1' },
      { kind: 'haproxy-restarted' },
      { kind: 'runtime-refused', detail: 'backend a/x: No such server' },
    ];
    expect(reasons.map((r) => [formatReason(r), reasonCategory(r)])).toEqual([
      ['initial configuration', 'initial'],
      ['backend c added', 'backend_added'],
      ['backend b removed', 'backend_removed'],
      ['backend a settings changed (balance)', 'settings_changed'],
      ['backend a uses static-rr, which refuses runtime server changes', 'static_rr'],
      ['backend a server 10_0_0_1_31000 changed its definition', 'server_changed'],
      ['SIGUSR1: reload the existing config', 'sigusr1'],
      ['HAProxy exited unexpectedly: restarted with the existing config', 'haproxy_restarted'],
      ['runtime API could not apply the change (backend a/x: No such server)', 'runtime_refused'],
    ]);
  });
});

describe('ControllerMetrics', () => {
  test('a reload counts the reasons of what was done (the report), not of the plan: planned as task churn, reloaded because the runtime API refused', async () => {
    const c = clock();
    const m = new ControllerMetrics({ now: c.now });
    const book = new StatusBook({ applied: { current: null, appliedAt: null }, now: c.now });
    const next = state([service('web', [server(1), server(2)])]);
    for (const e of [
      { kind: 'applying', reasons: [], runtimeOps: 1, triggeredAt: c.now() },
      {
        kind: 'applied',
        report: {
          reloaded: true,
          reasons: [{ kind: 'runtime-refused', detail: 'add server web/x: refused' }],
          runtimeOps: 0,
        },
        state: next,
        previous: null,
        runtimeReasons: [],
      },
    ] as PipelineEvent[]) {
      m.observe(e);
      book.observe(e);
    }
    const x = samples(await m.text());
    expect(x.get('mlb_reloads_total{reason="runtime_refused"}')).toBe(1);
    expect(x.get('mlb_runtime_ops_total')).toBe(0);
    expect(book.status().recentApplies[0]).toMatchObject({
      reloaded: true,
      runtimeOps: 0,
      reasons: ['runtime API could not apply the change (add server web/x: refused)'],
    });
  });

  test('counts applies, reloads by reason, runtime ops, triggers, fetch failures; times applies with the injected clock', async () => {
    const c = clock(Date.UTC(2026, 0, 1));
    const applied = new AppliedState();
    const m = new ControllerMetrics({ now: c.now, haproxyWorkers: () => Promise.resolve(3) });
    const observe = (e: PipelineEvent): void => m.observe(e);
    let x = samples(await m.text());
    expect(x.get('mlb_applies_total{result="ok"}')).toBe(0);
    expect(x.get('mlb_applies_total{result="failed"}')).toBe(0);
    expect(x.get('mlb_applies_total{result="unchanged"}')).toBe(0);
    expect(x.get('mlb_last_apply_success_timestamp_seconds')).toBe(0);
    c.advance(4000);
    expect(samples(await m.text()).get('mlb_seconds_since_last_successful_apply')).toBe(4); // since start

    observe({ kind: 'trigger', trigger: { kind: 'startup' } });
    observe({ kind: 'trigger', trigger: { kind: 'connected' } });
    observe({ kind: 'fast-path', outcome: 'applied', detail: 'status_update_event of app /a' });
    observe({ kind: 'fast-path', outcome: 'refused', detail: 'status_update_event: app /b: unknown' });
    observe({ kind: 'fast-path', outcome: 'corrected', detail: '1 runtime operation(s)' });
    observe({ kind: 'trigger', trigger: { kind: 'event', eventType: 'status_update_event' } });
    observe({ kind: 'trigger', trigger: { kind: 'event', eventType: 'status_update_event' } });
    applyOk(
      applied,
      c,
      state([service('web', [server(1)])], [badMode, { ...badMode, appId: '/broken2' }]),
      observe,
      30,
    );
    applyOk(applied, c, state([service('web', [server(1), server(2), server(3)])], [badMode]), observe, 2000);
    applyOk(
      applied,
      c,
      state([service('web', [server(1), server(2), server(3)]), service('api', [server(4)])], [badMode]),
      observe,
      70,
    );
    observe({ kind: 'applying', reasons: [], runtimeOps: 1, triggeredAt: c.now() });
    c.advance(500);
    observe({ kind: 'apply-failed', error: 'boom', retryInMs: 1000 });
    observe({ kind: 'unchanged', state: applied.current! });
    observe({ kind: 'fetch-failed', error: 'ECONNREFUSED' });
    observe({ kind: 'snapshot-invalid', error: 'Marathon apps: not a list' });
    observe({
      kind: 'applied',
      report: { reloaded: true, reasons: [{ kind: 'sigusr1' }], runtimeOps: 0 },
      state: null,
      previous: null,
      runtimeReasons: [],
    });
    m.streamReconnected();
    m.streamReconnected();
    c.advance(10_000);

    x = samples(await m.text());
    expect(x.get('mlb_apply_duration_seconds_sum')).toBeCloseTo(2.6, 9);
    expect(
      Object.fromEntries(
        [...x].filter(
          ([k]) => !k.startsWith('mlb_apply_duration_seconds_bucket') && k !== 'mlb_apply_duration_seconds_sum',
        ),
      ),
    ).toEqual({
      'mlb_applies_total{result="ok"}': 4,
      'mlb_applies_total{result="failed"}': 1,
      'mlb_applies_total{result="unchanged"}': 1,
      'mlb_reloads_total{reason="initial"}': 1,
      'mlb_reloads_total{reason="backend_added"}': 1,
      'mlb_reloads_total{reason="sigusr1"}': 1,
      mlb_runtime_ops_total: 2,
      'mlb_runtime_updates_total{reason="add_server"}': 1,
      mlb_apply_duration_seconds_count: 4,
      mlb_sse_reconnects_total: 2,
      'mlb_triggers_total{kind="startup"}': 1,
      'mlb_triggers_total{kind="connected"}': 1,
      'mlb_triggers_total{kind="event"}': 2,
      mlb_marathon_fetch_failures_total: 1,
      'mlb_pipeline_errors_total{stage="fetch"}': 1,
      'mlb_pipeline_errors_total{stage="build"}': 1,
      'mlb_pipeline_errors_total{stage="plan"}': 0,
      'mlb_pipeline_errors_total{stage="apply"}': 1,
      'mlb_pipeline_errors_total{stage="pipeline"}': 0,
      mlb_apps_left_out: 1,
      mlb_fast_path_applies_total: 1,
      mlb_fast_path_corrections_total: 1,
      // The unchanged snapshot 0.5 s after the last apply counts: HAProxy runs it already.
      mlb_last_apply_success_timestamp_seconds: (Date.UTC(2026, 0, 1) + 4000 + 30 + 2000 + 70 + 500) / 1000,
      mlb_seconds_since_last_successful_apply: 10,
      mlb_unapplied_change_age_seconds: 10, // the snapshot that could not be built, 10 s ago
      mlb_haproxy_workers: 3,
    });
    expect(x.get('mlb_apply_duration_seconds_bucket{le="0.05"}')).toBe(1);
    expect(x.get('mlb_apply_duration_seconds_bucket{le="0.1"}')).toBe(2);
    expect(x.get('mlb_apply_duration_seconds_bucket{le="0.5"}')).toBe(3);
    expect(x.get('mlb_apply_duration_seconds_bucket{le="2.5"}')).toBe(4);
  });

  test('the age of the oldest unapplied change: growing while it waits, 0 once a snapshot covers it', async () => {
    const c = clock(Date.UTC(2026, 0, 1));
    const m = new ControllerMetrics({ now: c.now });
    const age = async (): Promise<number | undefined> =>
      samples(await m.text()).get('mlb_unapplied_change_age_seconds');
    expect(await age()).toBe(0);
    m.observe({ kind: 'trigger', trigger: { kind: 'resync' } }); // not a change: a quiet cluster stays current
    c.advance(1000);
    expect(await age()).toBe(0);
    m.observe({ kind: 'trigger', trigger: { kind: 'event', eventType: 'api_post_event' } });
    c.advance(2500);
    m.observe({ kind: 'fetch-failed', error: 'ECONNREFUSED' });
    c.advance(4000);
    expect(await age()).toBe(6.5);
    const fetchedAt = c.now();
    m.observe({ kind: 'fetching' });
    c.advance(500);
    m.observe({ kind: 'unchanged', state: state([service('web', [server(1)])]), fetchedAt });
    expect(await age()).toBe(0);
  });

  test('HAProxy workers: NaN when unknown or when asking fails; absent without a provider', async () => {
    const now = (): number => 0;
    expect(
      samples(await new ControllerMetrics({ now, haproxyWorkers: () => Promise.resolve(null) }).text()).get(
        'mlb_haproxy_workers',
      ),
    ).toBeNaN();
    expect(
      samples(
        await new ControllerMetrics({ now, haproxyWorkers: () => Promise.reject(new Error('no socket')) }).text(),
      ).get('mlb_haproxy_workers'),
    ).toBeNaN();
    expect(await new ControllerMetrics({ now }).text()).not.toContain('mlb_haproxy_workers');
  });

  test('each instance has its own registry (two controllers in one process do not collide)', async () => {
    const a = new ControllerMetrics({ now: () => 0 });
    const b = new ControllerMetrics({ now: () => 0 });
    a.observe({ kind: 'unchanged', state: state([]) });
    expect(samples(await a.text()).get('mlb_applies_total{result="unchanged"}')).toBe(1);
    expect(samples(await b.text()).get('mlb_applies_total{result="unchanged"}')).toBe(0);
    expect(a.contentType).toMatch(/^text\/plain/);
  });
});
