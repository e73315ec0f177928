import { createHash } from 'node:crypto';
import { err, ok, type Result } from '../result';

/*
 * Turns the dashboard's sources (src/dashboard: index.html, style.css, and its TypeScript bundled by
 * esbuild) into one self-contained page, and gives the Content-Security-Policy that allows exactly
 * its one inline style and one inline script. Pure: buildDashboard.ts bundles, reads and writes the
 * files, dashboard.ts serves the result.
 */

export type Built<T> = Result<T>;

const STYLE_TAG = '<link rel="stylesheet" href="style.css">';
const SCRIPT_TAG = '<script src="main.js"></script>';

/** index.html with style.css and the bundled script in place of its `<link>` and `<script src>`. */
export function assemblePage(html: string, css: string, js: string): Built<string> {
  for (const [tag, name] of [
    [STYLE_TAG, 'style.css'],
    [SCRIPT_TAG, 'main.js'],
  ] as const) {
    if (html.split(tag).length !== 2)
      return err(`dashboard build: index.html must hold exactly one ${tag} (where ${name} goes)`);
  }
  if (/<\/style/i.test(css)) return err('dashboard build: style.css must not contain "</style"');
  if (/<\/script/i.test(js)) return err('dashboard build: the script must not contain "</script"');
  if (/<script|<style/i.test(html.replace(SCRIPT_TAG, '')))
    return err('dashboard build: index.html must not hold its own <script> or <style>');
  // Functions as replacements: `$` in the code must stay as written.
  return ok(
    html.replace(STYLE_TAG, () => `<style>\n${css}</style>`).replace(SCRIPT_TAG, () => `<script>\n${js}</script>`),
  );
}

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The page's CSP: its one inline style and one inline script by hash, fetches to itself only. */
export function pageCsp(page: string): Built<string> {
  const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)];
  const scripts = [...page.matchAll(/<script>([\s\S]*?)<\/script>/g)];
  if (styles.length !== 1 || scripts.length !== 1)
    return err(
      `dashboard: the page must hold one <style> and one <script> (found ${styles.length} and ${scripts.length})`,
    );
  return ok(
    [
      "default-src 'none'",
      `script-src ${sha256(scripts[0]![1]!)}`,
      `style-src ${sha256(styles[0]![1]!)}`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
  );
}
