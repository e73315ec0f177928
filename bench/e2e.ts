/**
 * npm run bench:e2e -- [--trials 50]
 * Real HAProxy + controller + simulator (real task servers) on loopback. Each trial scales /web up
 * by one task and measures the time from the scale request to the first answer served by the new
 * task through HAProxy (fresh connections, polled every ~1 ms); then scales back (not measured).
 * Also times a new vhost app until routed. Last line: JSON {trials, p50_ms, p99_ms, reloads}
 * (reloads = HAProxy reloads during the scale-up trials; goal 0).
 */
import { httpGet, startLive } from '../src/demo/live';

const arg = (flag: string, dflt: number): number => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const quiet = {
  error: (m: string) => console.error(m),
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function firstAnswerFrom(port: number, host: string, task: string, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const a = await httpGet(port, host, 1000).catch(() => undefined);
    if (a?.status === 200 && a.body.includes(`"task":"${task}"`)) return true;
  }
  return false;
}

async function main(): Promise<void> {
  const trials = arg('--trials', 50);
  const live = await startLive({
    apps: [
      {
        id: '/web',
        instances: 2,
        labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com' },
        portDefinitions: [{ port: 10201 }],
      },
    ],
    logger: quiet,
  });
  try {
    const servers = (): number =>
      live.service.status.status().services.find((s) => s.backend === 'web_10201')?.servers.length ?? 0;
    const masterReloads = async (): Promise<number> => {
      const p = await live.service.haproxy.showProc();
      return p.ok ? p.value.master.reloads : NaN;
    };
    for (let t = 0; servers() !== 2; t++) {
      if (t > 1000) throw new Error('initial apply did not happen');
      await sleep(10);
    }
    const reloadsBefore = await masterReloads();
    const times: number[] = [];
    for (let i = 0; i < trials; i++) {
      const t0 = performance.now();
      await live.sim.scale('/web', 3);
      const task = live.sim.tasksOf('/web')[2]!.id;
      if (!(await firstAnswerFrom(live.ports.http, 'web.example.com', task, 10000)))
        throw new Error(`trial ${i}: the new task never answered`);
      times.push(performance.now() - t0);
      await live.sim.scale('/web', 2);
      for (let t = 0; servers() !== 2; t++) {
        if (t > 1000) throw new Error(`trial ${i}: scale-down not applied`);
        await sleep(5);
      }
    }
    const reloads = (await masterReloads()) - reloadsBefore;
    const applyMs = live.service.status
      .status()
      .recentApplies.filter((a) => !a.reloaded)
      .map((a) => a.durationMs ?? 0)
      .sort((a, b) => a - b);
    console.log(
      `runtime-API applies (last ${applyMs.length}): median ${Math.round(applyMs[applyMs.length >> 1] ?? NaN)} ms from apply start to health gate passed`,
    );

    const t0 = performance.now();
    await live.sim.createApp({
      id: '/fresh',
      instances: 1,
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'fresh.example.com' },
      portDefinitions: [{ port: 10202 }],
    });
    const fresh = live.sim.tasksOf('/fresh')[0]!.id;
    const routed = await firstAnswerFrom(live.ports.http, 'fresh.example.com', fresh, 15000);
    const newAppMs = performance.now() - t0;

    const sorted = [...times].sort((a, b) => a - b);
    const pct = (p: number): number =>
      Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!);
    console.log(
      `scale-up → first answer from the new task through HAProxy: ${trials} trials, p50 ${pct(50)} ms, p99 ${pct(99)} ms, min ${Math.round(sorted[0]!)} ms, max ${Math.round(sorted[sorted.length - 1]!)} ms`,
    );
    console.log(
      `HAProxy reloads during the scale trials: ${reloads} (goal 0: task churn goes through the runtime API); debounce quiet 50 ms`,
    );
    console.log(
      `new vhost app → routed through HAProxy: ${routed ? `${Math.round(newAppMs)} ms (one reload)` : 'NOT routed within 15 s'}`,
    );
    console.log(JSON.stringify({ trials, p50_ms: pct(50), p99_ms: pct(99), reloads }));
  } finally {
    await live.stop();
  }
}

main().catch((e: unknown) => {
  console.error(`bench:e2e: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
