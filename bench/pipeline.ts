/**
 * npm run bench:pipeline -- [--events 1000] [--seconds 10] [marathon-lb flags, e.g. --debounce-max-wait 5]
 * The simulator emits N Marathon events over S seconds (with a real change every 100 ms) to the real
 * controller over SSE; the apply port only records (this measures the pipeline, not HAProxy).
 * Last line: JSON {events, applies, max_wait_s, p50_ms, p99_ms} — latency from an event's arrival
 * to the start of the apply decision that covers it.
 */
import * as path from 'node:path';
import { NEVER, asyncScheduler, of } from 'rxjs';
import { parseArgs } from '../src/cli/args';
import { findConfigDir } from '../src/configDir';
import { createController } from '../src/controller';
import { marathonClientFromOptions } from '../src/wiring/marathonClient';
import { controllerSettings } from '../src/wiring/parts';
import { loadTemplateSet } from '../src/render/loadTemplates';
import { Simulator } from '../src/simulator';
import type { ApplyPort } from '../src/reconcile/applyPort';

const take = (argv: string[], flag: string, dflt: number): number => {
  const i = argv.indexOf(flag);
  if (i < 0) return dflt;
  return Number(argv.splice(i, 2)[1]);
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const total = take(argv, '--events', 1000);
  const seconds = take(argv, '--seconds', 10);
  const sim = await Simulator.start({
    apps: [{ id: '/web', instances: 2, labels: { HAPROXY_GROUP: 'external' }, portDefinitions: [{ port: 10001 }] }],
  });
  const parsed = parseArgs(
    ['-m', sim.url, '--sse', '--group', 'external', '--templates-dir', path.join(findConfigDir(), 'none'), ...argv],
    {},
  );
  if (!parsed.ok) throw new Error(parsed.error.kind === 'error' ? parsed.error.message : 'help');
  const options = parsed.value;
  const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
  const made = marathonClientFromOptions(options, quiet);
  if (!made.ok) throw new Error(made.error);
  const client = made.value;
  const templates = loadTemplateSet(findConfigDir(), {}, options.templatesDir);
  if (!templates.ok) throw new Error(templates.error);

  let applies = 0;
  const recording: ApplyPort = {
    apply: (_next, plan) => {
      applies++;
      return of({
        reloaded: plan.reloadReasons.length > 0,
        reasons: plan.reloadReasons,
        runtimeOps: plan.runtimeOps.length,
      });
    },
    reloadExisting: () => of({ reloaded: true, reasons: [{ kind: 'sigusr1' as const }], runtimeOps: 0 }),
    writeUnwritten: () => of(false),
  };
  let eventsSeen = 0;
  let waiting: number[] = []; // arrival times of events not yet covered by an apply decision
  const latencies: number[] = [];
  let measuring = false;
  const { run$ } = createController({
    settings: controllerSettings(options, {}),
    client,
    templates: templates.value,
    haproxy: recording,
    signals$: NEVER,
    logger: quiet,
    scheduler: asyncScheduler,
    random: Math.random,
    observers: [
      (e) => {
        if (e.kind === 'trigger' && e.trigger.kind === 'event' && measuring) {
          eventsSeen++;
          waiting.push(performance.now());
        } else if (e.kind === 'applying' || e.kind === 'unchanged') {
          const t = performance.now();
          for (const at of waiting) latencies.push(t - at);
          waiting = [];
        }
      },
    ],
  });
  const sub = run$.subscribe();
  while (sim.streamCount === 0 || applies === 0) await sim.sleep(20);
  const appliesBefore = applies;
  measuring = true;
  const start = performance.now();
  const interval = (seconds * 1000) / total;
  let sent = 0;
  let instances = 2;
  while (sent < total) {
    const due = Math.min(total, Math.floor((performance.now() - start) / interval) + 1);
    for (; sent < due; sent++) {
      if (sent % Math.max(1, Math.round(100 / interval)) === 0) {
        instances = instances >= 8 ? 2 : instances + 1; // period 7 steps, so apply decisions 5 s apart see different states // a real routing change every ~100 ms
        void sim.scale('/web', instances);
      } else {
        sim.emit([
          {
            eventType: 'status_update_event',
            appId: '/web',
            taskId: `web.${sent}`,
            taskStatus: 'TASK_RUNNING',
            host: '127.0.0.1',
            ports: [31000],
          },
        ]);
      }
    }
    await sim.sleep(Math.max(1, interval));
  }
  const maxWait = options.debounceMaxWait;
  await sim.sleep(maxWait * 1000 + 1000); // let the last burst be applied
  measuring = false;
  sub.unsubscribe();
  await sim.close();

  const sorted = latencies.sort((a, b) => a - b);
  const pct = (p: number): number =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN);
  const appliesDuring = applies - appliesBefore;
  const goal = Math.floor(seconds / maxWait) + 1;
  console.log(
    `sent ${total} events in ${seconds}s (a scale every ~100 ms); controller saw ${eventsSeen} event triggers`,
  );
  console.log(
    `applies: ${appliesDuring} (goal <= ${goal} = ${seconds}s / max wait ${maxWait}s + 1); without debounce: one per event`,
  );
  console.log(
    `event -> apply-start latency: p50 ${pct(50)} ms, p99 ${pct(99)} ms (quiet ${options.debounceQuiet}s, max wait ${maxWait}s)`,
  );
  console.log(
    JSON.stringify({
      events: eventsSeen,
      applies: appliesDuring,
      max_wait_s: maxWait,
      p50_ms: pct(50),
      p99_ms: pct(99),
    }),
  );
}

main().catch((e: unknown) => {
  console.error(`bench:pipeline: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
