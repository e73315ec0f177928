import { HaproxyState } from '../../src/admin/haproxyState';
import { MarathonState } from '../../src/admin/marathonState';
import { ControllerMetrics, leftOutCount } from '../../src/admin/metrics';
import { StatusBook } from '../../src/admin/statusBook';
import { statSample } from '../../src/haproxy/stats';
import type { DesiredState } from '../../src/reconcile/applyPort';
import { samples } from '../support/metrics';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5);
const iso = (ms: number): string => new Date(ms).toISOString();

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = T0;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('/healthz and HAProxy', () => {
  test('HAProxy that ran and has not answered for 30 s makes the service unhealthy; never read, or answering again, not', () => {
    const c = clock();
    const haproxy = new HaproxyState({ now: c.now, enabled: true, intervalMs: 2000 });
    const book = new StatusBook({
      applied: { current: null, appliedAt: null },
      now: c.now,
      marathon: new MarathonState({ now: c.now, eventStream: false, staleAfterMs: 60_000 }),
      haproxy,
    });
    haproxy.observe({ ok: false, error: 'HAProxy is not running' }); // before its first start
    c.advance(60_000);
    expect(book.health()).toEqual({ healthy: true });
    haproxy.observe({ ok: true, value: statSample(c.now(), [], []) });
    for (let s = 0; s <= 31; s++) {
      haproxy.observe({ ok: false, error: 'HAProxy is not running' });
      c.advance(1000);
    }
    expect(book.health()).toEqual({
      healthy: false,
      reason: 'HAProxy has not answered for 32 s (it is down or wedged); see /status',
    });
    haproxy.observe({ ok: true, value: statSample(c.now(), [], []) });
    expect(book.health()).toEqual({ healthy: true });
  });
});

describe('how long HAProxy has not answered', () => {
  // The first failed read ends seconds after the last answer (its own timeout): counted from then,
  // "has not answered for 32 s" was 36 s (found by an audit).
  test('is counted from its last answer, not from the first read that failed', () => {
    const c = clock();
    const haproxy = new HaproxyState({ now: c.now, enabled: true, intervalMs: 2000 });
    haproxy.observe({ ok: true, value: statSample(c.now(), [], []) });
    c.advance(4000); // the next read, after its 2 s wait and 2 s timeout
    haproxy.observe({ ok: false, error: 'no answer within 2000 ms' });
    expect(haproxy.silentForMs()).toBe(4000);
    c.advance(26_000);
    expect(haproxy.silentForMs()).toBe(30_000);
  });
});

describe('StatusBook.version: what a shared /status body is keyed on (admin/recentBody.ts)', () => {
  test('it changes with every pipeline event, HAProxy read and event stream change; the time of an event and the clock leave it', () => {
    const c = clock();
    const haproxy = new HaproxyState({ now: c.now, enabled: true, intervalMs: 2000 });
    const marathon = new MarathonState({ now: c.now, eventStream: true, staleAfterMs: 60_000 });
    const book = new StatusBook({ applied: { current: null, appliedAt: null }, now: c.now, marathon, haproxy });
    const seen = [book.version()];
    const changed = (): boolean => {
      const v = book.version();
      const fresh = !seen.includes(v);
      seen.push(v);
      return fresh;
    };
    book.observe({ kind: 'fetching' });
    expect(changed()).toBe(true);
    marathon.observe({ kind: 'fetch-failed', error: 'ECONNREFUSED', retryInMs: 1000 });
    expect(changed()).toBe(true);
    haproxy.observe({ ok: true, value: statSample(c.now(), [], []) });
    expect(changed()).toBe(true);
    marathon.streamReceived();
    expect(changed()).toBe(true);
    marathon.streamLost();
    expect(changed()).toBe(true);

    c.advance(120_000); // only the times in the status moved (and its stale reason, from the clock)
    marathon.eventReceived();
    expect(changed()).toBe(false);
    marathon.streamReceived();
    expect(changed()).toBe(true);
    marathon.streamReceived(); // a heartbeat on a connected stream
    expect(changed()).toBe(false);
  });
});

describe('MarathonState', () => {
  test('a read of /v2/apps under way is shown from its start to its answer; the fast path ends none', () => {
    const c = clock();
    const m = new MarathonState({ now: c.now, eventStream: true, staleAfterMs: 10_000 });
    expect(m.status()).toMatchObject({ fetchingSince: null, secondsFetching: null });
    m.observe({ kind: 'fetching' });
    c.advance(30_000);
    m.observe({ kind: 'applying', reasons: [], runtimeOps: 1, triggeredAt: c.now(), fetchedAt: c.now(), fast: true });
    m.observe({ kind: 'unchanged', state: {} as DesiredState, fetchedAt: c.now(), fast: true });
    expect(m.status()).toMatchObject({ fetchingSince: iso(T0), secondsFetching: 30 });
    m.observe({ kind: 'applying', reasons: [], runtimeOps: 0, triggeredAt: T0, fetchedAt: T0 });
    expect(m.status()).toMatchObject({ fetchingSince: null, secondsFetching: null });
    m.observe({ kind: 'fetching' });
    c.advance(2000);
    m.observe({ kind: 'fetch-failed', error: 'HTTP 500: boom', retryInMs: 1000 });
    expect(m.status()).toMatchObject({ fetchingSince: null, consecutiveFetchFailures: 1 });
  });
  test('what the event fast path applies is no read of Marathon: failing reads stay failing, and go stale', () => {
    const c = clock();
    const m = new MarathonState({ now: c.now, eventStream: true, staleAfterMs: 10_000 });
    m.streamReceived();
    m.observe({ kind: 'applying', reasons: [], runtimeOps: 0, triggeredAt: T0, fetchedAt: T0 });
    c.advance(1000);
    m.observe({ kind: 'fetch-failed', error: 'HTTP 500: boom', retryInMs: 1000 });
    for (let i = 0; i < 3; i++) {
      c.advance(5000);
      m.observe({ kind: 'applying', reasons: [], runtimeOps: 1, triggeredAt: c.now(), fetchedAt: c.now(), fast: true });
      m.observe({ kind: 'unchanged', state: {} as DesiredState, fetchedAt: c.now(), fast: true });
    }
    expect(m.status()).toMatchObject({ lastSnapshotAt: iso(T0), consecutiveFetchFailures: 1 });
    expect(m.up).toBe(false);
    expect(m.staleReason()).toBe('reads of Marathon have failed for 15 s: HTTP 500: boom');
  });

  test('stream connected since / disconnected since, last event, last snapshot, last fetch error', () => {
    const c = clock();
    const m = new MarathonState({ now: c.now, eventStream: true, staleAfterMs: 60_000 });
    expect(m.status()).toEqual({
      eventStream: true,
      streamConnected: false,
      connectedSince: null,
      disconnectedSince: iso(T0),
      lastEventAt: null,
      secondsSinceLastEvent: null,
      lastSnapshotAt: null,
      secondsSinceLastSnapshot: null,
      lastFetchError: null,
      consecutiveFetchFailures: 0,
      fetchingSince: null,
      secondsFetching: null,
    });
    expect(m.up).toBe(false);
    c.advance(1000);
    m.streamReceived();
    m.observe({ kind: 'applying', reasons: [], runtimeOps: 0, triggeredAt: T0, fetchedAt: T0 + 900 });
    c.advance(1000);
    m.streamReceived(); // an event: its bytes, then the event (as service.ts calls them)
    m.eventReceived();
    c.advance(3000);
    expect(m.status()).toMatchObject({
      streamConnected: true,
      connectedSince: iso(T0 + 1000),
      disconnectedSince: null,
      lastEventAt: iso(T0 + 2000),
      secondsSinceLastEvent: 3,
      lastSnapshotAt: iso(T0 + 900),
      secondsSinceLastSnapshot: 4.1,
    });
    expect(m.up).toBe(true);
    m.streamLost();
    m.streamLost(); // each failed reconnection reports a loss: the first one is when it went down
    c.advance(1000);
    m.observe({ kind: 'fetch-failed', error: 'GET /v2/apps failed: ECONNREFUSED', retryInMs: 1000 });
    expect(m.status()).toMatchObject({
      streamConnected: false,
      connectedSince: null,
      // Down since its last bytes, not since the loss was seen (an idle timeout later; found by an audit).
      disconnectedSince: iso(T0 + 2000),
      lastFetchError: { at: iso(T0 + 6000), error: 'GET /v2/apps failed: ECONNREFUSED' },
      consecutiveFetchFailures: 1,
    });
    expect(m.up).toBe(false);
    m.streamReceived();
    m.observe({ kind: 'unchanged', state: {} as DesiredState, fetchedAt: T0 + 6500 });
    expect(m.status()).toMatchObject({
      consecutiveFetchFailures: 0,
      lastSnapshotAt: iso(T0 + 6500),
      lastFetchError: { at: iso(T0 + 6000) },
    });
    expect(m.up).toBe(true);
  });

  test('stale: the stream down, or reads failing, for longer than the bound; a quiet cluster never', () => {
    const c = clock();
    const m = new MarathonState({ now: c.now, eventStream: true, staleAfterMs: 10_000 });
    c.advance(10_000);
    expect(m.staleReason()).toBeNull();
    c.advance(1);
    expect(m.staleReason()).toBe('the Marathon event stream has been down for 10 s: changes in Marathon are not seen');
    m.streamReceived();
    expect(m.staleReason()).toBe('no snapshot could be read from Marathon since start 10 s ago');
    m.observe({ kind: 'unchanged', state: {} as DesiredState });
    expect(m.staleReason()).toBeNull();
    c.advance(3_600_000); // an hour without events or reads
    expect(m.staleReason()).toBeNull();
    m.observe({ kind: 'fetch-failed', error: 'HTTP 503', retryInMs: 1000 });
    expect(m.staleReason()).toBeNull(); // one failed read after a quiet hour is not stale yet
    c.advance(10_001);
    m.observe({ kind: 'fetch-failed', error: 'HTTP 503', retryInMs: 1000 });
    expect(m.staleReason()).toBe('reads of Marathon have failed for 10 s: HTTP 503');
    m.observe({ kind: 'snapshot-invalid', error: 'not a list' }); // Marathon answered
    expect(m.staleReason()).toBeNull();
    // A read that does not end (an audit: an answer trickled a byte a second) is stale past the bound too.
    m.observe({ kind: 'fetching' });
    c.advance(10_000);
    expect(m.staleReason()).toBeNull();
    c.advance(1);
    expect(m.staleReason()).toBe(
      "a read of Marathon's apps has gone on for 10 s (a slow or stuck answer): changes in Marathon wait for it",
    );
    m.observe({ kind: 'unchanged', state: {} as DesiredState });
    expect(m.staleReason()).toBeNull();
  });

  test('polling (no --sse): the stream is never expected', () => {
    const c = clock();
    const m = new MarathonState({ now: c.now, eventStream: false, staleAfterMs: 1000 });
    m.observe({ kind: 'unchanged', state: {} as DesiredState });
    c.advance(5000);
    expect(m.staleReason()).toBeNull();
    expect(m.up).toBe(true);
    expect(m.status()).toMatchObject({ eventStream: false, streamConnected: false, disconnectedSince: null });
  });

  /** A StatusBook over an event stream's MarathonState, nothing applied yet, --max-apply-age 20 s. */
  function bookOfStream(staleAfterMs: number): {
    c: ReturnType<typeof clock>;
    marathon: MarathonState;
    book: StatusBook;
  } {
    const c = clock();
    const marathon = new MarathonState({ now: c.now, eventStream: true, staleAfterMs });
    const book = new StatusBook({
      applied: { current: null, appliedAt: null },
      now: c.now,
      marathon,
      maxApplyAgeMs: 20_000,
    });
    return { c, marathon, book };
  }

  test('StatusBook: stale and its reason in /status; a change waiting past --max-apply-age says so first', () => {
    const { c, book } = bookOfStream(5000);
    expect(book.status()).toMatchObject({ stale: false, staleReason: null });
    c.advance(6000);
    expect(book.status()).toMatchObject({
      stale: true,
      staleReason: 'the Marathon event stream has been down for 6 s: changes in Marathon are not seen',
    });
    expect(book.health()).toEqual({ healthy: true }); // /healthz keeps its own rule: restarting the LB would not help
    book.observe({ kind: 'trigger', trigger: { kind: 'startup' } });
    c.advance(20_001);
    expect(book.status().staleReason).toMatch(/^a Marathon change has waited 20 s to be applied/);
  });

  // An audit: a proxy that trickled /v2/apps a byte a second; /healthz said only that a change waited.
  test('/healthz names a read of Marathon that has gone on for more than a minute', () => {
    const { c, marathon, book } = bookOfStream(600_000);
    for (const e of [{ kind: 'trigger', trigger: { kind: 'signal', signal: 'hup' } }, { kind: 'fetching' }] as const) {
      marathon.observe(e); // as service.ts wires them
      book.observe(e);
    }
    c.advance(30_000);
    expect(book.health()).toEqual({
      healthy: false,
      reason: 'a Marathon change has waited 30 s to be applied (--max-apply-age 20 s); see /status',
    });
    c.advance(60_000);
    expect(book.health()).toEqual({
      healthy: false,
      reason:
        "a Marathon change has waited 90 s to be applied (--max-apply-age 20 s); the read of Marathon's apps under way has taken 90 s; see /status",
    });
  });
});

describe('ControllerMetrics: Marathon, HAProxy and build gauges', () => {
  test('values follow the shared state; absent without it', async () => {
    const c = clock();
    const marathon = new MarathonState({ now: c.now, eventStream: true, staleAfterMs: 5000 });
    const haproxyState = new HaproxyState({ now: c.now, enabled: true, intervalMs: 2000 });
    const m = new ControllerMetrics({
      now: c.now,
      marathon,
      haproxyState,
      build: { version: '9.9.9', haproxyVersion: '2.6' },
    });
    let x = samples(await m.text());
    expect(Object.fromEntries([...x].filter(([k]) => /^mlb_(marathon|haproxy|build|routing)/.test(k)))).toEqual({
      [`mlb_build_info{version="9.9.9",nodejs_version="${process.versions.node}",haproxy_version="2.6"}`]: 1,
      mlb_marathon_up: 0,
      mlb_marathon_event_stream_connected: 0,
      mlb_marathon_last_event_timestamp_seconds: 0,
      mlb_marathon_last_snapshot_timestamp_seconds: 0,
      mlb_routing_stale: 0,
      mlb_haproxy_last_stats_read_timestamp_seconds: 0,
      mlb_marathon_fetch_failures_total: 0,
    });
    marathon.streamReceived();
    c.advance(1500);
    marathon.eventReceived();
    marathon.observe({ kind: 'unchanged', state: {} as DesiredState, fetchedAt: T0 + 1000 });
    haproxyState.observe({
      ok: true,
      value: statSample(
        c.now(),
        [],
        [
          {
            backend: 'b',
            name: 's1',
            state: 'UP',
            status: 'UP',
            checked: true,
            checkStatus: 'L7OK',
            checkCode: 200,
            checkDescription: '',
            checkDurationMs: 1,
            secondsSinceChange: 3,
            currentSessions: 0,
            http5xxTotal: 0,
          },
          {
            backend: 'b',
            name: 's2',
            state: 'DOWN',
            status: 'DOWN',
            checked: true,
            checkStatus: 'L4TOUT',
            checkCode: null,
            checkDescription: '',
            checkDurationMs: 1001,
            secondsSinceChange: 3,
            currentSessions: 0,
            http5xxTotal: 0,
          },
        ],
      ),
    });
    x = samples(await m.text());
    expect(x.get('mlb_marathon_up')).toBe(1);
    expect(x.get('mlb_marathon_event_stream_connected')).toBe(1);
    expect(x.get('mlb_marathon_last_event_timestamp_seconds')).toBe((T0 + 1500) / 1000);
    expect(x.get('mlb_marathon_last_snapshot_timestamp_seconds')).toBe((T0 + 1000) / 1000);
    expect(x.get('mlb_haproxy_servers{state="UP"}')).toBe(1);
    expect(x.get('mlb_haproxy_servers{state="DOWN"}')).toBe(1);
    expect(x.get('mlb_haproxy_last_stats_read_timestamp_seconds')).toBe((T0 + 1500) / 1000);
    haproxyState.observe({ ok: false, error: 'HAProxy is not running' });
    x = samples(await m.text());
    expect([...x.keys()].filter((k) => k.startsWith('mlb_haproxy_servers'))).toEqual([]); // unknown, not zero
    const text = await new ControllerMetrics({ now: c.now }).text();
    expect(text).not.toMatch(/mlb_marathon_up|mlb_haproxy_servers|mlb_build_info|process_cpu/);
  });

  test("process metrics on the service's own registry, with help text", async () => {
    const text = await new ControllerMetrics({ now: () => 0, processMetrics: true }).text();
    expect(text).toContain('# HELP process_cpu_user_seconds_total');
    expect(text).toContain('# TYPE nodejs_heap_size_used_bytes gauge');
  });

  test("left-out apps counted once: render problems are in the model's problems already", () => {
    const p = (appId: string, portIndex: number | null) => ({
      appId,
      portIndex,
      label: 'HAPROXY_0_MODE',
      message: 'bad',
    });
    const state = {
      model: { services: [], problems: [p('/a', 0), p('/b', null), p('/b', null)] },
      rendered: { problems: [p('/b', null)] },
    } as unknown as DesiredState;
    expect(leftOutCount(state)).toBe(2);
  });
});
