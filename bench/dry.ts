/**
 * npm run bench:dry -- [--apps-file FILE] [--runs N] [--marathon-lb DIR] [--python PY] [marathon-lb flags]
 * The whole `marathon-lb --dry --apps-file FILE` process, N times: wall time around it, peak RSS read
 * by /usr/bin/time (the process tree's max RSS). With --marathon-lb (upstream source tree, default
 * /tmp/mlb-upstream when present) the same for upstream's marathon_lb.py through
 * bench/marathon-lb-dry.py, plus its in-process render times and ours (bench:render), side by side.
 * The last line is JSON: {wall_ms, peak_rss_mib, …, node_bare_ms, read_ms, marathon_lb: {...} | null}, medians;
 * node_bare_ms (`node -e 0`) plus read_ms (the apps read in process as --dry reads them) is a floor no --dry goes under.
 * With --sizes N,N,…, instead: the whole --dry of the first N apps of the file at each size, both sides,
 * after `node -e 0` as the floor; the last line is JSON {node_bare, sizes: [{apps, wall_ms, …}]}.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { unpacked } from '../src/marathon/appsFile';

function take(argv: string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  if (i < 0) return undefined;
  const [, value] = argv.splice(i, 2);
  return value;
}
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round = (n: number): number => Math.round(n * 10) / 10;

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(`npm run bench:dry -- [--apps-file FILE] [--runs N] [--marathon-lb DIR] [--python PY] [marathon-lb flags]
  --apps-file FILE   apps JSON, plain or gzip (unpacked once, outside the timings); default ../shared/bench/apps-5000.json.gz
  --runs N           runs of each whole --dry process (default 5); medians are printed
  --marathon-lb DIR  upstream marathon-lb source tree to compare with (default /tmp/mlb-upstream when present)
  --python PY        Python for upstream (default /usr/bin/python3)
  --sizes N,N,...    instead: the whole --dry of the first N apps of the file, for each N, both sides
  marathon-lb flags  passed to both sides; with --marathon-lb, only --group and the IP-per-task port range
                     (bench/marathon-lb-dry.py refuses others rather than compare different renders)
Prints a side-by-side table (marathon-lb | this | ratio | goal); the last line is JSON.`);
  process.exit(0);
}
const root = path.resolve(__dirname, '..', '..');
const appsFile = path.resolve(
  take(argv, '--apps-file') ?? path.join(root, '..', 'shared', 'bench', 'apps-5000.json.gz'),
);
const runs = Number(take(argv, '--runs') ?? 5);
const upstream =
  take(argv, '--marathon-lb') ?? (fs.existsSync('/tmp/mlb-upstream/marathon_lb.py') ? '/tmp/mlb-upstream' : undefined);
const python = take(argv, '--python') ?? '/usr/bin/python3';
const sizes = take(argv, '--sizes')
  ?.split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
if (!argv.includes('--group')) argv.push('--group', 'external');

// A gzip input (by its bytes, whatever its name) is unpacked once, outside the timings: both sides
// read plain JSON.
let input = appsFile;
const read = fs.readFileSync(appsFile);
const plain = unpacked(appsFile, read);
if (!plain.ok) {
  console.error(`bench:dry: ${plain.error}`);
  process.exit(2);
}
if (plain.value !== read) {
  input = path.join(fs.mkdtempSync('/tmp/bench-dry-'), 'apps.json');
  fs.writeFileSync(input, plain.value);
}
const outDir = fs.mkdtempSync('/tmp/bench-dry-out-');

interface Run {
  readonly wallMs: number;
  readonly rssMib: number;
  readonly stdout: string;
}
function timed(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Run {
  // Wall time read here (time's %e is in 10 ms steps, too coarse for small inputs); peak RSS from time.
  const start = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '@@time %M', cmd, ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const wallMs = performance.now() - start;
  const m = /@@time (\d+)/.exec(r.stderr);
  if (r.status !== 0 || m === null)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { wallMs, rssMib: Number(m[1]) / 1024, stdout: r.stdout };
}

const pyEnv = { ...process.env, PYTHONHASHSEED: '0' };
const driver = path.join(root, 'bench', 'marathon-lb-dry.py');
const oursOn = (file: string): Run =>
  timed(process.execPath, [
    path.join(root, 'dist', 'src', 'bin', 'marathon-lb.js'),
    '--dry',
    '--apps-file',
    file,
    '--haproxy-config',
    path.join(outDir, 'haproxy.cfg'),
    ...argv,
  ]);
const theirsOn = (file: string): Run => timed(python, [driver, upstream!, file, ...argv], pyEnv);
/**
 * How long Node takes to read the apps of `file` as --dry reads them (same V8 settings, same reader),
 * timed in process around the read alone: no module loading, model, render or output. With Node's own
 * start (`node -e 0`) it is a floor no --dry can go under.
 */
const readMsOf = (file: string): number => {
  const dist = path.join(root, 'dist', 'src');
  const code = `
    const d = ${JSON.stringify(dist)};
    const compiler = require(d + '/optimizingCompiler');
    compiler.holdOptimizingCompiler();
    require(d + '/youngGeneration').keepYoungGenerationSmall();
    const { readAppsFile } = require(d + '/marathon/appsFile');
    const start = performance.now();
    const read = readAppsFile(${JSON.stringify(file)}, {
      inputSize: (bytes) => { if (bytes >= compiler.OPTIMIZE_FROM_BYTES) compiler.allowOptimizingCompiler(); },
      wholeBelowBytes: compiler.OPTIMIZE_FROM_BYTES,
    });
    const ms = performance.now() - start;
    if (!read.ok) { process.stderr.write(read.error); process.exit(2); }
    console.log(ms);`;
  return Number(timed(process.execPath, ['-e', code]).stdout.trim());
};
const ratio = (a: number, b: number): string => `${round(a / b)}x`;

if (sizes !== undefined) {
  sweep(sizes);
  process.exit(0);
}

/**
 * --sizes: the whole --dry at each size, both sides alternated, medians. Small inputs show the fixed
 * costs: Node's own start (`node -e 0`, printed first) and module loading against Python's.
 */
function sweep(counts: readonly number[]): void {
  const body = JSON.parse(fs.readFileSync(input, 'utf8')) as { apps: unknown[] };
  const dir = fs.mkdtempSync('/tmp/bench-dry-sizes-');
  const bare = Array.from({ length: runs }, () => timed(process.execPath, ['-e', '0']));
  console.log(
    `input: first N apps of ${appsFile}; ${runs} runs each, medians; node -e 0: ${round(median(bare.map((r) => r.wallMs)))} ms, ${round(median(bare.map((r) => r.rssMib)))} MiB`,
  );
  console.log('| apps | marathon-lb wall | this wall | ratio | marathon-lb peak RSS | this peak RSS | ratio |');
  console.log('|---|---|---|---|---|---|---|');
  const rows = [];
  for (const n of counts) {
    const file = path.join(dir, `apps-${n}.json`);
    fs.writeFileSync(file, JSON.stringify({ apps: body.apps.slice(0, n) }));
    const ours: Run[] = [];
    const theirs: Run[] = [];
    for (let i = 0; i < runs; i++) {
      ours.push(oursOn(file));
      if (upstream !== undefined) theirs.push(theirsOn(file));
    }
    const row = {
      apps: Math.min(n, body.apps.length),
      wall_ms: round(median(ours.map((r) => r.wallMs))),
      peak_rss_mib: round(median(ours.map((r) => r.rssMib))),
      marathon_lb:
        upstream === undefined
          ? null
          : {
              wall_ms: round(median(theirs.map((r) => r.wallMs))),
              peak_rss_mib: round(median(theirs.map((r) => r.rssMib))),
            },
    };
    rows.push(row);
    const m = row.marathon_lb;
    console.log(
      `| ${row.apps} | ${m ? `${m.wall_ms} ms` : '—'} | ${row.wall_ms} ms | ${m ? ratio(m.wall_ms, row.wall_ms) : '—'} | ${m ? `${m.peak_rss_mib} MiB` : '—'} | ${row.peak_rss_mib} MiB | ${m ? ratio(m.peak_rss_mib, row.peak_rss_mib) : '—'} |`,
    );
  }
  const nodeBare = {
    wall_ms: round(median(bare.map((r) => r.wallMs))),
    peak_rss_mib: round(median(bare.map((r) => r.rssMib))),
  };
  console.log(JSON.stringify({ node_bare: nodeBare, sizes: rows }));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(outDir, { recursive: true, force: true });
  if (input !== appsFile) fs.rmSync(path.dirname(input), { recursive: true, force: true });
}

const ours: Run[] = [];
const theirs: Run[] = [];
const bare: Run[] = [];
const readMs: number[] = [];
let theirRender: number[] = [];
for (let i = 0; i < runs; i++) {
  // Alternated, so all see the same load on a shared machine.
  ours.push(oursOn(input));
  if (upstream !== undefined) theirs.push(theirsOn(input));
  bare.push(timed(process.execPath, ['-e', '0']));
  readMs.push(readMsOf(input));
}
if (upstream !== undefined) {
  const r = spawnSync(python, [driver, upstream, input, '--runs', String(Math.max(runs, 5)), ...argv], {
    env: pyEnv,
    encoding: 'utf8',
  });
  theirRender = r.stdout.trim().split('\n').map(Number).slice(1); // the first is cold
}
const render = spawnSync(
  process.execPath,
  [path.join(root, 'dist', 'bench', 'render.js'), '--apps-file', input, '--runs', '20', ...argv],
  { encoding: 'utf8', maxBuffer: 1 << 24 },
);
const renderLast = render.stdout.trim().split('\n').pop() ?? '';
if (render.status !== 0 || !renderLast.startsWith('{')) {
  throw new Error(`bench:render failed (${render.status}): ${render.stderr.slice(-2000) || renderLast}`);
}
const renderJson = JSON.parse(renderLast) as { median_ms: number; scratch_median_ms?: number; peak_rss_mib: number };
// The same lines (HAProxy does not care about the order of a backend's servers; marathon-lb's follows dict order).
const lines = (s: string): string => s.split('\n').sort().join('\n');
const same = upstream === undefined ? null : lines(ours[0]!.stdout) === lines(theirs[0]!.stdout);

const wall = median(ours.map((r) => r.wallMs));
const rss = median(ours.map((r) => r.rssMib));
const mlb =
  upstream === undefined
    ? null
    : {
        wall_ms: round(median(theirs.map((r) => r.wallMs))),
        peak_rss_mib: round(median(theirs.map((r) => r.rssMib))),
        render_ms: round(median(theirRender)),
      };
console.log(
  `input: ${appsFile}; ${runs} runs each, medians; marathon-lb: ${upstream ?? 'not run (no source tree; pass --marathon-lb DIR)'}`,
);
if (same !== null) console.log(`same config lines as marathon-lb (order aside): ${same}`);
console.log('| measure | marathon-lb | this | ratio | goal |');
console.log('|---|---|---|---|---|');
const row = (name: string, theirsV: number | undefined, oursV: number, unit: string, goal: string): void =>
  console.log(
    `| ${name} | ${theirsV === undefined ? '—' : `${round(theirsV)} ${unit}`} | ${round(oursV)} ${unit} | ${theirsV === undefined ? '—' : ratio(theirsV, oursV)} | ${goal} |`,
  );
row('render in process, warm (bench:render median)', mlb?.render_ms, renderJson.median_ms, 'ms', '≥ 20×');
if (renderJson.scratch_median_ms !== undefined)
  row('render from scratch (fresh caches)', mlb?.render_ms, renderJson.scratch_median_ms, 'ms', '≥ 8×');
row('whole --dry process, wall', mlb?.wall_ms, wall, 'ms', '≥ 4×');
const bareMs = median(bare.map((r) => r.wallMs));
row('floor: `node -e 0`', mlb?.wall_ms, bareMs, 'ms', '—');
row(
  'floor: `node -e 0` + the apps read as --dry reads them, nothing else',
  mlb?.wall_ms,
  bareMs + median(readMs),
  'ms',
  '—',
);
row('peak RSS, whole --dry process', mlb?.peak_rss_mib, rss, 'MiB', '≤ 100 MiB');
row('peak RSS, bench:render --runs 20', undefined, renderJson.peak_rss_mib, 'MiB', '≤ 150 MiB');
console.log(
  JSON.stringify({
    wall_ms: round(wall),
    peak_rss_mib: round(rss),
    render_ms: renderJson.median_ms,
    scratch_ms: renderJson.scratch_median_ms ?? null,
    render_peak_rss_mib: renderJson.peak_rss_mib,
    node_bare_ms: round(bareMs),
    read_ms: round(median(readMs)),
    marathon_lb: mlb,
  }),
);
if (input !== appsFile) fs.rmSync(path.dirname(input), { recursive: true, force: true });
fs.rmSync(outDir, { recursive: true, force: true });
