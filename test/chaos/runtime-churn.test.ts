import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { findConfigDir } from '../../src/configDir';
import { freeLoopbackPorts } from '../../src/demo/live';
import { prepareDemoFiles } from '../../src/demo/setup';
import { Simulator } from '../../src/simulator';
import { describeWithHaproxy } from '../support/haproxy';
import { CLI } from '../support/paths';
import { tempDir } from '../support/render';
import { waitFor } from '../support/wait';

/*
 * Task churn under traffic through the event fast path, as a busy cluster has it: tasks of an app
 * with HTTP health checks scaled, killed and flapping every 150 ms while four clients send
 * requests. Found by a soak: HAProxy 2.6.12 (Debian 12's) freed a server `del server` removed while
 * streams still pointed to it, and its worker crashed every 15 s or so, each crash an outage of
 * every listener (12 crashes in 180 s). Removed servers now wait in maintenance first
 * (runtimeUpdate.ts). Bounded: 90 s of churn (the crash rate makes a pass without the wait
 * unlikely, about one chance in a hundred), loopback only.
 */
const CHURN_MS = 90_000;

describeWithHaproxy('task churn through the runtime API under traffic (real controller, HAProxy, simulator)', () => {
  let sim: Simulator;
  let ctl: ChildProcess | undefined;
  const dir = tempDir('mlb-chaos-churn-');
  afterAll(async () => {
    if (ctl !== undefined && ctl.exitCode === null) {
      ctl.kill('SIGTERM');
      await new Promise((r) => ctl!.once('exit', r));
    }
    await sim?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30000);

  test('no HAProxy worker crashes and no listener refuses a connection', async () => {
    sim = await Simulator.start({ serveTasks: true });
    const healthChecks = [
      {
        protocol: 'HTTP',
        path: '/health',
        portIndex: 0,
        gracePeriodSeconds: 5,
        intervalSeconds: 2,
        maxConsecutiveFailures: 3,
      },
    ];
    for (const [id, port] of [
      ['pair', 10401],
      ['solo', 10400],
    ] as const)
      await sim.createApp({
        id: `/${id}`,
        instances: 2,
        labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: `${id}.example.com` },
        portDefinitions: [{ port }],
        healthChecks,
      });
    const [web, https, stats, appid] = (await freeLoopbackPorts(4)) as [number, number, number, number];
    const files = prepareDemoFiles(dir, findConfigDir(), { http: web, https, stats, appid });
    let out = '';
    ctl = spawn(process.execPath, [CLI, '-m', sim.url, '--sse', '-H', '--group', 'external', ...files.flags], {
      env: { PATH: process.env.PATH, MLB_ADMIN_PORT: '0', MLB_SYSLOG_SOCKET: '/dev/null', MLB_LOG_LEVEL: 'INFO' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    ctl.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    ctl.stderr!.on('data', (d: Buffer) => (out += d.toString()));

    const failures = new Map<string, number>();
    let answered = 0;
    const one = (): Promise<void> =>
      new Promise((done) => {
        const fail = (why: string): void => {
          failures.set(why, (failures.get(why) ?? 0) + 1);
          done();
        };
        const req = http.get(
          {
            host: '127.0.0.1',
            port: web,
            path: '/',
            headers: { Host: 'pair.example.com' },
            agent: false,
            timeout: 5000,
          },
          (res) => {
            res.resume();
            res.on('end', () => {
              answered++;
              done();
            });
          },
        );
        req.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
        req.on('timeout', () => req.destroy(new Error('timeout')));
      });
    await waitFor('pair served', () => out.includes('HAProxy reloaded and healthy'), 20000);

    let stop = false;
    const clients = Array.from({ length: 4 }, async () => {
      while (!stop) await one();
    });
    // A fixed pseudo-random sequence: scale 2–5, kill a task, or flip a task's health, every 150 ms.
    let seed = 1;
    const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const end = Date.now() + CHURN_MS;
    while (Date.now() < end) {
      const tasks = sim.tasksOf('/pair');
      const r = random();
      const task = tasks[Math.floor(random() * tasks.length)];
      try {
        if (r < 0.4 || task === undefined) await sim.scale('/pair', 2 + Math.floor(random() * 4));
        else if (r < 0.7) await sim.killTask(task.id);
        else await sim.setHealth(task.id, random() < 0.6);
      } catch {
        // the task went meanwhile (a scale-down)
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    stop = true;
    await Promise.all(clients);

    expect(out).not.toMatch(/Segmentation fault|\(Aborted\)|master exited unexpectedly/);
    // A refused or reset connection is a listener gone (a crashed worker); 502/503 are tasks killed or unhealthy.
    expect([...failures].filter(([why]) => /ECONNREFUSED|ECONNRESET/.test(why))).toEqual([]);
    expect(answered).toBeGreaterThan(1000);
  }, 180_000);
});
