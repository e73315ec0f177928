/**
 * Everything this program reads from or adds to HAProxy's config text, in one place. The config
 * `--dry` prints is marathon-lb's; the live HAProxy gets `liveConfig(…)` of it, which adds what
 * running it needs (and only where the config does not decide it already):
 * - `hard-stop-after`: how long old workers may finish their connections after a reload. By
 *   default no shorter than the config's longest client/server/tunnel timeout, so a websocket or
 *   TCP tunnel marathon-lb's `timeout tunnel 3600s` lets live is not cut by a reload.
 * - `mworker-max-reloads`: HAProxy itself sends SIGTERM to a worker that has survived more
 *   reloads than this, which bounds how many old workers linger (--max-old-workers).
 * - `option idle-close-on-response` (see ensureIdleCloseOnResponse).
 * It also reads what the controller needs from the text: runtime directories, the server-state
 * file, each backend's server lines (for runtime `add server`), the longest timeout.
 */
import * as path from 'node:path';
import { firstHeader, sectionsOf, type Span } from './sections';

/** Old workers are never cut sooner than this by default (the controller's earlier fixed default). */
const MIN_HARD_STOP_AFTER_S = 30;

export interface LiveConfigOptions {
  /** --hard-stop-after; undefined: derived from the config (see hardStopAfterFor). */
  readonly hardStopAfterSeconds: number | undefined;
  /** --max-old-workers; undefined or 0: no bound beyond hard-stop-after. */
  readonly maxOldWorkers?: number;
}

/**
 * The config as the live HAProxy gets it: `--dry` output plus what running it needs (see above).
 * What the global and defaults sections need is found by native search for their headers, and the
 * text is copied once: at 10 000 apps it is megabytes of backends this never reads line by line.
 */
export function liveConfig(configText: string, o: LiveConfigOptions): string {
  const seconds = o.hardStopAfterSeconds ?? hardStopAfterFor(configText);
  const global: (readonly [string, string])[] = [['hard-stop-after', `${seconds}s`]];
  if (o.maxOldWorkers !== undefined && o.maxOldWorkers > 0)
    global.push(['mworker-max-reloads', String(o.maxOldWorkers)]);
  const inserts = [...globalInserts(configText, global), ...idleCloseInserts(configText)];
  return withInserts(
    configText,
    inserts.sort((a, b) => a.at - b.at),
  );
}

/** The default hard-stop-after: the longest client/server/tunnel timeout the config sets, at least 30 s. */
export function hardStopAfterFor(configText: string): number {
  return Math.max(MIN_HARD_STOP_AFTER_S, longestTimeoutSeconds(configText) ?? 0);
}

const TIMEOUT_AT = /timeout\s+(?:client|server|tunnel)\s+(\S+)/y;

/**
 * The longest `timeout client|server|tunnel` anywhere in the config (seconds, rounded up), if any:
 * each line's whitespace-led `timeout` (what `/^\s*timeout…/gm` matches), found by native search.
 */
export function longestTimeoutSeconds(configText: string): number | undefined {
  let longest: number | undefined;
  let after = 0; // a match ended here: the next is sought after it, as a global regex would
  for (let at = configText.indexOf('timeout'); at >= 0; at = configText.indexOf('timeout', Math.max(at + 1, after))) {
    if (at < after || !afterLineStart(configText, at)) continue;
    TIMEOUT_AT.lastIndex = at;
    const m = TIMEOUT_AT.exec(configText);
    if (m === null) continue;
    after = TIMEOUT_AT.lastIndex;
    const ms = durationMs(m[1] as string);
    if (ms !== undefined) longest = Math.max(longest ?? 0, Math.ceil(ms / 1000));
  }
  return longest;
}

/** Only whitespace between `at` and a line start before it (`^\s*` of a multiline regex: any line terminator). */
function afterLineStart(text: string, at: number): boolean {
  for (let i = at - 1; i >= 0; i--) {
    const c = text[i]!;
    if (c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029') return true;
    if (!/\s/.test(c)) return false;
  }
  return true;
}

const UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An HAProxy time value ("3600s", "5m", "1500" = ms) in milliseconds. */
export function durationMs(text: string): number | undefined {
  const m = /^(\d+)(us|ms|s|m|h|d)?$/.exec(text);
  return m ? Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] as number) : undefined;
}

/**
 * The longest `grace` the config sets (ms), 0 without one: how long a proxy keeps listening after
 * HAProxy is told to stop.
 */
export function longestGraceMs(configText: string): number {
  let longest = 0;
  for (const m of configText.matchAll(/^[ \t]*grace[ \t]+(\S+)/gm)) longest = Math.max(longest, durationMs(m[1]!) ?? 0);
  return longest;
}

/** Adds `hard-stop-after <seconds>s` to the global section unless it sets one already. */
export function ensureHardStopAfter(configText: string, seconds: number): string {
  return withInserts(configText, globalInserts(configText, [['hard-stop-after', `${seconds}s`]]));
}

/** Text to put at an offset of the config (0: before it; a header's end: as the section's first lines). */
interface Insert {
  readonly at: number;
  readonly text: string;
}

/** The text with each insert in place (inserts in ascending order of offset). */
function withInserts(text: string, inserts: readonly Insert[]): string {
  if (inserts.length === 0) return text;
  const parts: string[] = [];
  let from = 0;
  for (const i of inserts) {
    parts.push(text.slice(from, i.at), i.text);
    from = i.at;
  }
  parts.push(text.slice(from));
  return parts.join('');
}

/** The lines of a section after its first one. */
const bodyLines = (text: string, s: Span): string[] => text.slice(s.headerEnd + 1, s.end).split('\n');

const sets = (lines: readonly string[], keyword: string): boolean => {
  const set = new RegExp(`^\\s*${keyword}\\s`);
  return lines.some((line) => set.test(line));
};

/**
 * Adds each `<keyword> <value>` to the global section (creating it) unless the section sets the
 * keyword already — as if added one after the other, each as the section's first line: the first
 * global section gets them last first; without one, a new section at the top gets them, and its body
 * runs on to the text's first section (as HAProxy reads it).
 */
function globalInserts(text: string, directives: readonly (readonly [string, string])[]): Insert[] {
  const global = sectionsOf(text, 'global')[0];
  const body = global === undefined ? text.slice(0, firstHeader(text)).split('\n') : bodyLines(text, global);
  const added: string[] = [];
  for (const [keyword, value] of directives) {
    const line = `  ${keyword} ${value}`;
    if ((global === undefined && added.length === 0) || !sets([...added, ...body], keyword)) added.unshift(line);
  }
  if (global === undefined) return [{ at: 0, text: `global\n${added.join('\n')}\n` }];
  return added.length === 0 ? [] : [{ at: global.headerEnd, text: `\n${added.join('\n')}` }];
}

/**
 * Adds `option idle-close-on-response` to every defaults section that does not decide it already.
 * Without it an old worker closes its idle keep-alive connections as soon as a reload soft-stops
 * it, racing clients that send their next request on them at that moment ("socket hang up"); with
 * it the old worker answers that request with `Connection: close` and closes only then.
 */
export function ensureIdleCloseOnResponse(configText: string): string {
  return withInserts(configText, idleCloseInserts(configText));
}

function idleCloseInserts(text: string): Insert[] {
  return sectionsOf(text, 'defaults')
    .filter((d) => !bodyLines(text, d).some((line) => /^\s*(no\s+)?option\s+idle-close-on-response\b/.test(line)))
    .map((d) => ({ at: d.headerEnd, text: '\n  option idle-close-on-response' }));
}

/**
 * Directories HAProxy needs before it starts: the stats socket's and server-state-base
 * (marathon-lb's head uses /var/run/haproxy/ and /var/state/haproxy/, which a fresh machine lacks).
 */
export function runtimeDirs(configText: string): string[] {
  const socket = /^\s*stats\s+socket\s+(\/\S+)/m.exec(configText)?.[1];
  const base = /^\s*server-state-base\s+(\S+)/m.exec(configText)?.[1];
  return [...(socket === undefined ? [] : [path.dirname(socket)]), ...(base === undefined ? [] : [base])];
}

/** The file `server-state-file` + `server-state-base` name, where a reload's new worker reads server state. */
export function serverStateFile(configText: string): string | undefined {
  const base = /^\s*server-state-base\s+(\S+)/m.exec(configText)?.[1];
  const file = /^\s*server-state-file\s+(\S+)/m.exec(configText)?.[1];
  return base === undefined || file === undefined ? undefined : path.resolve(base, file);
}

/** The config text with every occurrence of each `from` path replaced by its `to` (candidate map files). */
export function withPaths(configText: string, renames: readonly (readonly [string, string])[]): string {
  return renames.reduce((text, [from, to]) => text.split(from).join(to), configText);
}

/** A line that opens a section here: unindented, two words at least (keyword, name). */
const SECTION_HEAD = /^(\S+)\s+(\S+)/;
/** An indented `server` line, and its server's name. */
const SERVER_OF = /^\s+server\s+(\S+)\s/;

/**
 * The config HAProxy effectively runs after fast-path changes: `config` with the server lines of each
 * backend in `lines` replaced by those (at the place of its first server line, or at the end of its
 * section). For operators' diffs only: the file itself is rewritten by the next snapshot.
 */
export function withServerLines(config: string, lines: ReadonlyMap<string, ReadonlyMap<string, string>>): string {
  if (lines.size === 0) return config;
  const out: string[] = [];
  let pending: ReadonlyMap<string, string> | undefined; // this section's new server lines, not yet placed
  let replacing = false;
  const place = (): void => {
    if (pending !== undefined) out.push(...pending.values());
    pending = undefined;
  };
  for (const line of config.split('\n')) {
    const section = SECTION_HEAD.exec(line);
    if (section !== null) {
      place();
      out.push(line);
      pending = section[1] === 'backend' || section[1] === 'listen' ? lines.get(section[2]!) : undefined;
      replacing = pending !== undefined;
      continue;
    }
    if (replacing && /^\s+server\s/.test(line)) {
      place();
      continue;
    }
    out.push(line);
  }
  place();
  return out.join('\n');
}

/** The `server` lines of each backend in a rendered config: what a runtime `add server` must reproduce. */
/**
 * serverLinesByBackend(config).get(backend), reading only that section: found by a native search
 * for its header, where the whole-config parse cost ~190 ms at 10 000 backends per runtime update.
 */
export function serverLinesOf(config: string, backend: string): Map<string, string> | undefined {
  // The last header naming it wins, as in the whole parse; a header is any unindented line of two words.
  // Lines are cut at \n only (no 'm' flag: it would also start lines after \r and \u2028).
  const header = new RegExp(`(?:^|\\n)(?:backend|listen)[^\\S\\n]+${escapeRegExp(backend)}(?=\\s|$)`, 'g');
  let start = -1;
  for (const m of config.matchAll(header)) start = m.index + (config[m.index] === '\n' ? 1 : 0);
  if (start < 0) return undefined;
  const out = new Map<string, string>();
  let at = config.indexOf('\n', start);
  while (at >= 0) {
    const end = config.indexOf('\n', at + 1);
    const line = config.slice(at + 1, end < 0 ? undefined : end);
    if (SECTION_HEAD.test(line)) break;
    const server = SERVER_OF.exec(line);
    if (server !== null) out.set(server[1]!, line);
    at = end;
  }
  return out;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function serverLinesByBackend(config: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of config.split('\n')) {
    const section = SECTION_HEAD.exec(line);
    if (section !== null) {
      current = section[1] === 'backend' || section[1] === 'listen' ? new Map() : undefined;
      if (current !== undefined) out.set(section[2]!, current);
      continue;
    }
    const server = SERVER_OF.exec(line);
    if (server !== null && current !== undefined) current.set(server[1]!, line);
  }
  return out;
}
