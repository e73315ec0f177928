/**
 * Will HAProxy refuse to start because of the file-descriptor limit?
 *
 * HAProxy ≥ 2.3 (`strict-limits` on by default) computes the fds it needs (maxsock) and exits with
 * "Cannot raise FD limit to N, limit is L" when it cannot raise RLIMIT_NOFILE to N. `haproxy -c`
 * does not notice. HAProxy 2.6 computes (src/haproxy.c, checked against 2.6.12):
 *   maxsock = 2·maxconn + 2·maxpipes + 3·nbthread            (conns, pipes, poller + wake-up pipe)
 *           + 10                                             (internal proxies)
 *           + 10 when the CLI frontend exists (stats socket or -W) + 1 per CLI listener
 *           + 1 per listening address (bind, port ranges expanded) + 11 for the -S master CLI
 * maxpipes defaults to maxconn/4 when a proxy splices, else 0; nbthread defaults to the CPUs.
 * `ulimit-n` replaces maxsock as the request; `fd-hard-limit` caps what may be had;
 * `no strict-limits` makes HAProxy warn and lower its limits instead of exiting.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { availableParallelism } from 'node:os';
import { err, ok, type Result } from '../result';
import { SECTION, firstHeader, linesStartingWith, sectionsOf } from './sections';

export interface ConfigSection {
  readonly kind: string;
  /** Index of the section's header line in the config's lines. */
  readonly start: number;
  /** Index one past its last line. */
  readonly end: number;
}

/** The config's sections (line ranges), by HAProxy's section keywords. */
export function configSections(lines: readonly string[]): ConfigSection[] {
  const sections: ConfigSection[] = [];
  lines.forEach((line, i) => {
    const m = SECTION.exec(line.trim());
    if (!m) return;
    const last = sections.pop();
    if (last) sections.push({ ...last, end: i });
    sections.push({ kind: m[1] as string, start: i, end: lines.length });
  });
  return sections;
}

function words(line: string): string[] {
  return line
    .replace(/(^|\s)#.*$/, '')
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
}

export interface FdFacts {
  readonly maxconn?: number;
  readonly nbthread?: number;
  readonly maxpipes?: number;
  readonly ulimitN?: number;
  readonly fdHardLimit?: number;
  readonly strictLimits: boolean;
  readonly splice: boolean;
  readonly statsSockets: number;
  /** Listening addresses of bind lines (port ranges expanded). */
  readonly listeners: number;
}

function bindCount(spec: string | undefined): number {
  if (!spec) return 1;
  return spec.split(',').reduce((n, addr) => {
    const range = /:(\d+)-(\d+)$/.exec(addr);
    return n + (range ? Math.max(1, Number(range[2]) - Number(range[1]) + 1) : 1);
  }, 0);
}

/**
 * The facts of a config text that decide how many fds HAProxy asks for: the global sections' lines,
 * and the `bind` and `option splice-*` lines of the other sections, found by native search (at
 * 10 000 apps the text is megabytes that hold a few hundred such lines).
 */
export function parseFdFacts(configText: string): FdFacts {
  const facts: { -readonly [K in keyof FdFacts]: FdFacts[K] } = {
    strictLimits: true,
    splice: false,
    statsSockets: 0,
    listeners: 0,
  };
  const globals = sectionsOf(configText, 'global');
  for (const g of globals)
    for (const line of configText.slice(g.headerEnd + 1, g.end).split('\n')) globalFact(facts, words(line));
  // Lines before the first section, and global's, are not the other sections'.
  const first = firstHeader(configText);
  const other = (at: number): boolean => at >= first && !globals.some((g) => at >= g.start && at < g.end);
  for (const [start, end] of linesStartingWith(configText, 'bind'))
    if (other(start)) facts.listeners += bindCount(bindSpec(configText.slice(start, end)));
  for (let at = configText.indexOf('splice-'); at >= 0 && !facts.splice; at = configText.indexOf('splice-', at + 1)) {
    const start = configText.lastIndexOf('\n', at) + 1;
    const end = configText.indexOf('\n', at);
    const [k, v] = words(configText.slice(start, end < 0 ? configText.length : end));
    if (other(start) && k === 'option' && /^splice-(auto|request|response)$/.test(v ?? '')) facts.splice = true;
  }
  return facts;
}

/** A bind line's address spec: `words(line)[1]`, without splitting the line when it has no comment. */
const bindSpec = (line: string): string | undefined =>
  line.includes('#') ? words(line)[1] : /\s(\S+)/.exec(line.trimStart())?.[1];

function globalFact(facts: { -readonly [K in keyof FdFacts]: FdFacts[K] }, [k, v]: readonly string[]): void {
  if (k === undefined) return;
  const n = Number(v);
  if (k === 'maxconn' && Number.isFinite(n)) facts.maxconn = n;
  else if (k === 'nbthread' && Number.isFinite(n)) facts.nbthread = n;
  else if (k === 'maxpipes' && Number.isFinite(n)) facts.maxpipes = n;
  else if (k === 'ulimit-n' && Number.isFinite(n)) facts.ulimitN = n;
  else if (k === 'fd-hard-limit' && Number.isFinite(n)) facts.fdHardLimit = n;
  else if (k === 'strict-limits') facts.strictLimits = true;
  else if (k === 'no' && v === 'strict-limits') facts.strictLimits = false;
  else if (k === 'stats' && v === 'socket') facts.statsSockets += 1;
}

export interface FdEstimateOptions {
  /** CPUs HAProxy would use when nbthread is not set. Default: this process's available CPUs. */
  readonly cpus?: number;
  /** Started with -W (default true, as HaproxyProcess does). */
  readonly masterWorker?: boolean;
  /** Started with -S <master socket> (default true). */
  readonly masterSocket?: boolean;
}

/**
 * What HAProxy 2.6's master asks for itself in master-worker mode, whatever the config's maxconn
 * (its own maxconn of 100): with `maxconn 5` or `12`, 1 to 8 threads, 1 or 3 listeners, it exits
 * with "Cannot raise FD limit to 224" under a lower limit. A lower maxconn cannot make room under it
 * (helper 74: the advice to lower maxconn to 9 under a limit of 64 could not work).
 */
const MASTER_MAXSOCK = 224;

/** HAProxy 2.6's maxsock for these facts and this maxconn (in master-worker mode, at least its master's). */
export function estimateMaxsock(facts: FdFacts, maxconn: number, o: FdEstimateOptions = {}): number {
  const worker = workerMaxsock(facts, maxconn, o);
  return (o.masterWorker ?? true) ? Math.max(worker, MASTER_MAXSOCK) : worker;
}

/** The worker's own maxsock: what each connection adds to (the fitting maxconn is counted from it). */
export function workerMaxsock(facts: FdFacts, maxconn: number, o: FdEstimateOptions = {}): number {
  const mw = o.masterWorker ?? true;
  const threads = facts.nbthread ?? Math.min(64, Math.max(1, o.cpus ?? availableParallelism()));
  const pipes = facts.maxpipes ?? (facts.splice ? Math.floor(maxconn / 4) : 0);
  const cli = facts.statsSockets > 0 || mw ? 10 + facts.statsSockets + (mw ? 1 : 0) : 0;
  return 2 * maxconn + 2 * pipes + 3 * threads + 10 + cli + facts.listeners + (mw && (o.masterSocket ?? true) ? 11 : 0);
}

export interface FdEnvironment {
  /** Hard RLIMIT_NOFILE of this process (HAProxy inherits it); undefined when unlimited/unknown. */
  readonly hardLimit: number | undefined;
  /** CAP_SYS_RESOURCE: HAProxy may raise the hard limit itself (up to fs.nr_open). */
  readonly canRaiseHardLimit: boolean;
  readonly nrOpen?: number;
}

/** The hard "Max open files" column of /proc/<pid>/limits. */
export function parseProcLimits(text: string): number | undefined {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m || m[2] === 'unlimited') return undefined;
  const n = Number(m[2]);
  return Number.isFinite(n) ? n : undefined;
}

/** CAP_SYS_RESOURCE (bit 24) in the CapEff line of /proc/<pid>/status. */
export function hasCapSysResource(statusText: string): boolean {
  const m = /^CapEff:\s*([0-9a-fA-F]+)/m.exec(statusText);
  return m ? (BigInt(`0x${m[1]}`) & (1n << 24n)) !== 0n : false;
}

export interface FdEnvironmentDeps {
  readonly readFile?: (path: string) => Promise<string>;
  /** Runs a sh command, resolves with its stdout. */
  readonly sh?: (command: string) => Promise<string>;
}

const defaultSh = (command: string): Promise<string> =>
  new Promise((resolve, reject) =>
    execFile('sh', ['-c', command], { timeout: 5000 }, (e: Error | null, stdout) => (e ? reject(e) : resolve(stdout))),
  );

/**
 * Reads the fd hard limit (/proc/<pid>/limits, else `ulimit -Hn`) and capabilities of `pid`, the
 * running HAProxy master, which its reloads keep (one adopted from an earlier controller may have
 * been started under another limit than this controller has); of this process (whose limit a new
 * HAProxy inherits) when there is none or it cannot be read.
 */
export async function readFdEnvironment(deps: FdEnvironmentDeps = {}, pid?: number): Promise<FdEnvironment> {
  const read = deps.readFile ?? ((p: string) => fs.readFile(p, 'utf8'));
  const sh = deps.sh ?? defaultSh;
  const tryRead = (p: string): Promise<string | undefined> => read(p).catch(() => undefined);
  const ofMaster = pid === undefined ? undefined : await tryRead(`/proc/${pid}/limits`);
  const who = ofMaster === undefined ? 'self' : String(pid);
  const limits = ofMaster ?? (await tryRead('/proc/self/limits'));
  let hardLimit = limits === undefined ? undefined : parseProcLimits(limits);
  if (limits === undefined) {
    const out = (await sh('ulimit -Hn').catch(() => '')).trim();
    hardLimit = /^\d+$/.test(out) ? Number(out) : undefined;
  }
  const status = await tryRead(`/proc/${who}/status`);
  const nrOpen = Number((await tryRead('/proc/sys/fs/nr_open'))?.trim());
  return {
    hardLimit,
    canRaiseHardLimit: status !== undefined && hasCapSysResource(status),
    ...(Number.isFinite(nrOpen) && nrOpen > 0 ? { nrOpen } : {}),
  };
}

/** HAProxy will start: the fds it needs and may have, when known; `warning` when it lowers its limits to start. */
export interface FdFit {
  readonly needed?: number;
  readonly limit?: number;
  readonly warning?: string;
}

/** HAProxy will refuse to start for want of fds (strict-limits). */
export interface FdShortage {
  readonly needed: number;
  readonly limit: number;
  readonly maxconn: number | undefined;
  /** The largest global maxconn that fits the limit. */
  readonly fittingMaxconn: number;
  readonly message: string;
}

export type FdCheck = Result<FdFit, FdShortage>;

/** Decides, before starting HAProxy, whether it will refuse to start for lack of fds. */
export function checkFdLimits(configText: string, env: FdEnvironment, o: FdEstimateOptions = {}): FdCheck {
  const facts = parseFdFacts(configText);
  if (facts.maxconn === undefined && facts.ulimitN === undefined) return ok({}); // HAProxy sizes maxconn to the limit
  const needed = facts.ulimitN ?? estimateMaxsock(facts, facts.maxconn ?? 0, o);
  const caps = [env.canRaiseHardLimit ? env.nrOpen : env.hardLimit, facts.fdHardLimit].filter(
    (x): x is number => x !== undefined,
  );
  if (caps.length === 0) return ok({ needed });
  const limit = Math.min(...caps);
  if (needed <= limit) return ok({ needed, limit });
  let fitting = 0;
  if (facts.ulimitN === undefined) {
    const perConn = 2 + (facts.maxpipes === undefined && facts.splice ? 0.5 : 0);
    fitting = Math.max(0, Math.floor((limit - workerMaxsock(facts, 0, o)) / perConn));
    while (fitting > 0 && estimateMaxsock(facts, fitting, o) > limit) fitting--;
  }
  const what = facts.ulimitN !== undefined ? `\`ulimit-n ${facts.ulimitN}\`` : `\`maxconn ${facts.maxconn}\``;
  const where =
    facts.fdHardLimit !== undefined && facts.fdHardLimit === limit
      ? `the config's \`fd-hard-limit ${limit}\``
      : 'the fd hard limit of this process';
  if (!facts.strictLimits) {
    return ok({
      needed,
      limit,
      warning: `HAProxy will start with fewer connections than configured: ${what} in global needs ${needed} file descriptors, but ${where} allows ${limit} (\`no strict-limits\` is set, so HAProxy lowers its limits instead of refusing to start).`,
    });
  }
  const lower =
    facts.ulimitN !== undefined
      ? `or lower \`ulimit-n\` in global`
      : fitting > 0
        ? `or lower \`maxconn\` in global to at most ${fitting} with a custom HAPROXY_HEAD template (env var HAPROXY_HEAD or a templates/HAPROXY_HEAD file)`
        : null;
  // Thousands of apps with service ports: their listeners alone do not fit, whatever maxconn is.
  const floor = estimateMaxsock(facts, 0, o);
  const tail =
    lower !== null
      ? ` — ${lower}.`
      : (o.masterWorker ?? true) && floor === MASTER_MAXSOCK
        ? `. A lower \`maxconn\` cannot make room: HAProxy's master process alone asks for ${MASTER_MAXSOCK} in master-worker mode.`
        : `. A lower \`maxconn\` cannot make room: the ${facts.listeners} listeners (each app's service port is one) and threads need ${floor} alone.`;
  const message =
    `HAProxy will refuse to start: ${what} in global needs ${needed} file descriptors ` +
    `(2 × maxconn + listeners + threads), but ${where} allows only ${limit}, and HAProxy 2.3+ exits ` +
    `with "Cannot raise FD limit" (strict-limits). Raise the limit to at least ${needed} where marathon-lb is started ` +
    `— \`ulimit -n ${needed}\` in its shell, \`LimitNOFILE=${needed}\` in its systemd unit, or ` +
    `\`docker run --ulimit nofile=${needed}:${needed}\`${tail}`;
  return err({ needed, limit, maxconn: facts.maxconn, fittingMaxconn: fitting, message });
}
