import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AdminStatus, ServerStatus } from '../../src/admin/statusTypes';
import { lockConfigDir } from '../../src/haproxy/dirLock';
import { freeLoopbackPort, httpGet, startLive, type LiveSystem } from '../../src/demo/live';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { describeWithHaproxy } from '../support/haproxy';
import { samples } from '../support/metrics';
import { childrenOf } from '../support/procs';
import { waitFor } from '../support/wait';

/*
 * /status and /metrics show HAProxy's own view and Marathon's state, against the whole product:
 * the simulator (real task servers), the controller and a real HAProxy read every 0.5 s.
 */

const TOKEN = 'admin-state-5b21c9e04f';

const auth = { Authorization: `Bearer ${TOKEN}` };
/** HAProxy checks /health every second and marks a server DOWN after 2 failures (fall = maxConsecutiveFailures + 1). */
const HTTP_CHECK = {
  protocol: 'HTTP',
  path: '/health',
  portIndex: 0,
  gracePeriodSeconds: 0,
  intervalSeconds: 1,
  timeoutSeconds: 1,
  maxConsecutiveFailures: 1,
};
const web = (servicePort: number) => ({
  id: '/web',
  instances: 2,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com' },
  portDefinitions: [{ port: servicePort, protocol: 'tcp' }],
  healthChecks: [HTTP_CHECK],
});

describeWithHaproxy('admin API: HAProxy and Marathon state (real HAProxy, simulator)', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function start(statsInterval = '0.5'): Promise<{ live: LiveSystem; servicePort: number; logs: LogLine[] }> {
    const logs: LogLine[] = [];
    const servicePort = await freeLoopbackPort();
    const live = await startLive({
      apps: [web(servicePort)],
      logger: memoryLogger(logs),
      admin: true,
      flags: [
        '--admin-token',
        TOKEN,
        '--health-check',
        '--haproxy-stats-interval',
        statsInterval,
        '--stale-after',
        '2',
      ],
    });
    cleanup.push(() => live.stop());
    return { live, servicePort, logs };
  }
  const serversOf = (live: LiveSystem): readonly ServerStatus[] =>
    live.service.status.status().services.find((s) => s.appId === '/web')?.servers ?? [];
  const get = async (live: LiveSystem, route: string): Promise<string> =>
    (await fetch(`${live.service.admin!.url}${route}`, { headers: auth, signal: AbortSignal.timeout(5000) })).text();

  test('a task whose health endpoint fails is DOWN with HAProxy\'s check reason, beside Marathon\'s "healthy"; traffic is counted', async () => {
    const { live } = await start();
    await waitFor(
      'both servers UP in HAProxy with a passed check',
      () => {
        const servers = serversOf(live);
        return (
          servers.length === 2 && servers.every((s) => s.haproxy?.state === 'UP' && s.haproxy.check?.passed === true)
        );
      },
      20000,
    );
    const [task] = live.sim.tasksOf('/web');
    const failing = (): ServerStatus | undefined =>
      serversOf(live).find((s) => s.address.endsWith(`:${task!.ports[0]}`));
    expect(failing()).toBeDefined();

    live.sim.setEndpointHealth(task!.id, false); // only the task's /health answers 503; Marathon still says healthy
    await waitFor('the server DOWN in /status', () => failing()?.haproxy?.state === 'DOWN', 15000);

    const status = JSON.parse(await get(live, '/status')) as AdminStatus;
    const down = status.services[0]!.servers.find((s) => s.name === failing()!.name)!;
    expect(down.marathonHealth).toBe('healthy');
    expect(down.haproxy).toMatchObject({
      state: 'DOWN',
      checked: true,
      check: { status: 'L7STS', code: 503, passed: false, description: 'Layer7 wrong status' },
    });
    expect(down.haproxy!.status).toMatch(/^DOWN/);
    expect(Date.parse(down.haproxy!.lastChangeAt!)).toBeLessThanOrEqual(Date.parse(status.generatedAt));
    const up = status.services[0]!.servers.find((s) => s.name !== down.name)!;
    expect(up.haproxy).toMatchObject({ state: 'UP', check: { status: 'L7OK', code: 200, passed: true } });
    expect(status.haproxy).toMatchObject({ enabled: true, error: null, intervalSeconds: 0.5 });
    expect(status.haproxy.serversByState).toEqual({ UP: 1, DOWN: 1, MAINT: 0, DRAIN: 0, NOLB: 0, UNKNOWN: 0 });
    expect(status.marathon).toMatchObject({
      eventStream: true,
      streamConnected: true,
      disconnectedSince: null,
      consecutiveFetchFailures: 0,
    });
    expect(status.marathon.lastSnapshotAt).not.toBeNull();
    expect(status.stale).toBe(false);
    const metrics = samples(await get(live, '/metrics'));
    expect(metrics.get('mlb_haproxy_servers{state="DOWN"}')).toBe(1);
    expect(metrics.get('mlb_haproxy_servers{state="UP"}')).toBe(1);

    // Traffic through HAProxy: exactly these requests reach the backend (checks are not requests).
    const backend = status.services[0]!.backend;
    const before = live.service.status.status().haproxy.backends.find((b) => b.name === backend)!.requestsTotal;
    for (let i = 0; i < 12; i++) expect((await httpGet(live.ports.http, 'web.example.com')).status).toBe(200);
    await waitFor(
      '12 requests counted',
      () =>
        live.service.status.status().haproxy.backends.find((b) => b.name === backend)?.requestsTotal === before + 12,
      5000,
    );
    const after = live.service.status.status();
    expect(after.services[0]!.traffic).toMatchObject({ name: backend, requestsTotal: before + 12, http5xxTotal: 0 });
    expect(after.services[0]!.traffic!.history.length).toBeGreaterThan(0);
    expect(after.haproxy.frontends.map((f) => f.name)).toContain('marathon_http_in');
    live.sim.setEndpointHealth(task!.id, true);
    await waitFor('the server UP again', () => failing()?.haproxy?.state === 'UP', 15000);
  }, 60000);

  test('HAProxy just started: read at once, not "not running" until the next tick of the reads', async () => {
    // Reads every 60 s: the first, at the start, finds HAProxy not started yet.
    const { live, logs } = await start('60');
    await waitFor('the first apply', () => logs.some((l) => /reloaded and healthy|HAProxy started/.test(l.msg)), 20000);
    await waitFor('HAProxy read', () => live.service.status.status().haproxy.readAt !== null, 5000);
    const s = JSON.parse(await get(live, '/status')) as AdminStatus;
    expect(s.haproxy.error).toBeNull();
    expect(s.services[0]!.servers.map((v) => v.haproxy === null)).toEqual([false, false]);
  }, 60000);

  test('HAProxy stopped: its view is unknown (null servers, the reason in /status, no servers-by-state series), not stale data', async () => {
    const { live } = await start();
    await waitFor(
      'servers UP',
      () => serversOf(live).length === 2 && serversOf(live).every((s) => s.haproxy?.state === 'UP'),
      20000,
    );
    expect((await live.service.haproxy.stop()).ok).toBe(true); // an expected stop: the controller does not restart it
    await waitFor(
      'HAProxy not read',
      () => live.service.status.status().haproxy.error === 'HAProxy is not running',
      5000,
    );
    const s = JSON.parse(await get(live, '/status')) as AdminStatus;
    expect(s.services[0]!.servers.map((v) => v.haproxy)).toEqual([null, null]);
    expect(s.services[0]!.traffic).toBeNull();
    expect(s.haproxy.readAt).not.toBeNull(); // the last good read stays dated
    const m = samples(await get(live, '/metrics'));
    expect([...m.keys()].filter((k) => k.startsWith('mlb_haproxy_servers'))).toEqual([]);
  }, 60000);

  test('a short HAProxy stall: its end is read within 10 s, and /healthz stays healthy', async () => {
    const { live } = await start();
    const haproxy = () => live.service.status.status().haproxy;
    await waitFor('HAProxy read', () => haproxy().readAt !== null && haproxy().error === null, 20000);
    const workers = childrenOf(live.service.haproxy.masterPid()!);
    expect(workers.length).toBeGreaterThan(0);
    for (const w of workers) process.kill(w, 'SIGSTOP');
    try {
      await waitFor('a read that timed out', () => haproxy().error !== null, 10000);
    } finally {
      for (const w of workers) process.kill(w, 'SIGCONT');
    }
    // Spaced by its cost, the timed-out read (0.5 s) held the next one back ~25 s; now 10 s at most.
    await waitFor('HAProxy read again', () => haproxy().error === null, 13000);
    expect(live.service.status.health()).toEqual({ healthy: true });
  }, 60000);

  // Found by an attack: /healthz and /status said so for minutes, mlb_routing_stale said 0 and the log nothing.
  test('a wedged HAProxy: /healthz 503, /status stale, mlb_routing_stale 1, one warning logged; and the recovery', async () => {
    const { live, logs } = await start();
    const haproxy = () => live.service.status.status().haproxy;
    await waitFor('HAProxy read', () => haproxy().readAt !== null && haproxy().error === null, 20000);
    const workers = childrenOf(live.service.haproxy.masterPid()!);
    for (const w of workers) process.kill(w, 'SIGSTOP');
    try {
      await waitFor('unhealthy', () => !live.service.status.health().healthy, 45000);
      const status = JSON.parse(await get(live, '/status')) as AdminStatus;
      expect(status.staleReason).toMatch(/^HAProxy has not answered for \d+ s \(it is down or wedged\)/);
      expect(samples(await get(live, '/metrics')).get('mlb_routing_stale')).toBe(1);
      await waitFor(
        'the warning',
        () => logs.some((l) => l.level === 'warn' && /^unhealthy: HAProxy has not answered/.test(l.msg)),
        10000,
      );
    } finally {
      for (const w of workers) process.kill(w, 'SIGCONT');
    }
    await waitFor('healthy again', () => live.service.status.health().healthy, 20000);
    expect(samples(await get(live, '/metrics')).get('mlb_routing_stale')).toBe(0);
    await waitFor(
      'the recovery logged',
      () => logs.some((l) => l.level === 'info' && l.msg === 'healthy again: /healthz answers 200'),
      10000,
    );
    expect(logs.filter((l) => /^unhealthy:/.test(l.msg))).toHaveLength(1);
  }, 90000);

  // Found by an operator test: HAProxy served, but /healthz said it was down after 30 s, until some change came.
  test('a master socket file removed while nothing changes is bound again by a reload; /healthz stays 200', async () => {
    const { live, logs } = await start();
    const haproxy = () => live.service.status.status().haproxy;
    await waitFor('HAProxy read', () => haproxy().readAt !== null && haproxy().error === null, 20000);
    const socket = path.join(live.dir, 'master.sock');
    fs.rmSync(socket);
    let unhealthy = 0;
    const watch = setInterval(() => (unhealthy += live.service.status.health().healthy ? 0 : 1), 200);
    try {
      await waitFor('the socket bound again', () => fs.existsSync(socket), 25000);
      await waitFor('HAProxy read again', () => haproxy().error === null, 15000);
    } finally {
      clearInterval(watch);
    }
    expect(unhealthy).toBe(0);
    expect(logs.some((l) => /the master socket does not answer .*reloading it with SIGUSR2/.test(l.msg))).toBe(true);
    expect(
      logs.filter((l) => /^HAProxy reloaded and healthy: HAProxy's master socket file is gone/.test(l.msg)),
    ).toHaveLength(1);
  }, 60000);

  // An audit: the config directory removed while the controller ran lost its lock for good, and a
  // second controller started on it took HAProxy from under the first.
  test('lock files removed while the controller runs are written again: a second controller is still refused', async () => {
    const { live, logs } = await start();
    const locks = fs.readdirSync(live.dir).filter((f) => f.endsWith('.marathon-lb.lock') || f === '.marathon-lb.lock');
    expect(locks).toContain('.marathon-lb.lock');
    for (const f of locks) fs.rmSync(path.join(live.dir, f));
    await waitFor('the locks back', () => locks.every((f) => fs.existsSync(path.join(live.dir, f))), 15000);
    expect(logs.some((l) => /lock files were gone \(removed by hand\?\): written again/.test(l.msg))).toBe(true);
    expect(lockConfigDir(live.dir, process.ppid)).toMatchObject({
      ok: false,
      error: expect.stringContaining(`(pid ${process.pid})`),
    });
  }, 60000);

  test('an event stream that answers and then sends nothing is not connected, and goes stale', async () => {
    const logs: LogLine[] = [];
    const live = await startLive({
      apps: [web(await freeLoopbackPort())],
      logger: memoryLogger(logs),
      simulator: { keepAliveMs: 200 },
      flags: ['--sse-idle-timeout', '1', '--stale-after', '3'],
    });
    cleanup.push(() => live.stop());
    const marathon = () => live.service.status.status().marathon;
    await waitFor('connected', () => marathon().streamConnected, 20000);
    live.sim.setFaults({ stream: 'mute' }); // new streams: headers, then not a byte
    live.sim.setFaults({ stream: 'close' }); // the open one ends: the next is mute
    await waitFor('stream down', () => !marathon().streamConnected, 10000);
    // Reconnected every second to a stream that says nothing: still down, and stale past --stale-after.
    await waitFor('stale', () => live.service.status.status().stale, 10000);
    expect(live.service.status.status().staleReason).toMatch(/^the Marathon event stream has been down for \d+ s/);
    expect(marathon().streamConnected).toBe(false);
    expect(logs.filter((l) => /event stream silent for 1s/.test(l.msg)).length).toBeGreaterThan(0);
    // The log tells the same story: no "connected" for a stream that only answered (each reconnect
    // logged one while /status said down; found by an audit).
    const connectedLines = (): number =>
      logs.filter((l) => l.level === 'info' && l.msg.startsWith('connected to Marathon event stream')).length;
    const whileMute = connectedLines();
    await waitFor(
      'a reconnect to the mute stream',
      () => logs.filter((l) => /answered; waiting for its first bytes/.test(l.msg)).length >= 2,
      10000,
    );
    expect(connectedLines()).toBe(whileMute);
    live.sim.clearFaults();
    await waitFor('connected again', () => marathon().streamConnected && !live.service.status.status().stale, 10000);
    await waitFor('connected logged', () => connectedLines() > whileMute, 5000);
  }, 60000);

  test('a slow read of /v2/apps shows in /status while it runs, and is gone once it is answered', async () => {
    const { live } = await start();
    await waitFor('applied', () => serversOf(live).length === 2, 20000);
    live.sim.appsLatencyPerAppMs = 3000; // one app: a 3 s answer, its bytes flowing all along
    live.service.signals.next('hup');
    await waitFor(
      'a read under way for a second',
      () => (live.service.status.status().marathon.secondsFetching ?? 0) >= 1,
      10000,
    );
    const during = JSON.parse(await get(live, '/status')) as AdminStatus;
    expect(Date.parse(during.marathon.fetchingSince!)).toBeLessThanOrEqual(Date.parse(during.generatedAt) - 1000);
    live.sim.appsLatencyPerAppMs = 0;
    await waitFor('the read answered', () => live.service.status.status().marathon.fetchingSince === null, 15000);
    expect(live.service.status.status().marathon).toMatchObject({ secondsFetching: null, consecutiveFetchFailures: 0 });
  }, 60000);

  test('a Marathon outage: stream down and reads failing make /status stale with the reason; recovery clears it', async () => {
    const { live } = await start();
    await waitFor(
      'applied and connected',
      () => serversOf(live).length === 2 && live.service.status.status().marathon.streamConnected,
      20000,
    );
    live.sim.setFaults({ all: 'down', stream: 'close' });
    await waitFor('stream down', () => !live.service.status.status().marathon.streamConnected, 10000);
    live.service.signals.next('hup'); // a read of Marathon, which fails
    await waitFor('stale', () => live.service.status.status().stale, 10000);
    const down = JSON.parse(await get(live, '/status')) as AdminStatus;
    expect(down.staleReason).toMatch(/^the Marathon event stream has been down for \d+ s/);
    expect(down.marathon.disconnectedSince).not.toBeNull();
    expect(down.marathon.lastFetchError).not.toBeNull();
    expect(down.marathon.consecutiveFetchFailures).toBeGreaterThan(0);
    let m = samples(await get(live, '/metrics'));
    expect([
      m.get('mlb_marathon_up'),
      m.get('mlb_marathon_event_stream_connected'),
      m.get('mlb_routing_stale'),
    ]).toEqual([0, 0, 1]);

    live.sim.clearFaults();
    await waitFor(
      'recovered',
      () => {
        const s = live.service.status.status();
        return s.marathon.streamConnected && s.marathon.consecutiveFetchFailures === 0 && !s.stale;
      },
      15000,
    );
    m = samples(await get(live, '/metrics'));
    expect([
      m.get('mlb_marathon_up'),
      m.get('mlb_marathon_event_stream_connected'),
      m.get('mlb_routing_stale'),
    ]).toEqual([1, 1, 0]);
  }, 60000);
});
