import { createHash } from 'node:crypto';
import * as path from 'node:path';

/*
 * Turns the dashboard's sources (src/dashboard: index.html, style.css, and the TypeScript compiled
 * to CommonJS by src/dashboard/tsconfig.json) into one self-contained page, and gives the
 * Content-Security-Policy that allows exactly its one inline style and one inline script. Pure:
 * buildDashboard.ts reads and writes the files, dashboard.ts serves the result.
 */

export type Built<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

const REQUIRE = /\brequire\("([^"]+)"\)/g;
const STYLE_TAG = '<link rel="stylesheet" href="style.css">';
const SCRIPT_TAG = '<script src="main.js"></script>';

/**
 * A minimal CommonJS bundle of `entry` and every module it requires (relative paths only: the page
 * has no packages), in one IIFE. `modules` maps paths relative to the compiled root ("dashboard/main.js")
 * to their code. Each module keeps its own scope, as it had under tsc.
 */
export function bundle(modules: ReadonlyMap<string, string>, entry: string): Built<string> {
  const order: string[] = [];
  const deps = new Map<string, Record<string, string>>();
  const visit = (id: string, from: string): string | null => {
    if (deps.has(id)) return null;
    const code = modules.get(id);
    if (code === undefined) return `dashboard build: ${from} requires ${id}, which was not compiled`;
    const table: Record<string, string> = {};
    deps.set(id, table);
    for (const [, spec] of code.matchAll(REQUIRE)) {
      if (spec === undefined || !spec.startsWith('.')) return `dashboard build: ${id} requires "${spec}": only relative modules can be bundled`;
      const target = path.posix.join(path.posix.dirname(id), `${spec}.js`);
      table[spec] = target;
      const err = visit(target, id);
      if (err !== null) return err;
    }
    order.push(id);
    return null;
  };
  const err = visit(entry, 'the page');
  if (err !== null) return { ok: false, error: err };
  const defs = order.map((id) => {
    const code = (modules.get(id) ?? '').replace(/^\/\/# sourceMappingURL=.*$/m, '').trimEnd();
    return `${JSON.stringify(id)}: [function (module, exports, require) {\n${code}\n}, ${JSON.stringify(deps.get(id))}]`;
  });
  return {
    ok: true,
    value: `(function () {
"use strict";
var defs = {
${defs.join(',\n')}
};
var cache = {};
function load(id) {
  if (cache[id]) return cache[id].exports;
  var m = cache[id] = { exports: {} };
  var def = defs[id];
  def[0].call(m.exports, m, m.exports, function (spec) { return load(def[1][spec]); });
  return m.exports;
}
load(${JSON.stringify(entry)});
})();
`,
  };
}

/** index.html with style.css and the bundled script in place of its `<link>` and `<script src>`. */
export function assemblePage(html: string, css: string, js: string): Built<string> {
  for (const [tag, name] of [[STYLE_TAG, 'style.css'], [SCRIPT_TAG, 'main.js']] as const) {
    if (html.split(tag).length !== 2) return { ok: false, error: `dashboard build: index.html must hold exactly one ${tag} (where ${name} goes)` };
  }
  if (/<\/style/i.test(css)) return { ok: false, error: 'dashboard build: style.css must not contain "</style"' };
  if (/<\/script/i.test(js)) return { ok: false, error: 'dashboard build: the script must not contain "</script"' };
  if (/<script|<style/i.test(html.replace(SCRIPT_TAG, ''))) return { ok: false, error: 'dashboard build: index.html must not hold its own <script> or <style>' };
  // Functions as replacements: `$` in the code must stay as written.
  return { ok: true, value: html.replace(STYLE_TAG, () => `<style>\n${css}</style>`).replace(SCRIPT_TAG, () => `<script>\n${js}</script>`) };
}

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The page's CSP: its one inline style and one inline script by hash, fetches to itself only. */
export function pageCsp(page: string): Built<string> {
  const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)];
  const scripts = [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)];
  if (styles.length !== 1 || scripts.length !== 1) return { ok: false, error: `dashboard: the page must hold one <style> and one <script> (found ${styles.length} and ${scripts.length})` };
  return {
    ok: true,
    value: [
      "default-src 'none'",
      `script-src ${sha256(scripts[0]![1]!)}`,
      `style-src ${sha256(styles[0]![1]!)}`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
  };
}
