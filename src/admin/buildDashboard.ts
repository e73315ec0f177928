import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { assemblePage, bundle, pageCsp } from './dashboardPage';

/*
 * Build step (npm run build, after `tsc -p src/dashboard/tsconfig.json`): writes
 * dist/dashboard/index.html, the one self-contained page the admin API serves at `/`.
 */

const ROOT = path.resolve(__dirname, '..', '..', '..');
const SOURCES = path.join(ROOT, 'src', 'dashboard');
const COMPILED = path.join(ROOT, 'dist', 'dashboard', 'js');
const OUT = path.join(ROOT, 'dist', 'dashboard', 'index.html');

function readTree(dir: string, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of readTree(path.join(dir, e.name), rel)) out.set(k, v);
    else if (e.name.endsWith('.js')) out.set(rel, readFileSync(path.join(dir, e.name), 'utf8'));
  }
  return out;
}

function build(): string | null {
  const js = bundle(readTree(COMPILED), 'dashboard/main.js');
  if (!js.ok) return js.error;
  const page = assemblePage(readFileSync(path.join(SOURCES, 'index.html'), 'utf8'), readFileSync(path.join(SOURCES, 'style.css'), 'utf8'), js.value);
  if (!page.ok) return page.error;
  const csp = pageCsp(page.value);
  if (!csp.ok) return csp.error;
  mkdirSync(path.dirname(OUT), { recursive: true });
  writeFileSync(OUT, page.value);
  return null;
}

const error = build();
if (error !== null) {
  process.stderr.write(`${error}\n`);
  process.exitCode = 1;
}
