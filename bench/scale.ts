/**
 * npm run bench:scale -- --apps N [--per-app-ms 0.5] [--events 100] [--spread-s 20] [--keep] [--log FILE] [--ctl 'flags'] [--node 'node flags']
 * The real controller (a child process, default flags except those pointing it at the simulator and
 * at an unprivileged HAProxy directory), the simulator holding N apps × 3 tasks with its /v2/apps
 * slowed like a big Marathon's (per-app latency, body streamed all along), and a real HAProxy. Then
 * `--events` scale-ups (3 → 4 tasks of different apps) spread over `--spread-s`; each is timed from
 * the scale request to the first answer from the new task through HAProxy. Only those apps' tasks
 * have real listeners (serveTasksOf); the others have ports nothing listens on (no health checks).
 * Last line: JSON {apps, tasks, snapshot_ms, p50_ms, p99_ms, reloads, rss_mib} (rss_mib: controller's VmHWM).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { findConfigDir } from '../src/configDir';
import { httpGet } from '../src/demo/live';
import { prepareDemoFiles } from '../src/demo/setup';
import { MasterSocket } from '../src/haproxy/masterSocket';
import { Simulator } from '../src/simulator';

const arg = (flag: string, dflt: number): number => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net
      .createServer()
      .listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      })
      .on('error', reject);
  });
const vhost = (i: number): string => `s${i}.example.com`;

async function answeredBy(port: number, i: number, task: string, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const a = await httpGet(port, vhost(i), 1000).catch(() => undefined);
    if (a?.status === 200 && a.body.includes(`"task":"${task}"`)) return true;
    await sleep(2);
  }
  return false;
}

async function main(): Promise<void> {
  const n = arg('--apps', 1000);
  const perAppMs = arg('--per-app-ms', 0.5);
  const events = Math.min(arg('--events', 100), n);
  const spreadMs = arg('--spread-s', 20) * 1000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marathon-lb-scale-'));
  const ports = { http: await freePort(), https: await freePort(), stats: await freePort(), appid: await freePort() };
  const files = prepareDemoFiles(dir, findConfigDir(), ports);
  const sim = await Simulator.start({ serveTasks: true, serveTasksOf: (id) => id.startsWith('/scale/') });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const scaled = i < events;
    await sim.createApp({
      id: scaled ? `/scale/app-${i}` : `/bulk/app-${i}`,
      instances: 3,
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: vhost(i) },
      portDefinitions: [{ port: 20000 + i }],
    });
  }
  console.error(`simulator: ${n} apps × 3 tasks created in ${Math.round(performance.now() - t0)} ms`);
  sim.appsLatencyPerAppMs = perAppMs;
  const s0 = performance.now();
  const snap = await fetch(`${sim.url}/v2/apps?embed=apps.tasks`).then((r) => r.text());
  const snapshotMs = Math.round(performance.now() - s0);
  console.error(`GET /v2/apps?embed=apps.tasks: ${snapshotMs} ms, ${(snap.length / 1048576).toFixed(1)} MiB`);

  const adminPort = await freePort();
  // --log FILE: the controller's log; --ctl 'flags…': extra controller flags (to diagnose, e.g. '--log-level debug'; the figures use none).
  const logAt = process.argv.indexOf('--log');
  const logPath = logAt < 0 ? undefined : process.argv[logAt + 1];
  const ctlAt = process.argv.indexOf('--ctl');
  const extra = ctlAt < 0 ? [] : (process.argv[ctlAt + 1] ?? '').split(' ').filter((x) => x !== '');
  const nodeAt = process.argv.indexOf('--node'); // node flags for the controller, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'
  const nodeFlags = nodeAt < 0 ? [] : (process.argv[nodeAt + 1] ?? '').split(' ').filter((x) => x !== '');
  const ctl = spawn(
    process.execPath,
    [
      ...nodeFlags,
      path.join(__dirname, '..', 'src', 'bin', 'marathon-lb.js'),
      '-m',
      sim.url,
      '--sse',
      '--group',
      'external',
      '--admin-port',
      String(adminPort),
      ...files.flags,
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  if (logPath !== undefined) ctl.stderr.pipe(fs.createWriteStream(logPath));
  let stderrTail = '';
  ctl.stderr.on('data', (c: Buffer) => void (stderrTail = (stderrTail + c.toString()).slice(-4000)));
  try {
    const ready0 = performance.now();
    const first = sim.tasksOf('/scale/app-0')[0]!.id;
    if (!(await answeredBy(ports.http, 0, first, 300_000)))
      throw new Error(`the controller never routed the apps:\n${stderrTail}`);
    console.error(`controller up and routing ${n} apps after ${Math.round(performance.now() - ready0)} ms`);
    const master = MasterSocket.at(path.join(dir, 'master.sock'), 5000);
    const reloadsNow = async (): Promise<number> => {
      const p = await master.showProc();
      return p.ok ? p.value.master.reloads : NaN;
    };
    await sleep(2000);
    const reloadsBefore = await reloadsNow();
    const trials = Array.from({ length: events }, async (_, i): Promise<number> => {
      await sleep((i * spreadMs) / events);
      const start = performance.now();
      await sim.scale(`/scale/app-${i}`, 4);
      const task = sim.tasksOf(`/scale/app-${i}`)[3]!.id;
      if (!(await answeredBy(ports.http, i, task, 120_000))) {
        const state = await master.worker().send(`show servers state scale_app-${i}_${20000 + i}`);
        throw new Error(
          `scale ${i}: the new task (${sim
            .tasksOf(`/scale/app-${i}`)
            .map((t) => `${t.id} ${t.host}:${String(t.ports)}`)
            .join(', ')}) never answered; HAProxy: ${state.ok ? state.value : state.error}`,
        );
      }
      return performance.now() - start;
    });
    const times = (await Promise.all(trials)).sort((a, b) => a - b);
    const reloads = (await reloadsNow()) - reloadsBefore;
    const status = fs.readFileSync(`/proc/${ctl.pid}/status`, 'utf8');
    const rssMib = Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024);
    const pct = (p: number): number =>
      Math.round(times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!);
    console.error(
      `scale-up → first answer of the new task through HAProxy: ${events} events over ${spreadMs / 1000} s, ` +
        `p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${Math.round(times[times.length - 1]!)} ms; reloads ${reloads}; controller peak RSS ${rssMib} MiB`,
    );
    console.log(
      JSON.stringify({
        apps: n,
        tasks: n * 3 + events,
        snapshot_ms: snapshotMs,
        p50_ms: pct(50),
        p99_ms: pct(99),
        reloads,
        rss_mib: rssMib,
      }),
    );
  } finally {
    ctl.kill('SIGTERM');
    await new Promise((r) => ctl.once('exit', r));
    await sim.close();
    if (process.argv.includes('--keep')) console.error(`kept ${dir} (haproxy.cfg of ${n} apps)`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench:scale: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
