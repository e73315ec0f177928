/**
 * npm run bench:render -- [--apps-file FILE] [--runs N] [--apps 5000] [--tasks 3] [--seed 1] [marathon-lb flags]
 * Renders in process N times (model + config from the parsed apps JSON) and prints figures; the
 * last line is JSON {median_ms, min_ms, max_ms, peak_rss_mib}. Without --apps-file it generates a
 * 5 000-app, 3-task body with the corpus' feature mix.
 */
import * as fs from 'node:fs';
import { parseArgs } from '../src/cli/args';
import { findConfigDir } from '../src/configDir';
import { resolverFrom } from '../src/marathon/resolveHosts';
import { ServerMemo } from '../src/model/serverIds';
import { loadTemplateSet } from '../src/render/loadTemplates';
import { ServerLinesCache } from '../src/render/render';
import { renderSnapshot } from '../src/render/snapshot';
import { modelOptions, renderOptions } from '../src/wiring/parts';
import { generateApps } from './genApps';

function take(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  if (i < 0) return undefined;
  const [, value] = argv.splice(i, 2);
  return value;
}

const argv = process.argv.slice(2);
const appsFile = take(argv, '--apps-file');
const runs = Number(take(argv, '--runs') ?? 20);
const appCount = Number(take(argv, '--apps') ?? 5000);
const tasks = Number(take(argv, '--tasks') ?? 3);
const seed = Number(take(argv, '--seed') ?? 1);
if (!argv.includes('--group')) argv.push('--group', 'external');
const parsed = parseArgs(argv, {});
if (parsed.kind !== 'ok') {
  console.error(parsed.kind === 'error' ? parsed.message : 'usage: see bench/render.ts');
  process.exit(2);
}
const options = parsed.options;

let parseMs = 0;
let body: unknown;
if (appsFile !== undefined) {
  const text = fs.readFileSync(appsFile, 'utf8');
  const t0 = process.hrtime.bigint();
  body = JSON.parse(text);
  parseMs = Number(process.hrtime.bigint() - t0) / 1e6;
} else {
  body = generateApps({ apps: appCount, tasksPerApp: tasks, seed });
}
const templates = loadTemplateSet(findConfigDir(), {}, options.templatesDir);
if (!templates.ok) throw new Error(templates.error);
const opts = { model: modelOptions(options, {}), render: renderOptions(options, {}) };
const resolve = resolverFrom(new Map());
// Like the live controller: one context across snapshots (servers of unchanged backends are reused).
const servers = new ServerMemo();
const serverLines = new ServerLinesCache();

const times: number[] = [];
let bytes = 0;
let services = 0;
for (let i = 0; i < runs; i++) {
  const t0 = process.hrtime.bigint();
  const snap = renderSnapshot(body, templates.value, opts, { resolve, servers, serverLines });
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  if (!snap.ok) throw new Error(snap.error);
  bytes = snap.rendered.config.length;
  services = snap.model.services.length;
}
const peakRssMib = process.resourceUsage().maxRSS / 1024; // of the timed runs, before the comparison below
// For comparison: the same renders with fresh caches each time (nothing reused between snapshots).
const scratch: number[] = [];
for (let i = 0; i < Math.min(runs, 10); i++) {
  const t0 = process.hrtime.bigint();
  renderSnapshot(body, templates.value, opts, { resolve, servers: new ServerMemo(), serverLines: new ServerLinesCache() });
  scratch.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
const scratchMedian = [...scratch].sort((a, b) => a - b)[scratch.length >> 1] ?? NaN;
const sorted = [...times].sort((a, b) => a - b);
const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
const apps = (body as { apps: unknown[] }).apps.length;
const round = (n: number): number => Math.round(n * 100) / 100;
console.log(`input: ${appsFile ?? `generated ${appCount} apps x ${tasks} tasks (seed ${seed})`}: ${apps} apps -> ${services} services, ${bytes} bytes of config`);
if (appsFile !== undefined) console.log(`JSON.parse of the file (once, not in the timings): ${round(parseMs)} ms`);
console.log(`runs: ${runs}; first (cold) ${round(times[0]!)} ms; median ${round(median)} ms; min ${round(sorted[0]!)} ms; max ${round(sorted[sorted.length - 1]!)} ms`);
console.log(`from scratch each time (fresh caches, ${scratch.length} runs, after the timed ones): median ${round(scratchMedian)} ms`);
console.log(`goal (issue 12): median <= 33 ms, from scratch <= 82 ms, peak RSS <= 150 MiB (${round(peakRssMib)} MiB); side by side with marathon-lb: npm run bench:dry`);
console.log(JSON.stringify({ median_ms: round(median), min_ms: round(sorted[0]!), max_ms: round(sorted[sorted.length - 1]!), peak_rss_mib: round(peakRssMib), scratch_median_ms: round(scratchMedian) }));
