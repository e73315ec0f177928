/**
 * npm run bench:burst -- [--tasks 1000] [--add 1000 | --remove 500] [--ctl 'controller flags']
 * One app of `--tasks` tasks on the simulator (in this process; tasks without listeners), the real
 * controller with its default flags (plus `--ctl`, e.g. `--no-fast-path`) and a real HAProxy. Once
 * HAProxy serves every task, the app is scaled by `--add` at once (or down by `--remove`), and timed
 * from the scale request until `show servers state` lists exactly the app's servers: a burst of task
 * events for one big app. Last line: JSON {tasks, add, routed_ms, reloads, rss_mib} (add is negative
 * for --remove; rss_mib: the controller's peak).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findConfigDir } from '../src/configDir';
import { freeLoopbackPorts } from '../src/demo/live';
import { prepareDemoFiles } from '../src/demo/setup';
import { MasterSocket } from '../src/haproxy/masterSocket';
import { Simulator } from '../src/simulator';

const arg = (flag: string, dflt: number): number => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const BACKEND = 'big_10000';

async function main(): Promise<void> {
  const tasks = arg('--tasks', 1000);
  const add = process.argv.includes('--remove') ? -arg('--remove', 500) : arg('--add', 1000);
  const ctlAt = process.argv.indexOf('--ctl');
  const extra = ctlAt < 0 ? [] : (process.argv[ctlAt + 1] ?? '').split(' ').filter((x) => x !== '');
  const sim = await Simulator.start({ serveTasks: false });
  await sim.createApp({
    id: '/big',
    instances: tasks,
    labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'big.example.com' },
    portDefinitions: [{ port: 10000 }],
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marathon-lb-burst-'));
  const [http, https, stats, appid, admin] = (await freeLoopbackPorts(5)) as [number, number, number, number, number];
  const files = prepareDemoFiles(dir, findConfigDir(), { http, https, stats, appid });
  const log = fs.openSync(path.join(dir, 'controller.log'), 'w');
  const ctl = spawn(
    process.execPath,
    [
      path.join(__dirname, '..', 'src', 'bin', 'marathon-lb.js'),
      ...['-m', sim.url, '--sse', '--group', 'external', '--admin-port', String(admin)],
      ...files.flags,
      ...extra,
    ],
    { stdio: ['ignore', 'ignore', log] },
  );
  fs.closeSync(log);
  const master = MasterSocket.at(path.join(dir, 'master.sock'), 5000);
  const servers = async (): Promise<number> => {
    const r = await master.worker().send(`show servers state ${BACKEND}`);
    return r.ok ? r.value.split('\n').filter((l) => l.split(' ')[1] === BACKEND).length : -1;
  };
  const reloads = async (): Promise<number> => {
    const p = await master.showProc();
    return p.ok ? p.value.master.reloads : NaN;
  };
  /** Polls until HAProxy lists `n` servers; the time it took. */
  const until = async (n: number, timeoutMs: number): Promise<number> => {
    const start = performance.now();
    while ((await servers()) !== n) {
      if (performance.now() - start > timeoutMs)
        throw new Error(`HAProxy does not list ${n} servers after ${timeoutMs} ms (see ${dir}/controller.log)`);
      await sleep(20);
    }
    return performance.now() - start;
  };
  let ok = false;
  try {
    console.error(`${tasks} tasks routed after ${Math.round(await until(tasks, 120_000))} ms`);
    await sleep(3000); // the first snapshot's follow-ups (stats read, config write) out of the way
    const before = await reloads();
    const start = performance.now();
    await sim.scale('/big', tasks + add);
    await until(tasks + add, 600_000);
    const routedMs = Math.round(performance.now() - start);
    const rssMib = Math.round(
      Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${ctl.pid!}/status`, 'utf8'))?.[1] ?? NaN) / 1024,
    );
    const reloaded = (await reloads()) - before;
    console.error(
      `scaled ${tasks} → ${tasks + add} tasks: HAProxy has exactly their servers after ${routedMs} ms; reloads ${reloaded}; controller peak RSS ${rssMib} MiB`,
    );
    console.log(JSON.stringify({ tasks, add, routed_ms: routedMs, reloads: reloaded, rss_mib: rssMib }));
    ok = true;
  } finally {
    ctl.kill('SIGTERM');
    await new Promise((r) => ctl.once('exit', r));
    await sim.close();
    if (ok) fs.rmSync(dir, { recursive: true, force: true }); // else its controller.log tells why
  }
}

main().catch((e: unknown) => {
  console.error(`bench:burst: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
