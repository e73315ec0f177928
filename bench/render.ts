/**
 * npm run bench:render -- [--apps-file FILE] [--runs N] [--apps 5000] [--tasks 3] [--seed 1] [marathon-lb flags]
 * Renders in process N times (model + config from the parsed apps JSON) and prints figures; the
 * last line is JSON {median_ms, min_ms, max_ms, peak_rss_mib}. Without --apps-file it generates a
 * 5 000-app, 3-task body with the corpus' feature mix.
 */
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseArgs } from '../src/cli/args';
import { findConfigDir } from '../src/configDir';
import { unpacked } from '../src/marathon/appsFile';
import { resolverFrom } from '../src/marathon/resolveHosts';
import { ServerMemo } from '../src/model/serverIds';
import { loadTemplateSet } from '../src/render/loadTemplates';
import { RenderCache } from '../src/render/render';
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
if (!parsed.ok) {
  console.error(parsed.error.kind === 'error' ? parsed.error.message : 'usage: see bench/render.ts');
  process.exit(2);
}
const options = parsed.value;

/** A full GC: --expose-gc is set for these calls only (runInNewContext finds the gc it adds). */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * Read and parsed in a function: the file's text (15 MB for the shared file) dies here. Read at the
 * top level, it would stay in the module function's frame through every timed run, as it would not
 * in a controller (its fetch is a function that returns). A file that cannot be read or parsed ends
 * the bench with one line.
 */
function readBody(file: string): { readonly body: unknown; readonly parseMs: number } {
  const text = readText(file);
  // A gzip file's bytes, packed and unpacked (17 MB for the shared one), are freed before the parse,
  // so the peak RSS is the same as for the plain file.
  collectGarbage();
  const t0 = process.hrtime.bigint();
  try {
    const parsedBody = JSON.parse(text) as unknown;
    return { body: parsedBody, parseMs: Number(process.hrtime.bigint() - t0) / 1e6 };
  } catch (e) {
    return fail(`apps file ${file} is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
}
/** The file's JSON text; a gzip file (the shared one as shipped) is unpacked, outside the timings. */
function readText(file: string): string {
  try {
    const bytes = unpacked(file, fs.readFileSync(file));
    return bytes.ok ? bytes.value.toString('utf8') : fail(bytes.error);
  } catch (e) {
    return fail(`cannot read apps file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
function fail(message: string): never {
  console.error(`bench:render: ${message}`);
  process.exit(2);
}
const { body, parseMs } =
  appsFile !== undefined
    ? readBody(appsFile)
    : { body: generateApps({ apps: appCount, tasksPerApp: tasks, seed }) as unknown, parseMs: 0 };
// The file's text (15 MB) is garbage once parsed, but only a full GC frees it: it is collected before
// the timed runs, so their peak RSS is the renders' and not the input text's (a controller decodes
// its apps from HTTP, not from one file's text).
collectGarbage();
const templates = loadTemplateSet(findConfigDir(), {}, options.templatesDir);
if (!templates.ok) throw new Error(templates.error);
const templateSet = templates.value;
const opts = { model: modelOptions(options, {}), render: renderOptions(options, {}) };
const resolve = resolverFrom(new Map());
// Like the live controller: one context across snapshots (servers of unchanged backends are reused).
const servers = new ServerMemo();
const renderCache = new RenderCache();

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
/** Wall and CPU time (all threads: GC helpers too) of one render; CPU time says more on a busy machine. */
function timed(
  b: unknown,
  ctx: Parameters<typeof renderSnapshot>[3],
): { wall: number; cpu: number; snap: ReturnType<typeof renderSnapshot> } {
  const c0 = cpuMs();
  const t0 = process.hrtime.bigint();
  const snap = renderSnapshot(b, templateSet, opts, ctx);
  return { wall: Number(process.hrtime.bigint() - t0) / 1e6, cpu: cpuMs() - c0, snap };
}

const times: number[] = [];
const cpu: number[] = [];
let bytes = 0;
let services = 0;
for (let i = 0; i < runs; i++) {
  const r = timed(body, { resolve, servers, renderCache });
  times.push(r.wall);
  cpu.push(r.cpu);
  if (!r.snap.ok) throw new Error(r.snap.error);
  bytes = r.snap.value.rendered.config.length;
  services = r.snap.value.model.services.length;
}
const peakRssMib = process.resourceUsage().maxRSS / 1024; // of the timed runs, before the comparisons below
// For comparison: the same renders with fresh caches each time (nothing reused between snapshots).
const scratch: number[] = [];
const scratchCpu: number[] = [];
for (let i = 0; i < Math.min(runs, 10); i++) {
  const r = timed(body, { resolve, servers: new ServerMemo(), renderCache: new RenderCache() });
  scratch.push(r.wall);
  scratchCpu.push(r.cpu);
}
// The caches compare apps field by field, never by identity: a freshly parsed equal body (what a live
// controller gets from every fetch) renders as fast. Parsing is outside the timings, as above.
const fresh: number[] = [];
const freshCpu: number[] = [];
for (let i = 0; i < Math.min(runs, 10); i++) {
  const freshBody = appsFile !== undefined ? readBody(appsFile).body : structuredClone(body);
  const r = timed(freshBody, { resolve, servers, renderCache });
  fresh.push(r.wall);
  freshCpu.push(r.cpu);
}
const sorted = [...times].sort((a, b) => a - b);
const apps = (body as { apps: unknown[] }).apps.length;
const round = (n: number): number => Math.round(n * 100) / 100;
console.log(
  `input: ${appsFile ?? `generated ${appCount} apps x ${tasks} tasks (seed ${seed})`}: ${apps} apps -> ${services} services, ${bytes} bytes of config`,
);
if (appsFile !== undefined) console.log(`JSON.parse of the file (once, not in the timings): ${round(parseMs)} ms`);
console.log(
  `runs: ${runs}; first (cold) ${round(times[0]!)} ms; median ${round(median(times))} ms (CPU ${round(median(cpu))} ms); min ${round(sorted[0]!)} ms; max ${round(sorted[sorted.length - 1]!)} ms`,
);
console.log(
  `from scratch each time (fresh caches, ${scratch.length} runs, after the timed ones): median ${round(median(scratch))} ms (CPU ${round(median(scratchCpu))} ms)`,
);
console.log(
  `a freshly JSON.parse'd equal body each time (warm caches, ${fresh.length} runs): median ${round(median(fresh))} ms (CPU ${round(median(freshCpu))} ms)`,
);
console.log(
  `goal (issue 12): median <= 33 ms, from scratch <= 82 ms, peak RSS <= 150 MiB (${round(peakRssMib)} MiB); side by side with marathon-lb: npm run bench:dry`,
);
console.log(
  JSON.stringify({
    median_ms: round(median(times)),
    min_ms: round(sorted[0]!),
    max_ms: round(sorted[sorted.length - 1]!),
    peak_rss_mib: round(peakRssMib),
    scratch_median_ms: round(median(scratch)),
    fresh_body_median_ms: round(median(fresh)),
    cpu_median_ms: round(median(cpu)),
    scratch_cpu_median_ms: round(median(scratchCpu)),
    fresh_body_cpu_median_ms: round(median(freshCpu)),
  }),
);
