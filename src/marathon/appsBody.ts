import { MAX_APPS, TooManyAppsError } from './appsBound';
import { GrowingSink, type BodySink } from './bodySink';
import { routedBody } from './routedFields';
import { NOT_JSON, RoutedAppReader } from './routedJson';

/**
 * Decodes `GET /v2/apps?embed=apps.tasks` answers, reusing what did not change since the last one.
 *
 * At 10 000 apps the answer is ~20 MB and a scale changes one app in it: `JSON.parse` of the whole
 * body held the event loop for 200–400 ms per snapshot and made ~100 MB of garbage, and every stage
 * after it compared 10 000 freshly built objects. Here the body is split into its apps' byte ranges
 * (one pass over the bytes, no objects); an app whose bytes equal the last answer's gives the very
 * same object as last time, and only the others are parsed. Stages keyed by object identity
 * (the app check, the model's memo, host names) then skip unchanged apps altogether.
 *
 * Each app is kept cut down to what routing reads (routedFields.ts), read so from its bytes
 * (routedJson.ts): the controller holds the last answer's apps between snapshots, a third of what
 * their whole JSON makes, and the rest is never made.
 *
 * The result equals `routedBody(JSON.parse(body))` for every body: a body that is not exactly
 * `{"apps": [objects…]}` (other keys, escapes in the key, non-object items) is parsed whole, and
 * invalid JSON throws the same SyntaxError-like error. Splitting is sound because an item's bytes
 * parse alone to the value they parse to inside the array, and the bytes between items are checked
 * to be `,` and whitespace.
 */
export class AppsBodyDecoder {
  private last: Decoded | null = null;
  /** Apps reused from the previous answer in the last call (for tests and logs). */
  reused = 0;

  /**
   * Where the next answer's bytes gather: one buffer of about the last answer's size, filled as the
   * chunks come (its pages are touched then, not all at once at the end).
   */
  sink(): BodySink {
    const last = this.last?.raw.length;
    return new GrowingSink(Buffer.allocUnsafeSlow(last === undefined ? 1 << 20 : last + (last >> 3)));
  }

  decode(raw: Buffer): unknown {
    const next = (this.last === null ? null : guidedSplit(raw, this.last)) ?? wholeSplit(raw);
    this.last = next;
    this.reused = next?.reused ?? 0;
    return next === null ? routedBody(JSON.parse(raw.toString('utf8', bomLength(raw)))) : { apps: next.apps };
  }
}

interface Decoded {
  readonly raw: Buffer;
  /** [start, end) of each app, flattened. */
  readonly bounds: readonly number[];
  readonly apps: readonly unknown[];
  /** Where each id first is: built when the next answer first differs (most answers differ in a few apps, in place). */
  byId?: ReadonlyMap<string, number>;
  readonly reused: number;
}

/**
 * The first answer, or one the guided split gave up on: each app read from its bytes, only its
 * routed fields made (routedJson.ts). An app that is not valid JSON: the whole body is parsed for its error.
 */
function wholeSplit(raw: Buffer): Decoded | null {
  const reader = new RoutedAppReader();
  const apps: unknown[] = [];
  const bounds = splitApps(raw, (i) => {
    const app = reader.read(raw, i);
    if (app === NOT_JSON) return -1;
    if (apps.push(app) > MAX_APPS) throw new TooManyAppsError();
    return reader.end;
  });
  return bounds === null ? null : { raw, bounds, apps, reused: 0 };
}

/**
 * The split of an answer guided by the last one: where the bytes at the cursor are those of the
 * app expected there (apps keep their order), that app is taken as it was, without scanning it;
 * otherwise the app is scanned and parsed, and the last answer's app of the same id (moved, or
 * changed in place) sets where the next one is expected. Null when the shape is not the expected one.
 */
function guidedSplit(raw: Buffer, last: Decoded): Decoded | null {
  let i = itemsStart(raw);
  if (i < 0) return null;
  const bounds: number[] = [];
  const apps: unknown[] = [];
  let reader: RoutedAppReader | undefined; // made at the first app that is not reused
  let reused = 0;
  let k = 0; // the last answer's app expected at the cursor
  if (raw[i] !== CLOSE_BRACKET) {
    for (;;) {
      if (raw[i] !== OPEN_BRACE) return null;
      const run = k < last.apps.length ? sameRun(raw, i, last, k) : 0;
      let end: number;
      if (run > 0) {
        // A run of apps as they were, byte for byte (separators included): taken without looking inside.
        const shift = i - last.bounds[2 * k]!;
        for (let m = k; m < k + run - 1; m++) {
          bounds.push(last.bounds[2 * m]! + shift, last.bounds[2 * m + 1]! + shift);
          apps.push(last.apps[m]);
        }
        i = last.bounds[2 * (k + run - 1)]! + shift;
        end = last.bounds[2 * (k + run - 1) + 1]! + shift;
        apps.push(last.apps[k + run - 1]);
        reused += run;
        k += run;
      } else {
        const app = (reader ??= new RoutedAppReader()).read(raw, i);
        if (app === NOT_JSON) return null;
        end = reader.end;
        const id = idOf(app);
        const at = id === undefined ? undefined : (last.byId ??= idIndex(last.apps)).get(id);
        if (at !== undefined) k = at + 1;
        if (at !== undefined && sameBytes(raw, i, last, at)) {
          apps.push(last.apps[at]);
          reused++;
        } else apps.push(app);
      }
      if (apps.length > MAX_APPS) throw new TooManyAppsError();
      bounds.push(i, end);
      i = skipSpace(raw, end);
      if (raw[i] === CLOSE_BRACKET) break;
      if (raw[i] !== COMMA) return null;
      i = skipSpace(raw, i + 1);
    }
  }
  if (!closesBody(raw, i)) return null;
  return { raw, bounds, apps, reused };
}

function idIndex(apps: readonly unknown[]): Map<string, number> {
  const byId = new Map<string, number>();
  for (let k = 0; k < apps.length; k++) {
    const id = idOf(apps[k]);
    if (id !== undefined && !byId.has(id)) byId.set(id, k);
  }
  return byId;
}

/**
 * How many of the last answer's apps from `k` on are at `start` in `raw` as they were, with the same
 * bytes between them: galloping, then halving the block that differs, so an unchanged run costs a
 * few native comparisons of its bytes instead of one call per app.
 */
function sameRun(raw: Buffer, start: number, last: Decoded, k: number): number {
  const shift = start - last.bounds[2 * k]!;
  // Whether apps [from, to) of the last answer, and what separates them from the ones before (known
  // to be in place), are at their shifted places.
  const same = (from: number, to: number): boolean => {
    const ls = from === k ? last.bounds[2 * k]! : last.bounds[2 * from - 1]!;
    const le = last.bounds[2 * to - 1]!;
    return le + shift <= raw.length && raw.compare(last.raw, ls, le, ls + shift, le + shift) === 0;
  };
  const max = last.apps.length - k;
  if (!same(k, k + 1)) return 0;
  let good = 1;
  let bad = max + 1;
  while (good < max) {
    const next = Math.min(good * 2, max);
    if (!same(k + good, k + next)) {
      bad = next;
      break;
    }
    good = next;
  }
  while (bad - good > 1) {
    const mid = (good + bad) >> 1;
    if (same(k + good, k + mid)) good = mid;
    else bad = mid;
  }
  return good;
}

/** Whether the last answer's app `k` is at `start` in `raw`, byte for byte (a JSON object ends where its bytes end). */
function sameBytes(raw: Buffer, start: number, last: Decoded, k: number): boolean {
  const ls = last.bounds[2 * k]!;
  const le = last.bounds[2 * k + 1]!;
  const end = start + le - ls;
  return end <= raw.length && raw.compare(last.raw, ls, le, start, end) === 0;
}

const idOf = (app: unknown): string | undefined => {
  const id = (app as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
};

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
export const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;
export const COMMA = 0x2c;
const COLON = 0x3a;
const APPS_KEY = Buffer.from('"apps"');

export function skipSpace(b: Buffer, i: number): number {
  while (i < b.length) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** Where the first item (or the closing bracket) of `{"apps": [` is; -1 for another shape. */
export function itemsStart(b: Buffer): number {
  let i = skipSpace(b, bomLength(b));
  if (b[i] !== OPEN_BRACE) return -1;
  i = skipSpace(b, i + 1);
  if (i + APPS_KEY.length > b.length || b.compare(APPS_KEY, 0, APPS_KEY.length, i, i + APPS_KEY.length) !== 0)
    return -1;
  i = skipSpace(b, i + APPS_KEY.length);
  if (b[i] !== COLON) return -1;
  i = skipSpace(b, i + 1);
  return b[i] === OPEN_BRACKET ? skipSpace(b, i + 1) : -1;
}

/**
 * 3 when the bytes start with UTF-8's byte-order mark, else 0. JSON has none, but marathon-lb read
 * Marathon's answer with requests' .json(), which takes one (a proxy or an editor may add it).
 */
export function bomLength(b: Buffer): number {
  return b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
}

/** Whether `]}` and nothing but whitespace follow from `i` (at the closing bracket). */
export function closesBody(b: Buffer, i: number): boolean {
  if (b[i] !== CLOSE_BRACKET) return false;
  i = skipSpace(b, i + 1);
  return b[i] === CLOSE_BRACE && skipSpace(b, i + 1) === b.length;
}

/**
 * The [start, end) byte ranges of the items of a body shaped exactly `{"apps": [{…}, …]}` (JSON
 * whitespace anywhere between tokens), flattened; null for any other shape. `itemEnd` gives where
 * the item at an opening brace ends, or -1 when it is not one: by default its brackets are only
 * matched, and JSON.parse is left to check what is inside.
 */
export function splitApps(b: Buffer, itemEnd: (i: number) => number = (i) => objectEnd(b, i)): number[] | null {
  let i = itemsStart(b);
  if (i < 0) return null;
  const bounds: number[] = [];
  if (b[i] !== CLOSE_BRACKET) {
    for (;;) {
      if (b[i] !== OPEN_BRACE) return null;
      const end = itemEnd(i);
      if (end < 0) return null;
      bounds.push(i, end);
      i = skipSpace(b, end);
      if (b[i] === CLOSE_BRACKET) break;
      if (b[i] !== COMMA) return null;
      i = skipSpace(b, i + 1);
    }
  }
  return closesBody(b, i) ? bounds : null;
}

/** The index after the bracket that closes the one at `i`, skipping strings; -1 when it is not closed. */
export function objectEnd(b: Buffer, i: number): number {
  const n = b.length;
  let depth = 0;
  let inString = false;
  for (; i < n; i++) {
    const c = b[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return i + 1;
  }
  return -1;
}
