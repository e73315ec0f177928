import * as fs from 'node:fs';
import * as path from 'node:path';
import { build, type Plugin } from 'esbuild';

/*
 * Build step (npm run build, after tsc): the `marathon-lb` command as one file. Each start parses
 * its flags (yargs and the ten packages it loads) and, for --dry, loads the render path: some sixty
 * files, each resolved, read and compiled on its own, cost ~30 ms of CPU and ~3 MB at every start (a
 * third of a one-app --dry beyond Node's own start; issue 12). esbuild bundles what the command
 * imports at once into dist/src/bin/marathon-lb.js, over tsc's output. What it imports lazily (the
 * service, zdd, the Marathon client, the logger) stays in the files tsc wrote, loaded when it runs:
 * bundled too, their code would be parsed at every start and cost more than the bundle saves.
 */

const ROOT = path.resolve(__dirname, '..', '..', '..');
const OUT_FILE = path.join(ROOT, 'dist', 'src', 'bin', 'marathon-lb.js');

/** `import('./…')` of a project module: required from tsc's output of it when it runs. */
const lazyImportsApart: Plugin = {
  name: 'lazy-imports-apart',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const built = path.join(ROOT, 'dist', path.relative(ROOT, path.resolve(args.resolveDir, args.path)));
      return { path: `./${path.relative(path.dirname(OUT_FILE), built)}`, external: true };
    });
  },
};

/** Packages every start loads: the flags (yargs, and what it requires) and the templates (mustache). */
const BUNDLED_PACKAGES = new Set(['yargs', 'mustache']);

/** Other packages are required from node_modules where they are used (the service's rxjs, winston, …). */
const otherPackagesApart: Plugin = {
  name: 'other-packages-apart',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.importer.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const name = args.path.split('/')[0]!;
      return BUNDLED_PACKAGES.has(name) ? undefined : { path: args.path, external: true };
    });
  },
};

build({
  entryPoints: [path.join(ROOT, 'src', 'bin', 'marathon-lb.ts')],
  outfile: OUT_FILE,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // import() as tsc compiles it for CommonJS: a require when it runs, not Node's ESM loader.
  supported: { 'dynamic-import': false },
  sourcemap: true,
  logLevel: 'silent',
  legalComments: 'none',
  plugins: [lazyImportsApart, otherPackagesApart],
}).then(
  () => {
    const line = firstNonAsciiLine(fs.readFileSync(OUT_FILE, 'utf8'));
    if (line === null) return;
    process.stderr.write(
      `command bundle: ${path.relative(ROOT, OUT_FILE)} line ${line.number} is not ASCII (write it so): ${line.text.trim().slice(0, 200)}\n`,
    );
    process.exitCode = 1;
  },
  (e: unknown) => {
    // esbuild's own message names the file and line.
    process.stderr.write(`command bundle: ${(e as Error).message}\n`);
    process.exitCode = 1;
  },
);

/**
 * esbuild escapes what strings hold beyond ASCII, not what comments do. One such character (a "≤" in
 * a comment) made V8 hold the whole bundle's source as two bytes a character, 0.4 MiB more at every
 * start. So the build fails on one, naming its line.
 */
function firstNonAsciiLine(text: string): { readonly number: number; readonly text: string } | null {
  const at = text.search(/[\u0080-\uffff]/);
  if (at < 0) return null;
  const start = text.lastIndexOf('\n', at) + 1;
  const end = text.indexOf('\n', at);
  return { number: text.slice(0, at).split('\n').length, text: text.slice(start, end < 0 ? undefined : end) };
}
