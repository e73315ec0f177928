/**
 * HAProxy's `show stat` CSV as typed rows: what the admin API shows of HAProxy's own view (server
 * states, check results, sessions, request and 5xx counters). Pure; the reading is in stateReader.ts.
 */
import type { HaproxyServerState } from '../admin/statusTypes';
import { fail, ok, type Result } from './masterSocket';
import { parseStatCsv } from './runtimeApi';

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
const intOrNull = (s: string | undefined): number | null => (s === undefined || s === '' || !Number.isFinite(Number(s)) ? null : Number(s));

/** `show stat` status → state: "UP 1/3" (going down) is still UP, "DOWN 1/2" (coming up) still DOWN. */
export function serverState(status: string): { readonly state: HaproxyServerState; readonly checked: boolean } {
  const s = status.trim().toUpperCase();
  if (s === 'NO CHECK') return { state: 'UP', checked: false };
  for (const state of ['MAINT', 'DRAIN', 'NOLB', 'DOWN', 'UP'] as const) {
    if (s === state || s.startsWith(`${state} `) || s.startsWith(`${state}(`)) return { state, checked: true };
  }
  return { state: 'UNKNOWN', checked: true };
}

/** Parses `show stat` (all proxies, all objects); listeners are skipped. */
export function parseStatSample(text: string, at: number): Result<StatSample> {
  const rows = parseStatCsv(text);
  if (!rows.ok) return rows;
  const proxies: StatProxy[] = [];
  const servers: StatServer[] = [];
  for (const r of rows.value) {
    const px = r['pxname'];
    const sv = r['svname'];
    if (px === undefined || sv === undefined || px === '') continue;
    // type: 0 frontend, 1 backend, 2 server, 3 listener
    const type = r['type'];
    const total5xx = int(r['hrsp_5xx']);
    if (type === '0' || type === '1') {
      const http = r['mode'] === 'http' || (r['mode'] === undefined && r['req_tot'] !== '' && r['req_tot'] !== undefined);
      proxies.push({
        name: px, kind: type === '0' ? 'frontend' : 'backend', status: r['status'] ?? '',
        currentSessions: int(r['scur']), requestsTotal: http ? int(r['req_tot']) : int(r['stot']), http5xxTotal: total5xx,
      });
    } else if (type === '2') {
      const status = r['status'] ?? '';
      const { state, checked } = serverState(status);
      servers.push({
        backend: px, name: sv, state, status, checked,
        checkStatus: (r['check_status'] ?? '').replace(/^\*\s*/, ''),
        checkCode: intOrNull(r['check_code']),
        checkDescription: r['check_desc'] ?? '',
        checkDurationMs: intOrNull(r['check_duration']),
        secondsSinceChange: intOrNull(r['lastchg']),
        currentSessions: int(r['scur']),
        http5xxTotal: total5xx,
      });
    }
  }
  if (rows.value.length > 0 && proxies.length === 0 && servers.length === 0) return fail('show stat: no proxy rows (is the type column missing?)');
  return ok({ at, proxies, servers });
}
