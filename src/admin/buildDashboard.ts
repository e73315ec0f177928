import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { assemblePage, pageCsp } from './dashboardPage';

/*
 * Build step (npm run build, after `tsc --noEmit -p src/dashboard/tsconfig.json` type-checked the
 * browser code): esbuild bundles src/dashboard/main.ts into one script, and this writes
 * dist/dashboard/index.html, the one self-contained page the admin API serves at `/`.
 */

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SOURCES = path.join(ROOT, 'src', 'dashboard');
const OUT = path.join(ROOT, 'dist', 'dashboard', 'index.html');

function build(): string | null {
  const bundled = buildSync({
    entryPoints: [path.join(SOURCES, 'main.ts')],
    bundle: true,
    format: 'iife',
    target: 'es2020',
    write: false,
    logLevel: 'silent',
    charset: 'utf8',
    legalComments: 'none',
    tsconfig: path.join(SOURCES, 'tsconfig.json'),
  });
  const js = bundled.outputFiles[0]?.text;
  if (js === undefined) return 'dashboard build: esbuild produced no output';
  const page = assemblePage(
    readFileSync(path.join(SOURCES, 'index.html'), 'utf8'),
    readFileSync(path.join(SOURCES, 'style.css'), 'utf8'),
    js,
  );
  if (!page.ok) return page.error;
  const csp = pageCsp(page.value);
  if (!csp.ok) return csp.error;
  mkdirSync(path.dirname(OUT), { recursive: true });
  writeFileSync(OUT, page.value);
  return null;
}

try {
  const error = build();
  if (error !== null) {
    process.stderr.write(`${error}\n`);
    process.exitCode = 1;
  }
} catch (e) {
  // esbuild's own message names the file and line.
  process.stderr.write(`dashboard build: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
