/**
 * The Marathon of `bench:scale`, in its own process as a real Marathon is: the simulator holding
 * `--apps` N apps × 3 tasks (the first `--events` of them under SCALED_PREFIX with real task listeners, the
 * others under /bulk/ with ports nothing listens on), its GET /v2/apps slowed by `--per-app-ms`.
 * Serializing a 20 MiB /v2/apps answer blocks a process for a while: here it blocks this one, not the
 * bench's clock. Prints `{"url": …, "snapshot_ms": …, "mib": …}` on stdout once ready; runs until killed.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Simulator } from '../src/simulator';
import { SCALED_PREFIX, scaledAppId, vhostOf } from './scaleApps';

const arg = (flag: string, dflt: number): number => {
  const i = process.argv.indexOf(flag);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};

async function main(): Promise<void> {
  const n = arg('--apps', 1000);
  const events = arg('--events', 100);
  const sim = await Simulator.start({ serveTasks: true, serveTasksOf: (id) => id.startsWith(SCALED_PREFIX) });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await sim.createApp({
      id: i < events ? scaledAppId(i) : `/bulk/app-${i}`,
      instances: 3,
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: vhostOf(i) },
      portDefinitions: [{ port: 20000 + i }],
    });
  }
  console.error(`simulator: ${n} apps × 3 tasks created in ${Math.round(performance.now() - t0)} ms`);
  sim.appsLatencyPerAppMs = arg('--per-app-ms', 0.5);
  const s0 = performance.now();
  const body = await fetch(`${sim.url}/v2/apps?embed=apps.tasks`).then((r) => r.text());
  const snapshotMs = Math.round(performance.now() - s0);
  console.log(JSON.stringify({ url: sim.url, snapshot_ms: snapshotMs, mib: body.length / 1048576 }));
  // How long this process's loop was held (serializing answers, GC): its task listeners answer late by as much.
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const stop = (): void => {
    delay.disable();
    const ms = (ns: number): number => Math.round(ns / 1e6);
    console.error(
      `simulator: event loop delay p50 ${ms(delay.percentile(50))} ms, p99 ${ms(delay.percentile(99))} ms, max ${ms(delay.max)} ms`,
    );
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop).once('SIGINT', stop);
}

main().catch((e: unknown) => {
  console.error(`bench:scale simulator: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
