/**
 * Renders generated payloads through the path `--dry` uses (options from the real argument parser,
 * renderSnapshot, real file checks) and judges the result: no exception, no line or control
 * character from a value, no `$` HAProxy would expand, and (batched) a real `haproxy -c`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isIP } from 'node:net';
import { parseArgs } from '../../src/cli/args';
import type { Options } from '../../src/cli/options';
import { fileChecks } from '../../src/model/files';
import type { Service } from '../../src/model/types';
import { loadTemplateSet } from '../../src/render/loadTemplates';
import { renderSnapshot, type Snapshot } from '../../src/render/snapshot';
import { modelOptions, renderOptions } from '../../src/wiring/parts';
import type { TemplateSet } from '../../src/render/templates';
import { checkConfig } from '../support/haproxy';
import { REPO_ROOT } from '../support/paths';
import { flagArgs, GOOD_PEM, type Case } from './appsArbitrary';

/**
 * marathon-lb's own templates: the HSTS, proxy-path and reverse-proxy ones print rspadd/reqirep/
 * rspirep, which the renderer translates for HAProxy 2.6 (renderCase passes --haproxy-version 2.6).
 */
export function templates(): TemplateSet {
  const t = loadTemplateSet(path.join(REPO_ROOT, 'config'), {}, '/nonexistent-templates-dir');
  if (!t.ok) throw new Error(t.error);
  return t.value;
}

/** Agents the generated tasks name; anything else does not resolve (and the task is skipped, as upstream). */
const resolve = (h: string): string | undefined =>
  isIP(h) === 4 ? h : h === 'agent-1' ? '10.0.0.9' : h === 'localhost' ? '127.0.0.1' : undefined;

/**
 * Makes the names of payload `k` unique within a batch (app ids, deployment groups, vhosts get a
 * `p<k>` prefix) and points GOOD_PEM at the real certificate. Hostile text stays hostile.
 */
export function prepare(body: unknown, k: number, pem: string): unknown {
  const json = JSON.stringify(body ?? null)
    .split(GOOD_PEM)
    .join(pem);
  const b = JSON.parse(json) as unknown;
  if (typeof b !== 'object' || b === null || !Array.isArray((b as { apps?: unknown }).apps)) return b;
  for (const a of (b as { apps: unknown[] }).apps) {
    if (typeof a !== 'object' || a === null) continue;
    const app = a as Record<string, unknown>;
    if (typeof app['id'] === 'string') app['id'] = `/p${k}${app['id'].startsWith('/') ? '' : '/'}${app['id']}`;
    const labels = app['labels'];
    if (typeof labels !== 'object' || labels === null) continue;
    const l = labels as Record<string, unknown>;
    for (const key of Object.keys(l)) {
      const v = l[key];
      if (typeof v !== 'string') continue;
      if (key === 'HAPROXY_DEPLOYMENT_GROUP') l[key] = `p${k}/${v}`;
      if (/^HAPROXY_\d+_VHOST$/.test(key)) l[key] = `p${k}-${v.split(',').join(`,p${k}-`)}`;
    }
  }
  return b;
}

export interface Rendered {
  readonly snapshot: Snapshot;
  readonly cfgPath: string;
}

const parsedFlags = new Map<string, Options>();
/** One verdict per file for the whole run, as the controller keeps one. */
const files = fileChecks();

/** Renders a prepared body as `marathon-lb --dry --haproxy-config <dir>/haproxy.cfg <flags>` would. */
export function renderCase(c: Case, body: unknown, dir: string, pem: string, t: TemplateSet): Rendered {
  const cfgPath = path.join(dir, 'haproxy.cfg');
  const args = [
    '--dry',
    '--group',
    'external',
    '--haproxy-config',
    '/dir/haproxy.cfg',
    '--haproxy-version',
    '2.6',
    '--ssl-certs',
    pem,
    '--lua-dir',
    path.join(REPO_ROOT, 'config', 'lua'),
    ...flagArgs(c.flags),
  ];
  let o = parsedFlags.get(args.join(' '));
  if (o === undefined) {
    // The argument parser is slow; its result depends on the flags alone (the directory is set below).
    const parsed = parseArgs(args, {});
    if (!parsed.ok) throw new Error(`bad flags ${flagArgs(c.flags).join(' ')}`);
    parsedFlags.set(args.join(' '), (o = parsed.value));
  }
  o = { ...o, haproxyConfig: cfgPath };
  const snapshot = renderSnapshot(
    body,
    t,
    { model: modelOptions(o, {}), render: renderOptions(o, {}) },
    { resolve, files },
  );
  return { snapshot, cfgPath };
}

const LINE_BREAK = /[\r\n\0]/;
// HAProxy skips blanks before a map key and between key and value (pattern.c); a vhost label's
// blanks after a comma reach the map as marathon-lb writes them.
const MAP_LINE = /^[ \t]*[^\s#]+[ \t]+[A-Za-z0-9_.:-]+$/;

/** Every string a served service carries into the config (template labels are raw text by design). */
function* strings(v: unknown, at: string): Generator<[string, string]> {
  if (typeof v === 'string') yield [at, v];
  else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield* strings(v[i], `${at}[${i}]`);
  else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) if (k !== 'templateLabels') yield* strings(x, `${at}.${k}`);
  }
}

/** Whether HAProxy would expand an environment variable on this line: a `$` in double quotes, unescaped. */
function expandsEnv(line: string): boolean {
  let q: '' | '"' | "'" = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q === "'") {
      if (c === "'") q = '';
      continue;
    }
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '#' && q === '') return false;
    if (c === '"' || c === "'") {
      q = q === c ? '' : q === '' ? c : q;
      continue;
    }
    if (c === '$' && q === '"') return true;
  }
  return false;
}

/** What is wrong with a snapshot without asking HAProxy: [] when nothing. */
export function pureViolations(s: Snapshot, refuseTemplates: boolean): string[] {
  const out: string[] = [];
  if (!s.ok) return out; // a body without an apps array: one error, nothing rendered
  for (const svc of s.value.model.services as readonly Service[]) {
    // The member apps of a deployment group are named in warnings (printable()), never printed in the config.
    const { deploymentMembers: _members, ...printed } = svc;
    for (const [at, v] of strings(printed, svc.backend))
      if (LINE_BREAK.test(v)) out.push(`line break or NUL in ${at}: ${JSON.stringify(v.slice(0, 60))}`);
    if (refuseTemplates && Object.keys(svc.templateLabels).length > 0)
      out.push(`${svc.backend} served with template labels under --refuse-app-templates`);
  }
  for (const map of [s.value.rendered.domainMap, s.value.rendered.appMap]) {
    for (const line of map.split('\n'))
      if (line !== '' && !MAP_LINE.test(line))
        out.push(`map line is not "key backend": ${JSON.stringify(line.slice(0, 80))}`);
  }
  const config = s.value.rendered.config;
  if (/[\r\0]/.test(config)) out.push('CR or NUL in the config');
  const lines = config.split('\n');
  for (let i = 0; i < lines.length; i++)
    if (expandsEnv(lines[i]!)) out.push(`line ${i + 1} expands an environment variable: ${lines[i]!.slice(0, 120)}`);
  for (const p of s.value.problems)
    if (typeof p.appId !== 'string' || typeof p.message !== 'string' || p.message === '') out.push('malformed problem');
  return out;
}

const SECTION = /^(global|defaults|frontend|backend|listen|userlist)\b\s*(\S*)/;
const SHARED = new Set(['frontend marathon_http_in', 'frontend marathon_https_in', 'frontend marathon_http_appid_in']);

/**
 * One config checking several payloads' configs at once: the global, defaults and stats sections
 * (from the HAPROXY_HEAD template, the same for all) once, each payload's shared :80/:443/:9091
 * frontends renamed with its index, every other section as rendered. Returns null when section
 * names of two payloads collide (then they must be checked alone).
 */
export function mergeConfigs(configs: readonly { readonly k: number; readonly config: string }[]): string | null {
  const seen = new Set<string>();
  let head: string | null = null;
  const out: string[] = [];
  for (const { k, config } of configs) {
    const lines = config.split('\n');
    let firstProxy = lines.findIndex((l) => /^(frontend|backend|userlist)\b/.test(l));
    if (firstProxy < 0) firstProxy = lines.length;
    const thisHead = lines.slice(0, firstProxy).join('\n');
    if (head === null) {
      head = thisHead;
      out.push(thisHead);
    } else if (head !== thisHead) {
      return null;
    }
    for (let i = firstProxy; i < lines.length; i++) {
      const line = lines[i]!;
      const m = SECTION.exec(line);
      if (m === null) {
        out.push(line);
        continue;
      }
      let id = `${m[1]} ${m[2]}`;
      if (SHARED.has(id)) id = `${id}_p${k}`;
      if (seen.has(id)) return null;
      seen.add(id);
      out.push(SHARED.has(`${m[1]} ${m[2]}`) ? `${m[1]} ${m[2]}_p${k}` : line);
    }
  }
  return `${out.join('\n')}\n`;
}

/** Runs `haproxy -c` on many files, `workers` at a time. */
export async function checkAll(
  files: readonly string[],
  workers: number,
): Promise<{ file: string; ok: boolean; output: string }[]> {
  const results: { file: string; ok: boolean; output: string }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < files.length) {
        const file = files[next++]!;
        const r = await checkConfig(file);
        results.push({ file, ok: r.ok && !/\[ALERT\]/.test(r.output), output: r.output });
      }
    }),
  );
  return results;
}

/**
 * Creates the (empty) map files every payload's config names: payloads share one directory so
 * that a check does not write two files per payload; map contents are judged by pureViolations.
 */
export function writeMaps(dir: string): void {
  fs.writeFileSync(path.join(dir, 'domain2backend.map'), '');
  fs.writeFileSync(path.join(dir, 'app2backend.map'), '');
}
