import * as fs from 'node:fs';
import * as path from 'node:path';
import { findConfigDir } from '../../src/configDir';
import { freeLoopbackPorts, httpGet } from '../../src/demo/live';
import { prepareDemoFiles } from '../../src/demo/setup';
import { Simulator } from '../../src/simulator';
import { describeWithHaproxy } from '../support/haproxy';
import { tempDir } from '../support/render';
import { spawnService, type ServiceProcess } from '../support/serviceProcess';
import { waitFor } from '../support/wait';
import { samples } from '../support/metrics';

const SECRET = 'TOPSECRET-PASS';
const TOKEN = 'ADMIN-TOKEN-SECRET';

/**
 * The service as users run it (`npm start`: the CLI configured through MLB_* env), with a real
 * HAProxy: marathon-lb's :9090 endpoints answer, the signal endpoints reach the controller, and no
 * secret ever reaches its output.
 */
describeWithHaproxy('marathon-lb as a process: :9090 endpoints, signals, env config, no secrets in logs', () => {
  let sim: Simulator;
  let service: ServiceProcess;
  let dir: string;
  let ports: { http: number; https: number; stats: number; appid: number; admin: number };
  const stats = (p: string) => httpGet(ports.stats, '127.0.0.1', 3000, p);
  const metric = async (name: string): Promise<number> => {
    const r = await fetch(`http://127.0.0.1:${ports.admin}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return samples(await r.text()).get(name) ?? NaN;
  };

  beforeAll(async () => {
    dir = tempDir('mlb-process-');
    sim = await Simulator.start({
      serveTasks: true,
      auth: { basic: `mlb:${SECRET}` },
      apps: [
        {
          id: '/web',
          instances: 2,
          labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com' },
          portDefinitions: [{ port: 10301 }],
        },
      ],
    });
    // Picked once the simulator's task servers (OS-assigned ports) are up, so none of them takes one.
    const picked = (await freeLoopbackPorts(5)) as [number, number, number, number, number];
    ports = { http: picked[0], https: picked[1], stats: picked[2], appid: picked[3], admin: picked[4] };
    const files = prepareDemoFiles(dir, findConfigDir(), ports);
    service = spawnService([...files.flags, '--haproxy-map'], {
      PATH: process.env.PATH,
      MLB_MARATHON: sim.url,
      MLB_GROUP: 'external',
      MLB_SSE: 'true',
      MLB_AUTH_CREDENTIALS: `mlb:${SECRET}`,
      MLB_ADMIN_PORT: String(ports.admin),
      MLB_ADMIN_TOKEN: TOKEN,
      MLB_LOG_LEVEL: 'DEBUG',
      MLB_SYSLOG_SOCKET: '/dev/null',
      MLB_DEBOUNCE_QUIET: '0.05',
      MARATHON_LB_PID_FILE: path.join(dir, 'marathon-lb.pid'),
    });
    await service.ready();
  }, 30000);

  afterAll(async () => {
    await service.stop();
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 20000);

  test('/_haproxy_health_check and /haproxy?stats', async () => {
    expect((await stats('/_haproxy_health_check')).status).toBe(200);
    const s = await stats('/haproxy?stats');
    expect(s.status).toBe(200);
    expect(s.body).toContain('Statistics Report');
    expect(s.body).toContain('web_10301');
  });

  test('/_haproxy_getconfig returns the config HAProxy runs', async () => {
    const r = await stats('/_haproxy_getconfig');
    expect(r.status).toBe(200);
    expect(r.body).toBe(fs.readFileSync(path.join(dir, 'haproxy.cfg'), 'utf8'));
  });

  test('/_haproxy_getvhostmap and /_haproxy_getappmap return the map files', async () => {
    const vhosts = await stats('/_haproxy_getvhostmap');
    expect(vhosts.body).toBe('web.example.com web_10301\n');
    expect(vhosts.body).toBe(fs.readFileSync(path.join(dir, 'domain2backend.map'), 'utf8'));
    expect((await stats('/_haproxy_getappmap')).body).toBe('/web web_10301\n');
  });

  test('/_haproxy_getpids lists the running HAProxy processes', async () => {
    const r = await stats('/_haproxy_getpids');
    expect(r.status).toBe(200);
    const master = Number(fs.readFileSync(path.join(dir, 'haproxy.pid'), 'utf8').trim());
    expect(r.body.split(/\s+/).map(Number)).toContain(master);
  });

  test('/_mlb_signal/hup makes the controller refetch from Marathon (SIGHUP)', async () => {
    const before = await metric('mlb_triggers_total{kind="signal"}');
    const r = await stats('/_mlb_signal/hup');
    expect(r).toEqual({ status: 200, body: expect.stringContaining('Sent SIGHUP signal to marathon-lb') });
    let after = before;
    for (let i = 0; i < 100 && after <= before; i++) {
      await new Promise((res) => setTimeout(res, 30));
      after = await metric('mlb_triggers_total{kind="signal"}');
    }
    expect(after).toBe(before + 1);
  });

  test('/_mlb_signal/hup reaches the controller through its admin API, whatever the pid file holds (no kill)', async () => {
    const pidFile = path.join(dir, 'marathon-lb.pid');
    const own = fs.readFileSync(pidFile, 'utf8');
    const before = await metric('mlb_triggers_total{kind="signal"}');
    try {
      // No process has pid_max: `kill` would fail (exit code 1) and the answer would be 500.
      fs.writeFileSync(pidFile, fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
      expect(await stats('/_mlb_signal/hup')).toEqual({
        status: 200,
        body: expect.stringContaining('Sent SIGHUP signal to marathon-lb'),
      });
    } finally {
      fs.writeFileSync(pidFile, own);
    }
    let after = before;
    for (let i = 0; i < 100 && after <= before; i++) {
      await new Promise((res) => setTimeout(res, 30));
      after = await metric('mlb_triggers_total{kind="signal"}');
    }
    expect(after).toBe(before + 1);
  });

  test('/_mlb_signal/usr1 makes the controller reload the existing config (SIGUSR1)', async () => {
    const read = async (): Promise<number> => {
      const v = await metric('mlb_reloads_total{reason="sigusr1"}');
      return Number.isNaN(v) ? 0 : v; // the labelled series appears with its first reload
    };
    const before = await read();
    const r = await stats('/_mlb_signal/usr1');
    expect(r.body).toContain('Sent SIGUSR1 signal to marathon-lb');
    let after = before;
    for (let i = 0; i < 150 && !(after > before); i++) {
      await new Promise((res) => setTimeout(res, 30));
      after = await read();
    }
    expect(after).toBe(before + 1);
    expect((await httpGet(ports.http, 'web.example.com')).status).toBe(200);
  });

  // An audit: anyone who reaches the stats port could make a reload per GET, and past
  // mworker-max-reloads every long connection was cut. Asked over HTTP, reloads are spaced 10 s apart.
  test('a flood of /_mlb_signal/usr1 is one or two reloads, not one each', async () => {
    const read = async (): Promise<number> => {
      const v = await metric('mlb_reloads_total{reason="sigusr1"}');
      return Number.isNaN(v) ? 0 : v;
    };
    const before = await read();
    const start = Date.now();
    // Spaced out as the audit sent them: rapid ones were already one reload while another ran.
    for (let i = 0; i < 6; i++) {
      expect((await stats('/_mlb_signal/usr1')).status).toBe(200);
      await new Promise((res) => setTimeout(res, 1200));
    }
    // At once (or at the end of the window an earlier one opened), and once more at its end.
    await new Promise((res) => setTimeout(res, 12_000 - (Date.now() - start)));
    const reloads = (await read()) - before;
    expect(reloads).toBeGreaterThanOrEqual(1);
    expect(reloads).toBeLessThanOrEqual(2);
    expect((await httpGet(ports.http, 'web.example.com')).status).toBe(200);
  }, 30_000);

  test('routing follows Marathon, and no secret appears in any log line', async () => {
    await sim.scale('/web', 3);
    const task = sim.tasksOf('/web')[2]!.id;
    let seen = false;
    for (let i = 0; i < 200 && !seen; i++)
      seen = (await httpGet(ports.http, 'web.example.com').catch(() => ({ body: '' }))).body.includes(task);
    expect(seen).toBe(true);
    expect(service.output()).toMatch(/marathon_lb: /);
    for (const secret of [SECRET, TOKEN, Buffer.from(`mlb:${SECRET}`).toString('base64')])
      expect(service.output()).not.toContain(secret);
  });

  test('SIGTERM stops the service and its HAProxy at once, even with a read of /v2/apps under way', async () => {
    const master = Number(fs.readFileSync(path.join(dir, 'haproxy.pid'), 'utf8').trim());
    // A Marathon that takes 20 s to answer; SIGHUP starts a read of it (after the 0.5 s debounce).
    sim.setFaults({ apps: 'slow', delayMs: 20_000 });
    const before = await metric('mlb_triggers_total{kind="signal"}');
    service.child.kill('SIGHUP');
    for (let i = 0; i < 100 && (await metric('mlb_triggers_total{kind="signal"}')) <= before; i++)
      await new Promise((r) => setTimeout(r, 30));
    await new Promise((r) => setTimeout(r, 1500));
    service.child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => service.child.once('exit', (c) => r(c)));
    // Not at --shutdown-timeout (30 s, exit code 1): the read is cancelled, not waited for.
    expect(code).toBe(0);
    expect(service.output()).not.toMatch(/not stopped within/);
    await waitFor(
      'HAProxy gone',
      () => {
        try {
          process.kill(master, 0);
          return false;
        } catch {
          return true;
        }
      },
      10000,
    );
  }, 20000);
});
