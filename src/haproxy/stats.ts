/**
 * HAProxy's `show stat` CSV as typed rows: what the admin API shows of HAProxy's own view (server
 * states, check results, sessions, request and 5xx counters). Pure; the reading is in stateReader.ts.
 */
import type { HaproxyServerState } from '../admin/statusTypes';
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
  readonly servers: readonly StatServer[];
}

const int = (s: string | undefined): number => {
  const n = Number(s);
  return s === undefined || s === '' || !Number.isFinite(n) ? 0 : n;
};
const intOrNull = (s: string | undefined): number | null =>
  s === undefined || s === '' || !Number.isFinite(Number(s)) ? null : Number(s);

/** `show stat` status → state: "UP 1/3" (going down) is still UP, "DOWN 1/2" (coming up) still DOWN. */
export function serverState(status: string): { readonly state: HaproxyServerState; readonly checked: boolean } {
  const s = status.trim().toUpperCase();
  if (s === 'NO CHECK') return { state: 'UP', checked: false };
  for (const state of ['MAINT', 'DRAIN', 'NOLB', 'DOWN', 'UP'] as const) {
    if (s === state || s.startsWith(`${state} `) || s.startsWith(`${state}(`)) return { state, checked: true };
  }
  return { state: 'UNKNOWN', checked: true };
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
type Column = (typeof COLUMNS)[number];

/**
 * Parses `show stat` (all proxies, all objects); listeners are skipped. Column by column with
 * indexOf, without an object per row: at 10 000 backends the answer has 40 000 rows of ~100 columns,
 * read every few seconds, and splitting them into records cost the controller seconds of CPU a minute.
 */
export function parseStatSample(text: string, at: number): Result<StatSample> {
  const headEnd = text.indexOf('\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  if (!head.startsWith('# '))
    return err(`unexpected answer to "show stat": ${text.trim().split('\n')[0] || '(empty)'}`);
  const names = head.slice(2).split(',');
  const wanted = COLUMNS.map((c) => ({ c, i: names.indexOf(c) }))
    .filter((w) => w.i >= 0)
    .sort((a, b) => a.i - b.i);
  const last = wanted.length === 0 ? -1 : wanted[wanted.length - 1]!.i;
  const proxies: StatProxy[] = [];
  const servers: StatServer[] = [];
  let rows = 0;
  const r: Partial<Record<Column, string>> = {};
  for (let start = headEnd < 0 ? text.length : headEnd + 1; start < text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const lineStart = start;
    start = end + 1;
    if (end - lineStart === 0 || text.slice(lineStart, end).trim() === '') continue;
    rows++;
    for (const c of COLUMNS) r[c] = undefined;
    let col = 0;
    let pos = lineStart;
    let w = 0;
    while (col <= last && pos <= end) {
      let comma = text.indexOf(',', pos);
      if (comma < 0 || comma > end) comma = end;
      if (wanted[w]!.i === col) r[wanted[w++]!.c] = text.slice(pos, comma);
      col++;
      pos = comma + 1;
    }
    addRow(r, proxies, servers);
  }
  if (rows > 0 && proxies.length === 0 && servers.length === 0)
    return err('show stat: no proxy rows (is the type column missing?)');
  return ok({ at, proxies, servers });
}

function addRow(r: Partial<Record<Column, string>>, proxies: StatProxy[], servers: StatServer[]): void {
  const px = r.pxname;
  const sv = r.svname;
  if (px === undefined || sv === undefined || px === '') return;
  // type: 0 frontend, 1 backend, 2 server, 3 listener
  const type = r.type;
  const total5xx = int(r.hrsp_5xx);
  if (type === '0' || type === '1') {
    const http = r.mode === 'http' || (r.mode === undefined && r.req_tot !== '' && r.req_tot !== undefined);
    proxies.push({
      name: px,
      kind: type === '0' ? 'frontend' : 'backend',
      status: r.status ?? '',
      currentSessions: int(r.scur),
      requestsTotal: http ? int(r.req_tot) : int(r.stot),
      http5xxTotal: total5xx,
    });
  } else if (type === '2') {
    const status = r.status ?? '';
    const { state, checked } = serverState(status);
    servers.push({
      backend: px,
      name: sv,
      state,
      status,
      checked,
      checkStatus: (r.check_status ?? '').replace(/^\*\s*/, ''),
      checkCode: intOrNull(r.check_code),
      checkDescription: r.check_desc ?? '',
      checkDurationMs: intOrNull(r.check_duration),
      secondsSinceChange: intOrNull(r.lastchg),
      currentSessions: int(r.scur),
      http5xxTotal: total5xx,
    });
  }
}
