/**
 * HAProxy's `show stat` CSV as typed rows: what the admin API shows of HAProxy's own view (server
 * states, check results, sessions, request and 5xx counters). Pure; the reading is in stateReader.ts.
 */
import { HAPROXY_SERVER_STATES, type HaproxyServerState } from '../admin/statusTypes';
import { type Result, err, ok } from '../result';

export interface StatServer {
  readonly backend: string;
  readonly name: string;
  readonly state: HaproxyServerState;
  /** HAProxy's status text as is. */
  readonly status: string;
  readonly checked: boolean;
  /** check_status without the "* " of a check in progress; '' when none. */
  readonly checkStatus: string;
  readonly checkCode: number | null;
  readonly checkDescription: string;
  readonly checkDurationMs: number | null;
  /** Seconds since the last state change (lastchg); null when HAProxy does not say. */
  readonly secondsSinceChange: number | null;
  readonly currentSessions: number;
  readonly http5xxTotal: number;
}

export interface StatProxy {
  readonly name: string;
  readonly kind: 'frontend' | 'backend';
  readonly status: string;
  readonly currentSessions: number;
  /** HTTP requests (req_tot) of an HTTP proxy, sessions (stot) otherwise: a counter. */
  readonly requestsTotal: number;
  readonly http5xxTotal: number;
}

/** One read of `show stat`. `at`: epoch ms when it was read. */
export interface StatSample {
  readonly at: number;
  readonly proxies: readonly StatProxy[];
  /** Every server, in HAProxy's order (each read from its row when first asked for). */
  readonly servers: readonly StatServer[];
  /** One server; undefined when HAProxy does not list it. */
  server(backend: string, name: string): StatServer | undefined;
  /** How many servers are in each state. */
  readonly byState: Readonly<Record<HaproxyServerState, number>>;
}

/** HAProxy's names hold no comma (its CSV would not either). */
const serverKey = (backend: string, name: string): string => `${backend},${name}`;

const int = (s: string | undefined): number => {
  const n = Number(s);
  return s === undefined || s === '' || !Number.isFinite(n) ? 0 : n;
};
const intOrNull = (s: string | undefined): number | null =>
  s === undefined || s === '' || !Number.isFinite(Number(s)) ? null : Number(s);

const STATES = ['MAINT', 'DRAIN', 'NOLB', 'DOWN', 'UP'] as const;
/** By status text: a few distinct texts among 30 000 servers. */
const stateOf = new Map<string, { readonly state: HaproxyServerState; readonly checked: boolean }>();

/** `show stat` status → state: "UP 1/3" (going down) is still UP, "DOWN 1/2" (coming up) still DOWN. */
export function serverState(status: string): { readonly state: HaproxyServerState; readonly checked: boolean } {
  const known = stateOf.get(status);
  if (known !== undefined) return known;
  const s = status.trim().toUpperCase();
  let found: { readonly state: HaproxyServerState; readonly checked: boolean } = { state: 'UNKNOWN', checked: true };
  if (s === 'NO CHECK') found = { state: 'UP', checked: false };
  else {
    const state = STATES.find((t) => s === t || s.startsWith(`${t} `) || s.startsWith(`${t}(`));
    if (state !== undefined) found = { state, checked: true };
  }
  if (stateOf.size < 1000) stateOf.set(status, found);
  return found;
}

/** The columns read; the others (about 100 in all) are never sliced out of the line. */
const COLUMNS = [
  'pxname',
  'svname',
  'type',
  'hrsp_5xx',
  'mode',
  'req_tot',
  'status',
  'scur',
  'stot',
  'check_status',
  'check_code',
  'check_desc',
  'check_duration',
  'lastchg',
] as const;
/** Each read column's place in COLUMNS (and so in a row's values). */
const COL = Object.fromEntries(COLUMNS.map((name, k) => [name, k])) as {
  readonly [Name in (typeof COLUMNS)[number]]: number;
};

/** How many rows of `show stat` a sample read (its proxies and servers; listeners are skipped). */
export function statRows(s: StatSample): number {
  let servers = 0;
  for (const n of Object.values(s.byState)) servers += n;
  return s.proxies.length + servers;
}

/** A string of its own, not a slice of a bigger one (which it would keep alive). */
const ownCopy = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

/** A sample of these rows. */
export function statSample(at: number, proxies: readonly StatProxy[], servers: readonly StatServer[]): StatSample {
  const byState = noneByState();
  for (const v of servers) byState[v.state]++;
  const index = new Map(servers.map((v) => [serverKey(v.backend, v.name), v]));
  return { at, proxies, servers, server: (backend, name) => index.get(serverKey(backend, name)), byState };
}

/** Parses a whole `show stat` answer (see StatReader). */
export function parseStatSample(text: string, at: number): Result<StatSample> {
  const reader = new StatReader(at);
  reader.push(text);
  return reader.end();
}

const QUOTE = 34;
const noneByState = (): Record<HaproxyServerState, number> =>
  Object.fromEntries(HAPROXY_SERVER_STATES.map((s) => [s, 0])) as Record<HaproxyServerState, number>;

/** Columns read, in line order: [column number, index in COLUMNS]. */
type Wanted = readonly (readonly [number, number])[];

/**
 * Cuts the wanted columns out of a line into `v` (by COLUMNS index), walking its commas, from
 * wanted[w] on and up to column `upTo`; returns the next wanted entry. A field HAProxy quoted (its
 * csv_enc: one holding a comma or a quote, `""` for a quote) is read whole and unquoted: a server's
 * last check text is what its own HTTP answer said (`503 0,1,…,FORGED`), and split at its commas it
 * wrote the columns after it in /status (an audit).
 */
function cut(
  text: string,
  start: number,
  end: number,
  wanted: Wanted,
  v: (string | undefined)[],
  upTo: number,
): number {
  let w = 0;
  let col = 0;
  for (let i = start; i <= end && w < wanted.length && col <= upTo; col++) {
    const quoted = i < end && text.charCodeAt(i) === QUOTE;
    let after = i; // where the field's comma is looked for from
    if (quoted) {
      after = i + 1;
      for (;;) {
        const q = text.indexOf('"', after);
        if (q < 0 || q >= end) {
          after = end;
          break;
        }
        after = q + 1;
        if (text.charCodeAt(after) !== QUOTE) break;
        after++; // "" inside: a quote
      }
    }
    let next = text.indexOf(',', after);
    if (next < 0 || next > end) next = end;
    if (wanted[w]![0] === col)
      v[wanted[w++]![1]] = quoted
        ? text.slice(i + 1, Math.max(i + 1, after - 1)).replaceAll('""', '"')
        : text.slice(i, next);
    i = next + 1;
  }
  return w;
}

/** A value as a field of a compact row: quoted as HAProxy quotes one, when it holds a comma or a quote. */
const field = (s: string | undefined): string =>
  s === undefined ? '' : s.includes(',') || s.includes('"') ? `"${s.replaceAll('"', '""')}"` : s;

/** A server row's columns as a StatServer. */
function serverOf(v: readonly (string | undefined)[]): StatServer {
  const status = v[COL.status] ?? '';
  const { state, checked } = serverState(status);
  const checkStatus = v[COL.check_status] ?? '';
  return {
    backend: v[COL.pxname] ?? '',
    name: v[COL.svname] ?? '',
    state,
    status,
    checked,
    checkStatus: checkStatus.startsWith('*') ? checkStatus.replace(/^\*\s*/, '') : checkStatus,
    checkCode: intOrNull(v[COL.check_code]),
    checkDescription: v[COL.check_desc] ?? '',
    checkDurationMs: intOrNull(v[COL.check_duration]),
    secondsSinceChange: intOrNull(v[COL.lastchg]),
    currentSessions: int(v[COL.scur]),
    http5xxTotal: int(v[COL.hrsp_5xx]),
  };
}

/** A compact row's columns: all of COLUMNS, in their order. */
const COMPACT: Wanted = COLUMNS.map((_, k) => [k, k] as const);

/**
 * The server rows of one read, kept as compact lines (the read columns only, comma-joined, quoted as
 * HAProxy quotes them): each is read into a StatServer when first asked for (the admin API's
 * pages), not at every read: at 10 000 backends a read has 30 000 of them.
 */
class ServerRows {
  private readonly parsed: (StatServer | undefined)[] = [];
  private index: Map<string, number> | null = null;
  private all: readonly StatServer[] | null = null;

  constructor(private readonly lines: readonly string[]) {}

  row(i: number): StatServer {
    let v = this.parsed[i];
    if (v === undefined) {
      const line = this.lines[i]!;
      const values: (string | undefined)[] = COLUMNS.map(() => undefined);
      cut(line, 0, line.length, COMPACT, values, Number.POSITIVE_INFINITY);
      v = this.parsed[i] = serverOf(values);
    }
    return v;
  }

  servers(): readonly StatServer[] {
    return (this.all ??= this.lines.map((_, i) => this.row(i)));
  }

  find(backend: string, name: string): StatServer | undefined {
    if (this.index === null) {
      this.index = new Map();
      for (let i = 0; i < this.lines.length; i++) {
        const v = this.row(i);
        this.index.set(serverKey(v.backend, v.name), i);
      }
    }
    const i = this.index.get(serverKey(backend, name));
    return i === undefined ? undefined : this.row(i);
  }
}

/**
 * Parses `show stat` (all proxies, all objects) piece by piece as it arrives: each push reads the
 * lines it completes, so the work of 40 000 rows (10 000 backends) is spread over the socket's
 * chunks instead of one block after the whole answer; listeners are skipped. Of a server row only
 * its state is read here (for the counts by state); the rest when asked for (ServerRows).
 */
export class StatReader {
  private carry = '';
  /** Null until the header line. */
  private wanted: Wanted | null = null;
  /** The last column a server row is read up to here: its name, state and type. */
  private typeColumn = 0;
  /** The answer so far, kept only when it is not `show stat` (for the error). */
  private refused: string | null = null;
  private rows = 0;
  private readonly values: (string | undefined)[] = COLUMNS.map(() => undefined);
  private readonly proxies: StatProxy[] = [];
  private readonly serverLines: string[] = [];
  private readonly byState = noneByState();

  constructor(private readonly at: number) {}

  /** The last two characters of the answer so far: HAProxy ends a whole answer with an empty line. */
  private lastTwo = '';

  /**
   * Whether the answer pushed so far lacks HAProxy's closing empty line: cut short, as when the
   * master re-executes for a reload while it answers (a dump of 950 rows of 2 000 was taken whole,
   * and the history of the backends it lacked thrown away; found by a soak test).
   */
  cutShort(): boolean {
    return this.lastTwo !== '\n\n';
  }

  /** The next piece of the answer (any split, lines included). */
  push(piece: string): void {
    this.lastTwo = piece.length >= 2 ? piece.slice(-2) : (this.lastTwo + piece).slice(-2);
    if (this.refused !== null) {
      this.refused += piece;
      return;
    }
    const first = piece.indexOf('\n');
    if (first < 0) {
      this.carry += piece;
      return;
    }
    // The line begun in the last piece on its own: the rest is read in the piece itself (a flat string).
    const head = this.carry + piece.slice(0, first);
    this.carry = '';
    this.line(head, 0, head.length);
    if (this.refused !== null) {
      this.refused = `${head}${piece.slice(first)}`;
      return;
    }
    let start = first + 1;
    for (let end = piece.indexOf('\n', start); end >= 0; end = piece.indexOf('\n', start)) {
      this.line(piece, start, end);
      start = end + 1;
      if (this.refused !== null) {
        this.refused = `${head}${piece.slice(first)}`;
        return;
      }
    }
    this.carry = piece.slice(start);
  }

  /** The sample, once the whole answer was pushed. */
  end(): Result<StatSample> {
    const last = this.carry;
    this.carry = '';
    if (this.refused === null && last !== '') {
      this.line(last, 0, last.length);
      if (this.refused !== null) this.refused = last;
    }
    const text = this.refused ?? (this.wanted === null ? '' : null);
    if (text !== null) return err(`unexpected answer to "show stat": ${text.trim().split('\n')[0] || '(empty)'}`);
    if (this.rows > 0 && this.proxies.length === 0 && this.serverLines.length === 0)
      return err('show stat: no proxy rows (is the type column missing?)');
    const rows = new ServerRows(this.serverLines);
    return ok({
      at: this.at,
      proxies: this.proxies,
      get servers() {
        return rows.servers();
      },
      server: (backend, name) => rows.find(backend, name),
      byState: this.byState,
    });
  }

  private line(text: string, start: number, end: number): void {
    if (this.wanted === null) return this.header(text.slice(start, end));
    if (end === start) return;
    const c0 = text.charCodeAt(start);
    if ((c0 <= 32 || c0 > 126) && text.slice(start, end).trim() === '') return;
    this.rows++;
    const wanted = this.wanted;
    const v = this.values;
    v.fill(undefined);
    const w = cut(text, start, end, wanted, v, this.typeColumn);
    const px = v[COL.pxname];
    if (px === undefined || v[COL.svname] === undefined || px === '') return;
    // type: 0 frontend, 1 backend, 2 server, 3 listener
    const type = v[COL.type];
    if (type === '2') {
      this.byState[serverState(v[COL.status] ?? '').state]++;
      if (w < wanted.length) cut(text, start, end, wanted, v, Number.POSITIVE_INFINITY);
      // A new flat string: a slice of the piece would keep the whole piece (and so the read) alive.
      this.serverLines.push(v.map(field).join(','));
    } else if (type === '0' || type === '1') {
      if (w < wanted.length) {
        v.fill(undefined);
        cut(text, start, end, wanted, v, Number.POSITIVE_INFINITY);
      }
      this.proxies.push(proxyOf(v, type === '0' ? 'frontend' : 'backend'));
    }
  }

  private header(head: string): void {
    if (!head.startsWith('# ')) {
      this.refused = '';
      return;
    }
    const names = head.slice(2).split(',');
    const wanted = COLUMNS.map((c, k) => [names.indexOf(c), k] as const)
      .filter(([i]) => i >= 0)
      .sort((a, b) => a[0] - b[0]);
    this.wanted = wanted;
    this.typeColumn = Math.max(
      ...wanted
        .filter(([, k]) => k === COL.pxname || k === COL.svname || k === COL.type || k === COL.status)
        .map(([i]) => i),
      0,
    );
  }
}

function proxyOf(v: readonly (string | undefined)[], kind: 'frontend' | 'backend'): StatProxy {
  const mode = v[COL.mode];
  const req = v[COL.req_tot];
  const http = mode === 'http' || (mode === undefined && req !== '' && req !== undefined);
  return {
    name: ownCopy(v[COL.pxname]!), // not a slice of the piece, which it would keep alive
    kind,
    status: v[COL.status] ?? '',
    currentSessions: int(v[COL.scur]),
    requestsTotal: http ? int(req) : int(v[COL.stot]),
    http5xxTotal: int(v[COL.hrsp_5xx]),
  };
}
