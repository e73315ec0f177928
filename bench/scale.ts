/**
 * npm run bench:scale -- --apps N [--per-app-ms 0.5] [--events 100] [--spread-s 20] [--keep] [--log FILE] [--ctl 'flags'] [--node 'node flags']
 * The real controller (a child process, default flags except those pointing it at the simulator and
 * at an unprivileged HAProxy directory), the simulator (its own process, as Marathon is: scaleMarathon.ts) holding N apps × 3 tasks with its /v2/apps
 * slowed like a big Marathon's (per-app latency, body streamed all along), and a real HAProxy. Then
 * `--events` scale-ups (3 → 4 tasks of different apps) spread over `--spread-s`; each is timed from
 * the scale request to the first answer from the new task through HAProxy. Only those apps' tasks
 * have real listeners (serveTasksOf); the others have ports nothing listens on (no health checks).
 * Last line: JSON {apps, tasks, snapshot_ms, p50_ms, p99_ms, reloads, rss_mib} (rss_mib: controller's VmHWM).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { findConfigDir } from '../src/configDir';
import { freeLoopbackPorts, httpGet } from '../src/demo/live';
import { prepareDemoFiles } from '../src/demo/setup';
import { MasterSocket } from '../src/haproxy/masterSocket';
import { backendOf, scaledAppId, vhostOf } from './scaleApps';

const arg = (flag: string, dflt: number): number => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/**
 * Polls the app's vhost through HAProxy until the task answers. One keep-alive connection per poller:
 * a new connection every 2 ms from up to 100 pollers left tens of thousands of loopback ports in
 * TIME_WAIT, and connects then failed or hung for seconds (the trial looked like a slow route).
 * Polls grow apart as the wait grows (2 ms at first, a twentieth of the time waited later, at most
 * 50 ms): each request walks the frontend's 10 000 host ACLs, and dozens of pollers every 2 ms kept
 * HAProxy 99 % busy once a loaded machine slowed a few scale-ups down, which slowed all the others.
 */
async function answeredBy(
  port: number,
  i: number,
  task: string,
  timeoutMs: number,
  polls?: string[],
): Promise<boolean> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const start = performance.now();
  try {
    while (performance.now() - start < timeoutMs) {
      const sent = performance.now();
      const a = await httpGet(port, vhostOf(i), 1000, '/', agent).catch(() => undefined);
      // With --trace: when each poll went, how long it took, and which task answered.
      polls?.push(
        `+${Math.round(sent - start)}:${Math.round(performance.now() - sent)}ms:${a === undefined ? 'none' : `${a.status}${/"task":"[^"]*?([^".]*)"/.exec(a.body)?.[1] ?? ''}`}`,
      );
      if (a?.status === 200 && a.body.includes(`"task":"${task}"`)) return true;
      await sleep(Math.min(50, Math.max(2, (performance.now() - start) / 20)));
    }
    return false;
  } finally {
    agent.destroy();
  }
}

/** The first failed apply's reason once applies have failed 3 times in a row, else null. */
function persistentApplyFailure(log: string): string | null {
  if (!log.includes('apply failed again (3 times in a row')) return null;
  return /apply failed: (.*)/.exec(log)?.[1] ?? 'see the log';
}

interface SimTask {
  readonly id: string;
}
/** The scaled app's tasks as Marathon lists them. */
async function tasksOf(simUrl: string, i: number): Promise<readonly SimTask[]> {
  const r = await fetch(`${simUrl}/v2/apps${scaledAppId(i)}/tasks`);
  return ((await r.json()) as { tasks: SimTask[] }).tasks;
}

/** The bench's Marathon in its own process (see scaleMarathon.ts), once it has its apps. */
async function startMarathon(
  n: number,
  events: number,
  perAppMs: number,
): Promise<{ child: ChildProcess; url: string; snapshotMs: number; mib: number }> {
  const child = spawn(
    process.execPath,
    [
      path.join(__dirname, 'scaleMarathon.js'),
      '--apps',
      String(n),
      '--events',
      String(events),
      '--per-app-ms',
      String(perAppMs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once('exit', (code) => reject(new Error(`the simulator exited (${String(code)}) before it was ready`)));
  });
  const ready = JSON.parse(line) as { url: string; snapshot_ms: number; mib: number };
  return { child, url: ready.url, snapshotMs: ready.snapshot_ms, mib: ready.mib };
}

async function main(): Promise<void> {
  const n = arg('--apps', 1000);
  const perAppMs = arg('--per-app-ms', 0.5);
  const events = Math.min(arg('--events', 100), n);
  const spreadMs = arg('--spread-s', 20) * 1000;
  // Marathon first: its task listeners take ports, and the ones picked for HAProxy must stay free.
  const marathon = await startMarathon(n, events, perAppMs);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marathon-lb-scale-'));
  // Below the apps' service ports (20000 + i, up to 30 000 at 10 000 apps): picked among them, one
  // of HAProxy's own frontends took an app's port.
  const [http, https, stats, appid, adminPort] = (await freeLoopbackPorts(5, { from: 10000, to: 20000 })) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const ports = { http, https, stats, appid };
  const files = prepareDemoFiles(dir, findConfigDir(), ports);
  const snapshotMs = marathon.snapshotMs;
  console.error(`GET /v2/apps?embed=apps.tasks: ${snapshotMs} ms, ${marathon.mib.toFixed(1)} MiB`);

  // --log FILE: the controller's log; --ctl 'flags…': extra controller flags (to diagnose, e.g. '--log-level debug'; the figures use none).
  const logAt = process.argv.indexOf('--log');
  const logPath = logAt < 0 ? undefined : process.argv[logAt + 1];
  const ctlLog = logPath ?? path.join(dir, 'controller.log');
  const logFd = fs.openSync(ctlLog, 'w');
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
      marathon.url,
      '--sse',
      '--group',
      'external',
      '--admin-port',
      String(adminPort),
      ...files.flags,
      ...extra,
    ],
    // Its log straight into a file: through a pipe this busy process drains late, and a full pipe
    // blocks the controller's synchronous stderr writes (figures that were the bench's, not its).
    { stdio: ['ignore', 'ignore', logFd] },
  );
  fs.closeSync(logFd);
  const stderrTail = (): string => fs.readFileSync(ctlLog, 'utf8').slice(-4000);
  try {
    const ready0 = performance.now();
    const first = (await tasksOf(marathon.url, 0))[0]!.id;
    const routed = answeredBy(ports.http, 0, first, 300_000);
    // An apply that keeps failing (e.g. HAProxy cannot start at this size) ends the bench with its reason.
    while (!(await Promise.race([routed.then(() => true), sleep(1000).then(() => false)]))) {
      const failed = persistentApplyFailure(fs.readFileSync(ctlLog, 'utf8'));
      if (failed !== null) throw new Error(`the controller cannot apply the apps: ${failed}`);
    }
    if (!(await routed)) throw new Error(`the controller never routed the apps:\n${stderrTail()}`);
    await loopDelay(adminPort); // prom-client restarts its event loop histogram at each scrape: from here on
    console.error(
      `controller up and routing ${n} apps after ${Math.round(performance.now() - ready0)} ms (peak RSS so far ${peakRssMib(ctl.pid!)} MiB)`,
    );
    // What HAProxy's routing costs at this size: a host no ACL matches walks them all (then 503).
    const walks: number[] = [];
    for (let k = 0; k < 10; k++) {
      const t0 = performance.now();
      await httpGet(ports.http, 'unrouted.invalid', 5000, '/').catch(() => undefined);
      walks.push(performance.now() - t0);
    }
    walks.sort((a, b) => a - b);
    console.error(`HAProxy: a request past all ${n} host ACLs takes ${walks[5]!.toFixed(1)} ms (median of 10)`);
    const master = MasterSocket.at(path.join(dir, 'master.sock'), 5000);
    // Every app routed, not only the first: a bench at a size where apps are left out measures less.
    const shown = await master.worker().send('show backend');
    const backends = shown.ok ? shown.value.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length : 0;
    if (backends < n)
      throw new Error(
        `HAProxy has ${backends} backends for ${n} apps: apps were left out (see the log):\n${stderrTail()}`,
      );
    // Asked up to 3 times: once in a run of 9 at 10 000 apps the master's answer failed (the figure was NaN).
    const reloadsNow = async (): Promise<number> => {
      for (let tries = 1; ; tries++) {
        const p = await master.showProc();
        if (p.ok) return p.value.master.reloads;
        console.error(`bench:scale: show proc failed (${p.error})${tries < 3 ? ', asking again' : ''}`);
        if (tries === 3) return NaN;
        await sleep(500);
      }
    };
    await sleep(2000);
    const reloadsBefore = await reloadsNow();
    const trials = Array.from({ length: events }, async (_, i): Promise<number> => {
      await sleep((i * spreadMs) / events);
      const before = new Set((await tasksOf(marathon.url, i)).map((t) => t.id));
      const start = performance.now();
      const scaled = await fetch(`${marathon.url}/_sim/apps${scaledAppId(i)}/scale`, {
        method: 'POST',
        body: JSON.stringify({ instances: 4 }),
      });
      const tasks = ((await scaled.json()) as { tasks: (SimTask & { host: string; ports: number[] })[] }).tasks;
      const task = tasks.find((t) => !before.has(t.id));
      if (task === undefined) throw new Error(`scale ${i}: the simulator started no task (${scaled.status})`);
      const postedMs = performance.now() - start;
      const trace = process.argv.includes('--trace');
      const polls: string[] = [];
      if (!(await answeredBy(ports.http, i, task.id, 120_000, trace ? polls : undefined))) {
        const state = await master.worker().send(`show servers state ${backendOf(i)}`);
        // What the task answers itself, and what a few requests through HAProxy get.
        const seen = (a: { status: number; body: string } | undefined): string =>
          a === undefined ? 'no answer' : `${a.status} ${/"task":"([^"]*)"/.exec(a.body)?.[1] ?? a.body.slice(0, 80)}`;
        const direct: string[] = [];
        for (const t of tasks)
          direct.push(
            `${t.ports[0]!}: ${seen(await httpGet(t.ports[0]!, vhostOf(i), 1000, '/').catch(() => undefined))}`,
          );
        const info = await master.worker().send('show info');
        const conns = info.ok
          ? info.value.split('\n').filter((l) => /^(CurrConns|Maxconn|Idle_pct|Run_queue|Tasks):/.test(l))
          : [];
        const through: string[] = [];
        for (let k = 0; k < 6; k++)
          through.push(seen(await httpGet(ports.http, vhostOf(i), 1000, '/').catch(() => undefined)));
        throw new Error(
          `scale ${i}: the new task (${tasks
            .map((t) => `${t.id} ${t.host}:${String(t.ports)}`)
            .join(
              ', ',
            )}) never answered; the tasks themselves: ${direct.join(', ')}; through HAProxy: ${through.join(', ')}; HAProxy: ${conns.join(' ')} ${state.ok ? state.value : state.error}`,
        );
      }
      const ms = performance.now() - start;
      if (trace)
        console.error(
          `scale ${i}: simulator answered after ${Math.round(postedMs)} ms, the new task after ${Math.round(ms)} ms` +
            (ms > 150 ? `; polls (since the answer: took, status and task): ${polls.join(' ')}` : ''),
        );
      return ms;
    });
    const times = (await Promise.all(trials)).sort((a, b) => a - b);
    const reloads = (await reloadsNow()) - reloadsBefore;
    const rssMib = peakRssMib(ctl.pid!);
    console.error(`controller: ${await loopDelay(adminPort)} during the scale-ups`);
    // Nearest rank: the smallest time at least p % of the times are not above (of 100, p99 is the 99th).
    const pct = (p: number): number => Math.round(times[Math.max(0, Math.ceil((p / 100) * times.length) - 1)]!);
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
    // What one dashboard read of /status costs at this size, and whether /healthz waits behind it.
    const statusAt = performance.now();
    const status = fetch(`http://127.0.0.1:${adminPort}/status`).then((r) => r.arrayBuffer());
    await new Promise((r) => setTimeout(r, 20));
    const healthzAt = performance.now();
    await (await fetch(`http://127.0.0.1:${adminPort}/healthz`)).text();
    const healthzMs = performance.now() - healthzAt;
    const statusBytes = (await status).byteLength;
    const firstMs = performance.now() - statusAt;
    // Again: the first read after applies also computes their config diffs (kept for later reads).
    const againAt = performance.now();
    await (await fetch(`http://127.0.0.1:${adminPort}/status`)).arrayBuffer();
    console.error(
      `/status: ${(statusBytes / 1048576).toFixed(1)} MiB in ${Math.round(firstMs)} ms (read again: ${Math.round(performance.now() - againAt)} ms); ` +
        `/healthz asked meanwhile answered in ${Math.round(healthzMs)} ms; controller peak RSS since start ${peakRssMib(ctl.pid!)} MiB`,
    );
  } finally {
    ctl.kill('SIGTERM');
    await new Promise((r) => ctl.once('exit', r));
    marathon.child.kill('SIGTERM');
    await new Promise((r) => marathon.child.once('exit', r)); // it prints how long its loop was held
    if (process.argv.includes('--keep')) console.error(`kept ${dir} (haproxy.cfg of ${n} apps)`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The controller's event loop delay since the last call (its default metrics, from the admin API). */
async function loopDelay(adminPort: number): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const ms = (name: string): number =>
    Math.round(Number(new RegExp(`^nodejs_eventloop_lag_${name}_seconds (\\S+)`, 'm').exec(text)?.[1] ?? NaN) * 1000);
  return `event loop delay p50 ${ms('p50')} ms, p99 ${ms('p99')} ms, max ${ms('max')} ms`;
}

/** A process's peak resident set so far (VmHWM). */
function peakRssMib(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024);
}

main().catch((e: unknown) => {
  console.error(`bench:scale: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
