/**
 * HAProxy's runtime API (the stats socket at `level admin`, or the master's `@1` channel):
 * task-only changes without a reload. Every method resolves with a Result: HAProxy's error
 * answers ("No such server.", "Backend must use a dynamic load balancing …") become failures
 * that name the command.
 */
import { sendAll, type CommandChannel, type HaproxyLogger } from './masterSocket';
import { type Err, type Result, err, ok } from '../result';

export type ServerAdminState = 'ready' | 'drain' | 'maint';

export interface ServerState {
  readonly backend: string;
  readonly backendId: number;
  readonly name: string;
  readonly id: number;
  readonly addr: string;
  readonly port: number | undefined;
  /** 0 stopped, 1 starting, 2 running, 3 stopping. */
  readonly opState: number;
  /** Bit field: 0x01 forced maint, 0x02 inherited maint, 0x04 configured maint, 0x08/0x10 drain, 0x20 resolution maint. */
  readonly adminState: number;
  readonly weight: number;
  readonly inMaintenance: boolean;
  readonly draining: boolean;
  /** srv_check_state: 0x02 configured, 0x04 enabled. */
  readonly checkState: number;
  /** Every column of the line, by HAProxy's header name. */
  readonly raw: Readonly<Record<string, string>>;
}

const MAINT_MASK = 0x01 | 0x02 | 0x04 | 0x20 | 0x40;
const DRAIN_MASK = 0x08 | 0x10;
const NAME = /^[A-Za-z0-9_.:-]+$/;

/** Parses `show servers state [backend]` (format version 1). */
export function parseServersState(text: string): Result<ServerState[]> {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const headerLine = lines.find((l) => l.startsWith('# be_id'));
  if (!headerLine) return err(`unexpected answer to "show servers state": ${firstLine(text) || '(empty)'}`);
  const header = headerLine.slice(1).trim().split(/\s+/);
  const servers: ServerState[] = [];
  for (const line of lines) {
    if (line.startsWith('#') || /^\d+$/.test(line)) continue;
    const cols = line.split(/\s+/);
    const raw: Record<string, string> = {};
    header.forEach((h, i) => (raw[h] = cols[i] ?? ''));
    const num = (k: string): number => Number(raw[k] ?? NaN);
    const admin = num('srv_admin_state');
    const port = num('srv_port');
    servers.push({
      backend: raw.be_name ?? '',
      backendId: num('be_id'),
      name: raw.srv_name ?? '',
      id: num('srv_id'),
      addr: raw.srv_addr ?? '',
      port: Number.isFinite(port) ? port : undefined,
      opState: num('srv_op_state'),
      adminState: admin,
      weight: num('srv_uweight'),
      inMaintenance: (admin & MAINT_MASK) !== 0,
      draining: (admin & DRAIN_MASK) !== 0,
      checkState: num('srv_check_state'),
      raw,
    });
  }
  return ok(servers);
}

/**
 * The server names of a `show servers state` answer (its srv_name column), each line read only up to
 * that column: the health gate needs names alone, and parsing every column of a backend of 20 000
 * servers cost ~100 ms per apply.
 */
export function serverNamesIn(text: string): Result<ReadonlySet<string>> {
  const headerAt = text.indexOf('# be_id');
  if (headerAt < 0) return err(`unexpected answer to "show servers state": ${firstLine(text) || '(empty)'}`);
  const headerEnd = text.indexOf('\n', headerAt);
  const column = text
    .slice(headerAt + 1, headerEnd < 0 ? text.length : headerEnd)
    .trim()
    .split(/\s+/)
    .indexOf('srv_name');
  if (column < 0) return err(`"show servers state" has no srv_name column: ${firstLine(text)}`);
  const names = new Set<string>();
  for (let start = 0; start < text.length;) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    const name = field(text, start, end, column);
    // Comments, the format version line (one number) and blank lines have no such column.
    if (name !== undefined && text[start] !== '#') names.add(name);
    start = end + 1;
  }
  return ok(names);
}

/** The `index`-th whitespace-separated word of text[start, end), or undefined. */
function field(text: string, start: number, end: number, index: number): string | undefined {
  let i = start;
  for (let k = 0; ; k++) {
    while (i < end && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r')) i++;
    if (i >= end) return undefined;
    let j = i;
    while (j < end && text[j] !== ' ' && text[j] !== '\t' && text[j] !== '\r') j++;
    if (k === index) return text.slice(i, j);
    i = j;
  }
}

/** Parses `show stat` CSV into rows keyed by column name. */
function parseStatCsv(text: string): Result<Record<string, string>[]> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const head = lines[0];
  if (!head || !head.startsWith('# ')) return err(`unexpected answer to "show stat": ${firstLine(text) || '(empty)'}`);
  const cols = head.slice(2).split(',');
  return ok(
    lines.slice(1).map((line) => {
      const values = line.split(',');
      const row: Record<string, string> = {};
      cols.forEach((c, i) => c && (row[c] = values[i] ?? ''));
      return row;
    }),
  );
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0] ?? '';
}

export interface DrainOptions {
  /** How long to wait for the server's current sessions to reach 0. */
  readonly timeoutMs: number;
  readonly pollMs?: number;
  /** After the timeout, cut the remaining sessions (`shutdown sessions server`) instead of failing. */
  readonly force?: boolean;
  /** How long a server stays in maintenance before `del server` (see RuntimeUpdater). */
  readonly settleMs?: number;
}

export interface RuntimeApiOptions {
  readonly channel: CommandChannel;
  readonly logger: HaproxyLogger;
  /** Injected for tests; default a real timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

type Expect = 'empty' | RegExp;

/** `set server be/name state …`: ready, drain or maint (the names checked by checkNames). */
export const stateCommand = (backend: string, name: string, state: ServerAdminState): string =>
  `set server ${backend}/${name} state ${state}`;

const expected = (expect: Expect, text: string): boolean => (expect === 'empty' ? text === '' : expect.test(text));

/** A server of a backend, by name. */
export interface ServerRef {
  readonly backend: string;
  readonly name: string;
}

/** How long draining waited, and whether sessions left at the timeout were cut. */
export interface DrainedServers {
  readonly waitedMs: number;
  readonly forced: boolean;
}

export class RuntimeApi {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly opts: RuntimeApiOptions) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.now = opts.now ?? Date.now;
  }

  async showServersState(backend?: string): Promise<Result<ServerState[]>> {
    const text = await this.serversStateText(backend);
    return text.ok ? parseServersState(text.value) : text;
  }

  /** The names of a backend's servers, from `show servers state` (serverNamesIn). */
  async serverNames(backend: string): Promise<Result<ReadonlySet<string>>> {
    const text = await this.serversStateText(backend);
    return text.ok ? serverNamesIn(text.value) : text;
  }

  /** HAProxy's answer to `show servers state [backend]`, or its refusal as a failure naming the command. */
  private async serversStateText(backend: string | undefined): Promise<Result<string>> {
    if (backend !== undefined && !NAME.test(backend)) return err(`invalid backend name ${JSON.stringify(backend)}`);
    const cmd = backend === undefined ? 'show servers state' : `show servers state ${backend}`;
    const answer = await this.opts.channel.send(cmd);
    if (!answer.ok) return answer;
    if (!answer.value.includes('# be_id')) return err(`${cmd}: ${firstLine(answer.value) || 'empty answer'}`);
    return answer;
  }

  async showBackends(): Promise<Result<string[]>> {
    const answer = await this.opts.channel.send('show backend');
    if (!answer.ok) return answer;
    if (!answer.value.startsWith('# name')) return err(`show backend: ${firstLine(answer.value) || 'empty answer'}`);
    return ok(
      answer.value
        .split('\n')
        .slice(1)
        .map((l) => l.trim())
        .filter((l) => l !== ''),
    );
  }

  /** The frontends (and listen sections) whose listeners are paused, from `show stat -1 1 -1`. */
  async pausedFrontends(): Promise<Result<string[]>> {
    const answer = await this.opts.channel.send('show stat -1 1 -1');
    if (!answer.ok) return answer;
    // Parsed only when one may be: at 10 000 apps the answer has 10 000 rows of 80 columns.
    if (answer.value.startsWith('# ') && !answer.value.includes(',PAUSED,')) return ok([]);
    const rows = parseStatCsv(answer.value);
    if (!rows.ok) return rows;
    return ok(rows.value.filter((r) => r.svname === 'FRONTEND' && r.status === 'PAUSED').map((r) => r.pxname!));
  }

  /** `enable frontend` for each: its listeners accept connections again. */
  resumeFrontends(names: readonly string[]): Promise<Result<void>> {
    const bad = names.find((n) => !NAME.test(n));
    if (bad !== undefined) return Promise.resolve(err(`invalid frontend name ${JSON.stringify(bad)}`));
    return this.runAll(names, (n) => `enable frontend ${n}`, 'empty');
  }

  /** Current sessions (`scur`) of one server, from `show stat`. */
  async serverSessions(backend: string, name: string): Promise<Result<number>> {
    const bad = checkNames(backend, name);
    if (bad) return bad;
    const scur = await this.backendSessions(backend);
    if (!scur.ok) return scur;
    const n = scur.value.get(name);
    return n === undefined ? err(`show stat: no server ${backend}/${name}`) : ok(n);
  }

  /**
   * Current sessions of each server of a backend, from `show stat <backend id> 4 -1`. By its number:
   * `show stat <name>` takes the first proxy of that name, and marathon-lb names each app's frontend
   * like its backend (`app_10000`), so it listed no servers and draining never waited for a request.
   */
  private async backendSessions(backend: string, ids?: Map<string, number>): Promise<Result<Map<string, number>>> {
    const scur = new Map<string, number>();
    let id = ids?.get(backend);
    if (id === undefined) {
      const servers = await this.showServersState(backend);
      if (!servers.ok) return servers;
      id = servers.value[0]?.backendId;
      if (id === undefined) return ok(scur); // no servers
      ids?.set(backend, id);
    }
    const answer = await this.opts.channel.send(`show stat ${id} 4 -1`);
    if (!answer.ok) return answer;
    const rows = parseStatCsv(answer.value);
    if (!rows.ok) return rows;
    for (const r of rows.value)
      if (r.pxname === backend && r.svname !== undefined) scur.set(r.svname, Number(r.scur ?? 0));
    return ok(scur);
  }

  /** `add server be/name addr:port options…`: the server starts in maintenance (see enableServer). */
  addServer(
    backend: string,
    name: string,
    addr: string,
    port: number | undefined,
    options: string | readonly string[] = [],
  ): Promise<Result<string>> {
    const opts = typeof options === 'string' ? options.trim() : options.join(' ');
    if (/[;\\#]/.test(opts))
      return Promise.resolve(err(`add server ${backend}/${name}: refusing options with ; \\ or #: ${opts}`));
    if (!/^[A-Za-z0-9_.:@\-[\]/]+$/.test(addr))
      return Promise.resolve(err(`add server ${backend}/${name}: invalid address ${JSON.stringify(addr)}`));
    const target = port === undefined ? addr : `${addr}:${port}`;
    return this.run(
      backend,
      name,
      `add server ${backend}/${name} ${target}${opts ? ` ${opts}` : ''}`,
      /New server registered/,
    );
  }

  enableServer(backend: string, name: string): Promise<Result<string>> {
    return this.run(backend, name, `enable server ${backend}/${name}`, 'empty');
  }

  setServerState(backend: string, name: string, state: ServerAdminState): Promise<Result<string>> {
    return this.run(backend, name, stateCommand(backend, name, state), 'empty');
  }

  setServerAddr(backend: string, name: string, addr: string, port?: number): Promise<Result<string>> {
    if (!/^[A-Za-z0-9_.:\-[\]]+$/.test(addr))
      return Promise.resolve(err(`set server ${backend}/${name} addr: invalid address ${JSON.stringify(addr)}`));
    const portPart = port === undefined ? '' : ` port ${port}`;
    return this.run(
      backend,
      name,
      `set server ${backend}/${name} addr ${addr}${portPart}`,
      /changed|no need to change/,
    );
  }

  /** Absolute weight 0–256, or a percentage string such as "50%". */
  setServerWeight(backend: string, name: string, weight: number | string): Promise<Result<string>> {
    if (!/^\d+%?$/.test(String(weight)))
      return Promise.resolve(err(`set server ${backend}/${name} weight: invalid weight ${JSON.stringify(weight)}`));
    return this.run(backend, name, `set server ${backend}/${name} weight ${weight}`, 'empty');
  }

  /** Only a server in maintenance without connections can be deleted (see drainAndDelete). */
  delServer(backend: string, name: string): Promise<Result<string>> {
    return this.run(backend, name, `del server ${backend}/${name}`, /Server deleted/);
  }

  enableHealth(backend: string, name: string): Promise<Result<string>> {
    return this.run(backend, name, `enable health ${backend}/${name}`, 'empty');
  }

  /**
   * drain → wait (bounded) until the server has no current sessions → maint → del server.
   * Resolves with how long it waited; a server that still has sessions after the timeout is a
   * failure unless `force`, which cuts them first.
   */
  drainAndDelete(backend: string, name: string, o: DrainOptions): Promise<Result<DrainedServers>> {
    return this.drainAndDeleteAll([{ backend, name }], o);
  }

  /**
   * drainAndDelete for many servers at once, each step one exchange for all of them (sendAll), and
   * one wait for all: a scale-down of 500 tasks is a handful of exchanges, not 2 000 commands and
   * 500 waits one after another. The first server HAProxy refuses is the error (the others of that
   * step went through).
   */
  async drainAndDeleteAll(servers: readonly ServerRef[], o: DrainOptions): Promise<Result<DrainedServers>> {
    for (const s of servers) {
      const bad = checkNames(s.backend, s.name);
      if (bad) return bad;
    }
    const drained = await this.runAll(servers, (s) => stateCommand(s.backend, s.name, 'drain'), 'empty');
    if (!drained.ok) return drained;
    const start = this.now();
    let forced = false;
    let busy = servers;
    const ids = new Map<string, number>();
    for (;;) {
      const sessions = await this.sessionsOf(busy, ids);
      if (!sessions.ok) return sessions;
      const still = busy.map((s, i) => ({ s, n: sessions.value[i]! })).filter((x) => x.n > 0);
      busy = still.map((x) => x.s);
      if (busy.length === 0) break;
      if (this.now() - start >= o.timeoutMs) {
        if (!o.force) {
          const counts = still.map(({ s, n }) => `${s.backend}/${s.name} still has ${n} session(s)`);
          return err(`${counts.join(', ')} after ${o.timeoutMs} ms of draining; left in drain`);
        }
        for (const { s, n } of still)
          this.opts.logger.warn(
            `${s.backend}/${s.name}: cutting ${n} session(s) left after ${o.timeoutMs} ms of draining`,
          );
        const cut = await this.runAll(busy, (s) => `shutdown sessions server ${s.backend}/${s.name}`, 'empty');
        if (!cut.ok) return cut;
        forced = true;
        break;
      }
      await this.sleep(o.pollMs ?? 100);
    }
    const maint = await this.runAll(servers, (s) => stateCommand(s.backend, s.name, 'maint'), 'empty');
    if (!maint.ok) return maint;
    if (o.settleMs !== undefined && o.settleMs > 0) await this.sleep(o.settleMs);
    const waitedMs = this.now() - start;
    // Sessions just cut may take a moment to be released: those deletes are retried briefly.
    let left = servers;
    for (let attempt = 0; ; attempt++) {
      const cmds = left.map((s) => `del server ${s.backend}/${s.name}`);
      const answers = await sendAll(this.opts.channel, cmds);
      if (!answers.ok) return err(`${cmds[0]}: ${answers.error}`);
      const again: ServerRef[] = [];
      for (let i = 0; i < left.length; i++) {
        const text = answers.value[i]!.trim();
        if (/Server deleted/.test(text)) continue;
        if (attempt >= 20 || !/connections attached|still has/i.test(text))
          return err(`${cmds[i]}: ${text || 'empty answer'}`);
        again.push(left[i]!);
      }
      if (again.length === 0) return ok({ waitedMs, forced });
      left = again;
      await this.sleep(o.pollMs ?? 100);
    }
  }

  /**
   * Current sessions of each server (backendSessions, once per backend); a server it does not list has
   * none. `ids`: the backends' ids found by earlier polls of one drain (no reload comes in between).
   */
  private async sessionsOf(servers: readonly ServerRef[], ids: Map<string, number>): Promise<Result<number[]>> {
    const byBackend = new Map<string, Map<string, number>>();
    for (const s of servers) {
      if (byBackend.has(s.backend)) continue;
      const scur = await this.backendSessions(s.backend, ids);
      if (!scur.ok) return scur;
      byBackend.set(s.backend, scur.value);
    }
    return ok(servers.map((s) => byBackend.get(s.backend)!.get(s.name) ?? 0));
  }

  /** One command per item (a server, a frontend), many to an exchange; the first answer that is not `expect` is the error. */
  private async runAll<T>(items: readonly T[], command: (item: T) => string, expect: Expect): Promise<Result<void>> {
    const cmds = items.map(command);
    const answers = await sendAll(this.opts.channel, cmds);
    if (!answers.ok) return err(`${cmds[0]}: ${answers.error}`);
    for (let i = 0; i < cmds.length; i++) {
      const text = answers.value[i]!.trim();
      if (!expected(expect, text)) return err(`${cmds[i]}: ${text || 'empty answer'}`);
    }
    return ok(undefined);
  }

  private async run(backend: string, name: string, cmd: string, expect: Expect): Promise<Result<string>> {
    const bad = checkNames(backend, name);
    if (bad) return bad;
    const answer = await this.opts.channel.send(cmd);
    if (!answer.ok) return err(`${cmd}: ${answer.error}`);
    const text = answer.value.trim();
    if (!expected(expect, text)) return err(`${cmd}: ${text || 'empty answer'}`);
    this.opts.logger.debug(`haproxy: ${cmd}${text ? ` → ${text}` : ''}`);
    return ok(text);
  }
}

/** A backend and server name the runtime API can take as words; an error naming the bad one otherwise. */
export function checkNames(backend: string, name: string): Err<string> | undefined {
  if (!NAME.test(backend)) return err(`invalid backend name ${JSON.stringify(backend)}`);
  if (!NAME.test(name)) return err(`invalid server name ${JSON.stringify(name)}`);
  return undefined;
}
