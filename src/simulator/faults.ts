/**
 * Fault injection settings (pure data + parsing). The server consults the active set on each request;
 * `{"stream":"close"}` is a one-shot action, everything else stays until `DELETE /_sim/faults`.
 */
import { err, ok, type Result } from '../result';

export type AppsFault =
  | { readonly kind: '503' }
  | { readonly kind: 'slow'; readonly delayMs: number }
  | { readonly kind: 'invalid-json' }
  | { readonly kind: 'wrong-shape' }
  /** The query's `embed` is lost on the way (a proxy's rewrite): apps come without their tasks. */
  | { readonly kind: 'no-embed' };

export interface Faults {
  /**
   * `hang`: SSE streams go silent — new ones get no bytes at all (not even headers), open ones stop.
   * `endless-line`: open and new streams get `data: ` followed by a line that never ends (as fast as
   * the client reads), until the client drops them.
   * `mute`: new streams get their status line and headers, then no byte (no greeting, no heartbeat).
   */
  readonly stream?: 'hang' | 'endless-line' | 'mute';
  /** What `GET /v2/apps…` answers. */
  readonly apps?: AppsFault;
  /** Whole Marathon API down: `refuse` destroys sockets, `503` answers 503. `/_sim/` keeps working. */
  readonly all?: 'refuse' | '503';
  /** Raw values appended verbatim to the `apps` list of `GET /v2/apps`: hostile or malformed apps no real app definition could hold. */
  readonly extraApps?: readonly unknown[];
}

export interface FaultRequest {
  readonly faults: Faults;
  /** Close the open SSE streams now. */
  readonly closeStreams: boolean;
}

export const NO_FAULTS: Faults = {};
const MAX_DELAY_MS = 600_000;

const USAGE =
  'expected one of {"stream":"hang"|"endless-line"|"mute"|"close"}, {"apps":"503"|"invalid-json"|"wrong-shape"|"no-embed"}, ' +
  '{"apps":"slow","delayMs":N}, {"all":"down"} (optionally "as":"503"), {"extraApps":[...]}';

/** Parses a `POST /_sim/faults` body and merges it into the active faults. */
export function parseFaultRequest(body: unknown, current: Faults): Result<FaultRequest> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return err(USAGE);
  const b = body as Record<string, unknown>;
  let faults: Faults = current;
  let closeStreams = false;
  let recognized = false;
  if (b['stream'] !== undefined) {
    recognized = true;
    if (b['stream'] === 'hang' || b['stream'] === 'endless-line' || b['stream'] === 'mute')
      faults = { ...faults, stream: b['stream'] };
    else if (b['stream'] === 'close') closeStreams = true;
    else return err(`unknown stream fault ${JSON.stringify(b['stream'])}: ${USAGE}`);
  }
  if (b['apps'] !== undefined) {
    recognized = true;
    const kind = b['apps'];
    if (kind === '503' || kind === 503 || kind === 'invalid-json' || kind === 'wrong-shape' || kind === 'no-embed') {
      faults = { ...faults, apps: { kind: kind === 503 ? '503' : kind } as AppsFault };
    } else if (kind === 'slow') {
      const delayMs = b['delayMs'];
      if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0 || delayMs > MAX_DELAY_MS) {
        return err(`{"apps":"slow"} needs "delayMs" between 0 and ${MAX_DELAY_MS}`);
      }
      faults = { ...faults, apps: { kind: 'slow', delayMs } };
    } else return err(`unknown apps fault ${JSON.stringify(kind)}: ${USAGE}`);
  }
  if (b['all'] !== undefined) {
    recognized = true;
    if (b['all'] !== 'down') return err(`unknown all fault ${JSON.stringify(b['all'])}: ${USAGE}`);
    faults = { ...faults, all: b['as'] === '503' || b['as'] === 503 ? '503' : 'refuse' };
  }
  if (b['extraApps'] !== undefined) {
    recognized = true;
    if (!Array.isArray(b['extraApps'])) return err(`{"extraApps"} needs an array of raw app values: ${USAGE}`);
    // Checked before it is installed: /v2/apps answers would fail on it until the fault is cleared.
    const unsendable = unsendableReason(b['extraApps']);
    if (unsendable !== null) return err(`{"extraApps"} cannot be sent as JSON: ${unsendable}`);
    faults = { ...faults, extraApps: b['extraApps'] as unknown[] };
  }
  return recognized ? ok({ faults, closeStreams }) : err(USAGE);
}

/** JSON view of the active faults, in the same vocabulary as the POST body. */
export function describeFaults(f: Faults): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (f.stream) out['stream'] = f.stream;
  if (f.apps)
    Object.assign(out, f.apps.kind === 'slow' ? { apps: 'slow', delayMs: f.apps.delayMs } : { apps: f.apps.kind });
  if (f.all) Object.assign(out, { all: 'down', as: f.all });
  if (f.extraApps) out['extraApps'] = f.extraApps;
  return out;
}

/** Why JSON.stringify cannot write `v` (nested deeper than its recursion goes), or null. */
function unsendableReason(v: unknown): string | null {
  try {
    JSON.stringify(v);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
