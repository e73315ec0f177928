import { Simulator } from '../../src/simulator';
import {
  connectedAndSettled,
  startController,
  type LogLine,
  type RunningController,
} from '../support/controllerHarness';
import { RecordingHaproxy } from '../support/recordingHaproxy';
import { waitFor } from '../support/wait';

type FetchFailed = Extract<PipelineEvent, { kind: 'fetch-failed' }>;
const fetchFailures = (events: readonly PipelineEvent[]): FetchFailed[] =>
  events.filter((e): e is FetchFailed => e.kind === 'fetch-failed');
import type { PipelineEvent } from '../../src/reconcile/pipeline';

const web = (instances: number) => ({
  id: '/web',
  instances,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com' },
  portDefinitions: [{ port: 10001, protocol: 'tcp' }],
});
const FAST = ['--sse', '--debounce-quiet', '0.05', '--debounce-max-wait', '0.5', '--max-backoff', '1'];
const serversOf = (c: RunningController): number =>
  c.applied.current?.model.services.find((s) => s.backend === 'web_10001')?.servers.length ?? -1;

describe('controller against the simulator over real HTTP + SSE', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  async function sim(opts: Parameters<typeof Simulator.start>[0] = {}): Promise<Simulator> {
    const s = await Simulator.start({ apps: [web(2)], ...opts });
    cleanup.push(() => s.close());
    return s;
  }
  function controller(
    argv: string[],
    haproxy = new RecordingHaproxy(),
  ): { c: RunningController; haproxy: RecordingHaproxy } {
    const c = startController(argv, haproxy);
    cleanup.push(() => c.stop());
    return { c, haproxy };
  }

  test('a burst of 100 events → one apply', async () => {
    const s = await sim();
    const { c, haproxy } = controller(['-m', s.url, ...FAST]);
    await waitFor('initial apply', () => serversOf(c) === 2);
    // The snapshot the stream's connection triggers is answered first (else it could be one more apply).
    await waitFor('event stream open, its snapshot answered', () => connectedAndSettled(c.events));
    const before = haproxy.applies.length;
    await s.scale('/web', 3); // a real change…
    s.burst(100); // …buried in a storm of 100 events
    await waitFor('scale-up applied', () => serversOf(c) === 3);
    // Marker: a later change; once it is applied, an extra apply caused by the storm would have come before it.
    await s.scale('/web', 4);
    await waitFor('marker applied', () => serversOf(c) === 4);
    const applies = haproxy.applies.slice(before);
    // The two scale-ups, each one runtime op; at most one snapshot besides, writing the config text
    // those ops changed (0 ops) — never an apply per event of the storm.
    const changing = applies.filter((a) => a.plan.runtimeOps.length > 0 || a.plan.reloadReasons.length > 0);
    expect(changing).toHaveLength(2);
    expect(applies.length).toBeLessThanOrEqual(3);
    expect(changing[0]!.plan.reloadReasons).toEqual([]);
    expect(changing[0]!.plan.runtimeOps).toHaveLength(1);
  });

  test('a stream that hangs silently is detected by the idle timeout, reconnected, and resynced', async () => {
    const s = await sim();
    const { c } = controller(['-m', s.url, ...FAST, '--sse-idle-timeout', '1']);
    await waitFor('initial apply', () => serversOf(c) === 2);
    // Marker: the snapshot the stream's connection triggers is answered before the change (or it would carry it).
    await waitFor('event stream open, its snapshot answered', () => connectedAndSettled(c.events));
    s.setFaults({ stream: 'hang' }); // the open stream goes silent without closing
    const mark = c.logs.length;
    await s.scale('/web', 4); // this event is never delivered on the hung stream
    s.clearFaults(); // new connections work again; the hung one stays hung
    await waitFor('resync after the idle timeout', () => serversOf(c) === 4, 8000);
    // The change came through the resync: the idle timeout was logged before anything was applied.
    const after = c.logs.slice(mark).map((l) => l.msg);
    const silent = after.findIndex((m) => /event stream silent for 1s/.test(m));
    const applied = after.findIndex((m) => /^HAProxy (updated|reloaded)/.test(m));
    expect(silent).toBeGreaterThanOrEqual(0);
    expect(applied).toBeGreaterThan(silent);
  });

  test("a quiet Marathon's heartbeats keep the stream: no reconnect while no event comes", async () => {
    const s = await sim({ keepAliveMs: 100 });
    const { c } = controller(['-m', s.url, ...FAST, '--sse-idle-timeout', '0.5']);
    await waitFor('initial apply', () => serversOf(c) === 2);
    const connects = () => c.events.filter((e) => e.kind === 'trigger' && e.trigger.kind === 'connected').length;
    const before = connects();
    await new Promise((r) => setTimeout(r, 2000)); // four idle timeouts without an event
    expect(connects()).toBe(before);
    expect(c.logs.filter((l) => l.msg.includes('silent'))).toEqual([]);
  });

  test('the leader dies → the next Marathon URL takes over and routing stays current', async () => {
    const leader = await sim();
    const standby = await sim({ apps: [web(2)] });
    const { c } = controller(['-m', leader.url, standby.url, ...FAST]);
    await waitFor('initial apply', () => serversOf(c) === 2);
    await leader.close();
    await standby.scale('/web', 5);
    c.signals.next('hup'); // like SIGHUP: refetch (the standby's events would also trigger it)
    await waitFor('standby state applied', () => serversOf(c) === 5, 8000);
  });

  test('redirect to the leader with basic auth', async () => {
    const leader = await sim({ auth: { basic: 'mlb:s3cret' } });
    const follower = await sim({ auth: { basic: 'mlb:s3cret' }, leader: { redirectTo: leader.url, status: 307 } });
    // The leader is a --marathon URL too: credentials follow redirects only there (marathon-client.test.ts).
    const { c } = controller(['-m', follower.url, leader.url, '--auth-credentials', 'mlb:s3cret', ...FAST]);
    await waitFor('initial apply through the redirect', () => serversOf(c) === 2);
    await leader.scale('/web', 3);
    await waitFor('event-driven update', () => serversOf(c) === 3);
    expect(JSON.stringify(c.logs)).not.toContain('s3cret');
  });

  test('an answer of another shape from Marathon is a failed read: the last applied model kept, retried by itself', async () => {
    const s = await sim();
    const { c, haproxy } = controller(['-m', s.url, ...FAST]);
    await waitFor('initial apply', () => serversOf(c) === 2);
    const applies = haproxy.applies.length;
    s.setFaults({ apps: 'wrong-shape' });
    c.signals.next('hup');
    const failed = () => fetchFailures(c.events);
    await waitFor('the read reported as failed', () => failed().length > 0);
    expect(failed()[0]!.error).toMatch(/Marathon answered JSON without an "apps" array/);
    // Retried with backoff, not left until the next trigger (an event, the resync).
    await waitFor('retried', () => failed().length > 1);
    // The repeat names its reason (it said "same reason as above", whatever was logged in between).
    const repeat = c.logs.find((l) => l.msg.startsWith('cannot fetch apps from Marathon again'));
    // Its start and its end (the cause), the middle cut when long (an audit: the end had been cut).
    const error = failed()[0]!.error;
    expect(repeat?.msg).toContain(`(2 times in a row: ${error.length <= 200 ? error : error.slice(0, 80)}`);
    expect(repeat?.msg).toContain(`${error.slice(-100)})`);
    expect(c.events.some((e) => e.kind === 'snapshot-invalid')).toBe(false);
    expect(haproxy.applies.length).toBe(applies);
    expect(serversOf(c)).toBe(2);
    s.clearFaults();
    await s.scale('/web', 1);
    await waitFor('recovered', () => serversOf(c) === 1);
    // Said at info: the last word at that level was "retrying in …" (found by an audit).
    const recovered = (): LogLine[] =>
      c.logs.filter((l) => /^read the apps from Marathon again after \d+ failed read\(s\)$/.test(l.msg));
    await waitFor('the next read', () => recovered().length > 0);
    expect(recovered().map((l) => l.level)).toEqual(['info']);
  });

  test("apps without their tasks (a proxy dropped the embed) are a failed read, not every app's servers gone", async () => {
    const s = await sim();
    const { c, haproxy } = controller(['-m', s.url, ...FAST]);
    await waitFor('initial apply', () => serversOf(c) === 2);
    const applies = haproxy.applies.length;
    s.setFaults({ apps: 'no-embed' });
    c.signals.next('hup');
    const failed = () => fetchFailures(c.events);
    await waitFor('the read reported as failed', () => failed().length > 0);
    expect(failed()[0]!.error).toMatch(/Marathon answered apps without their tasks \(was embed=apps\.tasks dropped/);
    expect(haproxy.applies.length).toBe(applies);
    expect(serversOf(c)).toBe(2);
    s.clearFaults();
    await s.scale('/web', 1);
    await waitFor('recovered', () => serversOf(c) === 1);
  });

  test('a task host that does not resolve is warned once while it lasts, not at every snapshot', async () => {
    // .invalid never resolves (RFC 6761); marathon-lb warns about it at every update.
    const s = await sim({ taskHost: 'agent-gone.invalid' });
    const { c } = controller(['-m', s.url, ...FAST]);
    await waitFor('event stream open, its snapshot answered', () => connectedAndSettled(c.events));
    const fetches = () => c.events.filter((e) => e.kind === 'fetching').length;
    const before = fetches();
    await s.scale('/web', 3);
    await waitFor('another snapshot answered', () => fetches() > before && connectedAndSettled(c.events));
    const warned = c.logs.filter((l) => l.level !== 'debug' && l.msg.includes('agent-gone.invalid'));
    expect(warned).toEqual([
      {
        level: 'warn',
        msg: 'cannot resolve task host agent-gone.invalid to an IPv4 address: its tasks are left out until it resolves',
      },
    ]);
    expect(serversOf(c)).toBe(-1); // no task to serve, so no backend
  });

  test('an app left out is warned once while it lasts, fast-path applies and snapshots after it included', async () => {
    const s = await sim();
    const { c } = controller(['-m', s.url, ...FAST]);
    await waitFor('initial apply', () => serversOf(c) === 2);
    // Added after the first apply: it changes no config, so HAProxy is not touched for it.
    await s.createApp({
      id: '/bad',
      instances: 1,
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'bad"vhost' },
      portDefinitions: [{ port: 10002, protocol: 'tcp' }],
    });
    const warned = () => c.logs.filter((l) => l.level === 'warn' && l.msg.startsWith('left out app /bad '));
    await waitFor('the left-out app warned', () => warned().length > 0);
    // That snapshot renders what HAProxy runs: it is the applied state now, its problems included.
    expect(c.applied.current?.model.problems.map((p) => p.appId)).toEqual(['/bad']);
    const snapshots = () => c.events.filter((e) => e.kind === 'fetching').length;
    // Task events: applied by the fast path, then the snapshot after each.
    for (const n of [3, 4]) {
      const before = snapshots();
      await s.scale('/web', n);
      await waitFor(`${n} servers, the snapshot after it answered`, () => serversOf(c) === n && snapshots() > before);
      await waitFor('settled', () => connectedAndSettled(c.events));
    }
    expect(c.events.some((e) => e.kind === 'applied' && e.state?.source?.fast === true)).toBe(true);
    expect(warned()).toHaveLength(1);
  });

  test('a snapshot that removes every service is applied, and said aloud', async () => {
    const s = await sim();
    const { c } = controller(['-m', s.url, ...FAST]);
    await waitFor('initial apply', () => serversOf(c) === 2);
    await s.deleteApp('/web');
    await waitFor('all removed', () => c.applied.current?.model.services.length === 0);
    expect(c.logs.filter((l) => l.level === 'warn' && l.msg.startsWith('HAProxy now routes no service'))).toEqual([
      {
        level: 'warn',
        msg: "HAProxy now routes no service: the 1 service(s) it served are gone from Marathon's answer, which lists no apps at all",
      },
    ]);
  });

  test('a snapshot that removes half the services or more is applied, and said aloud', async () => {
    const app = (n: number) => ({
      id: `/app${n}`,
      instances: 1,
      labels: { HAPROXY_GROUP: 'external' },
      portDefinitions: [{ port: 10010 + n, protocol: 'tcp' }],
    });
    const s = await sim({ apps: [web(2), app(1), app(2), app(3)] });
    // Polled: the three deletions land in one answer.
    const { c } = controller(['-m', s.url, '--resync-interval', '1', '--debounce-quiet', '0.01']);
    await waitFor('initial apply', () => c.applied.current?.model.services.length === 4, 10000);
    for (const n of [1, 2, 3]) await s.deleteApp(`/app${n}`);
    await waitFor('removed', () => c.applied.current?.model.services.length === 1, 10000);
    expect(c.logs.filter((l) => l.level === 'warn' && l.msg.startsWith('HAProxy now routes'))).toEqual([
      {
        level: 'warn',
        msg: "HAProxy now routes 1 service(s): 3 of the 4 it served are gone at once from Marathon's answer (0 problem(s) left apps out: see /status)",
      },
    ]);
  });

  test('poll mode (no --sse): snapshots on an interval only', async () => {
    const s = await sim();
    const { c } = controller([
      '-m',
      s.url,
      '--resync-interval',
      '1',
      '--debounce-quiet',
      '0.01',
      '--debounce-max-wait',
      '0.1',
    ]);
    await waitFor('initial apply', () => serversOf(c) === 2);
    expect(s.streamCount).toBe(0);
    await s.scale('/web', 3);
    await waitFor('picked up by the next poll', () => serversOf(c) === 3, 5000);
  });
});
