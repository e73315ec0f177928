import * as net from 'node:net';
import * as http from 'node:http';
import { ControllerMetrics } from '../../src/admin/metrics';
import { startAdminServer } from '../../src/admin/server';
import type { AdminStatus } from '../../src/admin/statusBook';
import type { PipelineEvent } from '../../src/reconcile/pipeline';
import { Simulator } from '../../src/simulator';
import { memoryLogger, settled, type LogLine } from '../support/controllerHarness';
import { freePort } from '../support/ports';
import { RecordingHaproxy } from '../support/recordingHaproxy';
import { waitFor } from '../support/wait';
import { startStack } from '../support/adminStack';
import { samples } from '../support/metrics';

const APP = '/mywebservernew';
const web = (instances: number) => ({
  id: APP,
  instances,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'mywebservernew.example.com' },
  portDefinitions: [{ port: 10001, protocol: 'tcp' }],
});
const badLabels = {
  id: '/badlabels',
  instances: 1,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_MODE: 'udp' },
  portDefinitions: [{ port: 10002, protocol: 'tcp' }],
};
const FAST = ['--sse', '--debounce-quiet', '0.05', '--debounce-max-wait', '0.5', '--max-backoff', '1'];
const TOKEN = 'adm-7f3c0e5d91b24a6e';

const auth = { Authorization: `Bearer ${TOKEN}` };
async function get(
  url: string,
  headers: Record<string, string> = auth,
): Promise<{ status: number; type: string; body: string; headers: Headers }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    body: await res.text(),
    headers: res.headers,
  };
}
const count = (events: PipelineEvent[], kind: PipelineEvent['kind']): number =>
  events.filter((e) => e.kind === kind).length;
const triggerCount = (events: PipelineEvent[], kind: string): number =>
  events.filter((e) => e.kind === 'trigger' && e.trigger.kind === kind).length;

describe('admin HTTP API of the running controller (simulator, real HTTP)', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  /** The controller on a simulator holding `apps`, with no admin token, once it applied the first snapshot. */
  async function stackWithoutToken(apps: NonNullable<Parameters<typeof Simulator.start>[0]>['apps']) {
    const sim = await Simulator.start({ apps });
    cleanup.push(() => sim.close());
    const s = await startStack(
      ['-m', sim.url, ...FAST, '--admin-port', String(await freePort())],
      new RecordingHaproxy(),
      cleanup,
    );
    await waitFor('initial apply', () => s.applied.current !== null);
    return s;
  }

  test('a scripted run: metrics count exactly what happened, /status shows it, the token guards the data', async () => {
    const sim = await Simulator.start({ apps: [web(2), badLabels] });
    cleanup.push(() => sim.close());
    const haproxy = new RecordingHaproxy();
    const port = await freePort();
    const t0 = Date.now();
    const s = await startStack(
      ['-m', sim.url, ...FAST, '--admin-bind', '127.0.0.1', '--admin-port', String(port), '--admin-token', TOKEN],
      haproxy,
      cleanup,
    );
    expect(s.admin.url).toBe(`http://127.0.0.1:${port}`);
    const servers = (): number => s.applied.current?.model.services.find((v) => v.appId === APP)?.servers.length ?? -1;

    // 1. initial apply (a reload), with /badlabels left out; then the snapshot the stream's connection triggers.
    await waitFor('initial apply', () => servers() === 2);
    await waitFor(
      'connected, and its snapshot answered',
      () => triggerCount(s.events, 'connected') === 1 && settled(s.events),
    );
    // 2. scale up: one runtime API operation, no reload.
    await sim.scale(APP, 3);
    await waitFor('scale-up applied', () => servers() === 3);
    // 3. the next apply fails once; the sink retries the newest model after its backoff.
    haproxy.failNext(1);
    await sim.scale(APP, 4);
    await waitFor('apply failure reported', () => count(s.events, 'apply-failed') === 1);
    const failed = await get(`${s.admin.url}/status`);
    expect(JSON.parse(failed.body)).toMatchObject({
      lastError: 'apply failed: haproxy -c rejected the config',
      pendingChange: true,
    });
    await waitFor('retry applied', () => servers() === 4, 8000);
    // 4. Marathon answers garbage once, then recovers (nothing changed).
    sim.setFaults({ apps: 'invalid-json' });
    s.signals.next('hup');
    await waitFor('fetch failure reported', () => count(s.events, 'fetch-failed') === 1);
    sim.clearFaults();
    const unchangedBefore = count(s.events, 'unchanged');
    s.signals.next('hup');
    await waitFor('recovered: unchanged', () => count(s.events, 'unchanged') > unchangedBefore);
    // Marker: this last snapshot was fetched after every event the simulator sent; nothing is left to answer.
    expect(settled(s.events)).toBe(true);

    const m = await get(`${s.admin.url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const x = samples(m.body);
    expect(x.get('mlb_applies_total{result="ok"}')).toBe(3);
    expect(x.get('mlb_applies_total{result="failed"}')).toBe(1);
    expect(x.get('mlb_applies_total{result="unchanged"}')).toBe(count(s.events, 'unchanged'));
    expect(x.get('mlb_applies_total{result="unchanged"}')).toBeGreaterThanOrEqual(1);
    expect([...x.keys()].filter((k) => k.startsWith('mlb_reloads_total'))).toEqual([
      'mlb_reloads_total{reason="initial"}',
    ]);
    expect(x.get('mlb_reloads_total{reason="initial"}')).toBe(1);
    expect(x.get('mlb_runtime_ops_total')).toBe(2);
    expect(x.get('mlb_apply_duration_seconds_count')).toBe(4);
    expect(x.get('mlb_apps_left_out')).toBe(1);
    expect(x.get('mlb_marathon_fetch_failures_total')).toBe(1);
    expect(x.get('mlb_sse_reconnects_total')).toBe(0);
    expect(x.get('mlb_haproxy_workers')).toBe(1);
    expect(x.get('mlb_triggers_total{kind="startup"}')).toBe(1);
    expect(x.get('mlb_triggers_total{kind="signal"}')).toBe(2);
    expect(x.get('mlb_triggers_total{kind="connected"}')).toBe(triggerCount(s.events, 'connected'));
    expect(x.get('mlb_triggers_total{kind="event"}')).toBe(triggerCount(s.events, 'event'));
    expect(x.get('mlb_triggers_total{kind="event"}')).toBeGreaterThanOrEqual(2);
    const lastOk = x.get('mlb_last_apply_success_timestamp_seconds')!;
    expect(lastOk * 1000).toBeGreaterThanOrEqual(t0);
    expect(lastOk * 1000).toBeLessThanOrEqual(Date.now());
    expect(x.get('mlb_seconds_since_last_successful_apply')).toBeGreaterThanOrEqual(0);

    const st = await get(`${s.admin.url}/status`);
    expect(st.status).toBe(200);
    expect(st.type).toBe('application/json; charset=utf-8');
    const status = JSON.parse(st.body) as AdminStatus;
    expect(status).toMatchObject({ pendingChange: false, lastError: null });
    expect(Date.parse(status.lastAppliedAt!)).toBeGreaterThanOrEqual(t0);
    const svc = status.services.find((v) => v.appId === APP)!;
    expect(svc).toMatchObject({
      servicePort: 10001,
      backend: 'mywebservernew_10001',
      mode: 'http',
      hostname: 'mywebservernew.example.com',
      path: null,
    });
    expect(svc.servers).toHaveLength(4);
    // No HAProxy to read behind a recording one: its view is null; the app has no Marathon health checks.
    for (const v of svc.servers)
      expect(v).toEqual({
        name: expect.any(String),
        address: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        draining: false,
        marathonHealth: 'none',
        haproxy: null,
      });
    expect(status.services.map((v) => v.appId)).not.toContain('/badlabels');
    expect(status.leftOut).toEqual([
      { appId: '/badlabels', portIndex: 0, label: 'HAPROXY_0_MODE', message: 'unknown mode "udp" (use http or tcp)' },
    ]);
    expect(status.recentApplies.map((a) => [a.reloaded, a.reasons, a.runtimeOps])).toEqual([
      [false, ['runtime API: 1 server(s) added to mywebservernew_10001'], 1],
      [false, ['runtime API: 1 server(s) added to mywebservernew_10001'], 1],
      [true, ['initial configuration'], 0],
    ]);
    const [fourth, third, initial] = status.recentApplies;
    const added = (diff: string): string[] => diff.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'));
    const newest = svc.servers.find((v) => !third!.diff.includes(v.address) && !initial!.diff.includes(v.address))!;
    expect(added(fourth!.diff)).toEqual([expect.stringContaining(`server ${newest.name} ${newest.address}`)]);
    expect(added(third!.diff)).toHaveLength(1);
    expect(initial!.diff).toContain('+backend mywebservernew_10001');
    for (const a of status.recentApplies) expect(a.durationMs).toEqual(expect.any(Number));
    expect(status.recentFailures.map((f) => [f.kind, f.error])).toEqual([
      ['fetch-failed', expect.any(String)],
      ['apply-failed', 'haproxy -c rejected the config'],
    ]);

    // The token guards every data route; /healthz and the (data-free) page do not need it.
    const metricsUrl = `${s.admin.url}/metrics`;
    const denied = await get(metricsUrl, {});
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe('Bearer realm="marathon-lb"');
    expect(denied.body).not.toContain('mlb_');
    expect((await get(metricsUrl, { Authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await get(metricsUrl, { Authorization: TOKEN })).status).toBe(401);
    expect(
      (await get(metricsUrl, { Authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` })).status,
    ).toBe(401);
    expect((await get(metricsUrl, { Authorization: `bearer ${TOKEN}` })).status).toBe(200);
    expect((await get(`${s.admin.url}/status`, {})).status).toBe(401);
    expect(await get(`${s.admin.url}/healthz`, {})).toMatchObject({ status: 200, body: 'ok\n' });
    const page = await get(`${s.admin.url}/`, {});
    expect(page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(page.body).not.toContain(TOKEN);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.body).not.toMatch(/<(script|link|img)[^>]+(src|href)="(https?:)?\/\//); // no external assets

    // Unknown routes: 401 before 404 when a token is set (no probing); 404 with it. Only GET/HEAD.
    expect((await get(`${s.admin.url}/nope`, {})).status).toBe(401);
    const missing = await get(`${s.admin.url}/nope?x=1`);
    expect(missing.status).toBe(404);
    expect(missing.body).toBe('not found: /nope (try /, /status, /metrics, /healthz)\n');
    expect((await get(`${s.admin.url}/status/`)).status).toBe(404);
    const post = await fetch(`${s.admin.url}/status`, {
      method: 'POST',
      headers: auth,
      signal: AbortSignal.timeout(5000),
    });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${s.admin.url}/status`, {
      method: 'HEAD',
      headers: auth,
      signal: AbortSignal.timeout(5000),
    });
    expect(head.status).toBe(200);

    expect(JSON.stringify(s.logs)).not.toContain(TOKEN);
    expect(s.logs.some((l) => l.level === 'info' && l.msg.startsWith(`admin API on http://127.0.0.1:${port}`))).toBe(
      true,
    );
  });

  test('without a token on loopback every route is open; close() ends open keep-alive connections', async () => {
    const s = await stackWithoutToken([web(1)]);
    const m = await get(`${s.admin.url}/metrics`, {});
    expect(m.status).toBe(200);
    expect(samples(m.body).get('mlb_applies_total{result="ok"}')).toBeGreaterThanOrEqual(1);
    const st = JSON.parse((await get(`${s.admin.url}/status`, {})).body) as AdminStatus;
    expect(st.services.map((v) => v.appId)).toEqual([APP]);
    expect(s.logs.filter((l) => l.level === 'warn' && l.msg.includes('admin API'))).toEqual([]);
    await s.admin.close();
    await expect(fetch(`${s.admin.url}/healthz`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });

  test('150 hostile apps: 100 left-out warnings and one line with the rest; /status lists 500 at most and the total', async () => {
    const hostile = Array.from({ length: 150 }, (_, i) => ({
      ...badLabels,
      id: `/bad/x${i}`,
      portDefinitions: [{ port: 11000 + i }],
    }));
    const s = await stackWithoutToken([web(1), ...hostile]);
    await waitFor('the summary line', () => s.logs.some((l) => l.msg.includes('more service port(s) or app(s)')));
    const warned = s.logs.filter((l) => l.level === 'warn' && l.msg.startsWith('left out app /bad/x'));
    expect(warned).toHaveLength(100);
    expect(
      s.logs.filter((l) => l.msg.startsWith('left out 50 more service port(s) or app(s) not listed here')),
    ).toHaveLength(1);
    const st = JSON.parse((await get(`${s.admin.url}/status`, {})).body) as AdminStatus;
    expect(st.leftOutTotal).toBe(150);
    expect(st.leftOut).toHaveLength(150);
  });

  // Found by an audit: one request killed the controller (new URL threw, twice); a rebound DNS name read /status.
  test('a request target that is no path gets 400, and the server goes on; on loopback without a token a DNS name is refused', async () => {
    const logs: LogLine[] = [];
    const admin = await startAdminServer({
      port: 0,
      metrics: new ControllerMetrics({ now: Date.now }),
      status: { status: () => ({ ok: true }), version: () => 0 },
      logger: memoryLogger(logs),
    });
    cleanup.push(() => admin.close());
    const port = Number(new URL(admin.url).port);
    const raw = (request: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.end(request));
        let answer = '';
        socket.on('data', (d: Buffer) => (answer += d.toString()));
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
        socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
      });
    for (const target of ['//a:99999/', '//[', '//status'])
      expect(await raw(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)).toMatch(
        /^HTTP\/1\.1 400 /,
      );
    expect(await raw(`GET /status HTTP/1.1\r\nHost: attacker.example:${port}\r\nConnection: close\r\n\r\n`)).toMatch(
      /^HTTP\/1\.1 403 /,
    );
    // /healthz is public, and only says whether routing keeps up.
    expect(await raw(`GET /healthz HTTP/1.1\r\nHost: lb.example:${port}\r\nConnection: close\r\n\r\n`)).toMatch(
      /^HTTP\/1\.1 200 /,
    );
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`])
      expect(await raw(`GET /status HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).toMatch(
        /^HTTP\/1\.1 200 /,
      );
    expect((await get(`${admin.url}/healthz`, {})).status).toBe(200);
  });

  // Found by an audit: bound to 0:0:0:0:0:0:0:1, the loopback was taken for another address, and a
  // rebound DNS name read /status (with a warning that anyone could reach it).
  test.each(['0:0:0:0:0:0:0:1', '::ffff:127.0.0.1'])(
    'bound to the loopback spelled %s, without a token, a DNS name is refused',
    async (bind) => {
      const logs: LogLine[] = [];
      const admin = await startAdminServer({
        port: 0,
        bind,
        metrics: new ControllerMetrics({ now: Date.now }),
        status: { status: () => ({ ok: true }), version: () => 0 },
        logger: memoryLogger(logs),
      });
      cleanup.push(() => admin.close());
      const port = Number(new URL(admin.url).port);
      const host = bind.includes('ffff') ? '127.0.0.1' : '::1';
      const status = (hostHeader: string) =>
        new Promise<number>((resolve, reject) => {
          const req = http.get({ host, port, path: '/status', headers: { host: hostHeader } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
        });
      expect(await status(`rebound.example:${port}`)).toBe(403);
      expect(await status(`localhost:${port}`)).toBe(200);
      expect(logs.filter((l) => l.level === 'warn' && l.msg.includes('anyone'))).toEqual([]);
    },
  );

  test('a port already taken is one clear error', async () => {
    const logs: LogLine[] = [];
    const first = await startAdminServer({
      port: 0,
      metrics: new ControllerMetrics({ now: Date.now }),
      status: { status: () => ({}), version: () => 0 },
      logger: memoryLogger(logs),
    });
    cleanup.push(() => first.close());
    const port = Number(new URL(first.url).port);
    await expect(
      startAdminServer({
        port,
        metrics: new ControllerMetrics({ now: Date.now }),
        status: { status: () => ({}), version: () => 0 },
        logger: memoryLogger(logs),
      }),
    ).rejects.toThrow(`admin API: cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
  });
});
