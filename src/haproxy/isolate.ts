/**
 * HAProxy rejected a config: find the items (services) responsible and leave them out, so apps
 * HAProxy rejects never block everyone else's routing — however many there are.
 *
 * Adaptive group testing over `check(subset)`, where the empty subset is known to pass:
 * 1. Hints first: the proxies HAProxy's alerts name are checked alone; those that fail alone are
 *    culprits (a hint is never trusted without that check). HAProxy's -c names every section it
 *    rejects, so this finds k culprits in k + 2 checks (measured: 25 among 1 000 in 27).
 * 2. Splitting: test the left half of a failing set and recurse only into failing halves; when
 *    the left half passes the right one must fail and is not tested itself. Finds all k items
 *    that fail alone in at most 2·k·⌈log2 n⌉ checks.
 * 3. Bad only in combination (each item passes alone, together they fail, e.g. two apps that
 *    claim the same name): bisect the shortest failing prefix and leave out the item that
 *    completes it — log2 n checks per item, and the kept set is checked again.
 * The loop ends only when the kept set passes, so the result is always a config HAProxy accepts.
 */

import { err, ok, type Result } from '../result';

/**
 * Why HAProxy refused a candidate. `named`: proxies its alerts name, a hint only. `unchecked`: the
 * check did not complete (a timeout, …): no refusal, nobody to blame. `hung`: it ran out of time (a
 * config can make it hang), not one that could not run at all (no process left to fork, …).
 */
export interface Refusal {
  readonly message: string;
  readonly named?: readonly string[];
  readonly unchecked?: true;
  readonly hung?: true;
}

/** HAProxy's answer about one candidate. */
export type Verdict = Result<void, Refusal>;

export interface Culprit<T> {
  readonly item: T;
  /** HAProxy's message when the item was checked (alone, or with the prefix it completes). */
  readonly message: string;
  /** False when the item fails only together with others. */
  readonly alone: boolean;
}

export interface Isolated<T> {
  readonly kept: readonly T[];
  readonly culprits: readonly Culprit<T>[];
  readonly checks: number;
}

/**
 * Why no culprits were found. `global`: even the empty subset fails; `budget`: `maxChecks` ran out
 * first; `combination`: with `aloneOnly`, no item fails alone.
 */
export interface IsolationFailure {
  readonly kind: 'global' | 'budget' | 'combination';
  readonly message: string;
  readonly checks: number;
}

export type Isolation<T> = Result<Isolated<T>, IsolationFailure>;

export interface IsolateOptions<T> {
  /** The proxy name HAProxy uses for an item (matched against `Verdict.named`). */
  readonly name: (item: T) => string;
  /** Give up after this many checks (e.g. when each check is a real reload). Default: no limit. */
  readonly maxChecks?: number;
  /**
   * Blame only items that fail alone (step 3 is not taken): for failures that may come from the
   * machine rather than the config (a check that timed out), where a bigger set failing proves nothing.
   */
  readonly aloneOnly?: boolean;
}

class OutOfChecks extends Error {}

export async function findCulprits<T>(
  items: readonly T[],
  check: (subset: readonly T[]) => Promise<Verdict>,
  opts: IsolateOptions<T>,
): Promise<Isolation<T>> {
  let checks = 0;
  const test = (subset: readonly T[]): Promise<Verdict> => {
    if (checks >= (opts.maxChecks ?? Infinity)) throw new OutOfChecks();
    checks++;
    return check(subset);
  };
  let last = 'no check ran';
  try {
    const empty = await test([]);
    if (!empty.ok) return err({ kind: 'global', message: empty.error.message, checks });
    let kept = [...items];
    const culprits: Culprit<T>[] = [];
    for (;;) {
      const full = await test(kept);
      if (full.ok) return ok({ kept, culprits, checks });
      last = full.error.message;
      let found = await confirmHints(kept, full, test, opts.name);
      if (found.length === 0) found = await splitting(kept, full, test);
      if (found.length === 0 && opts.aloneOnly === true) return err({ kind: 'combination', message: last, checks });
      if (found.length === 0) found = [await shortestFailingPrefix(kept, full, test)];
      const out = new Set(found.map((c) => c.item));
      kept = kept.filter((s) => !out.has(s));
      culprits.push(...found);
    }
  } catch (e) {
    if (e instanceof OutOfChecks) return err({ kind: 'budget', message: last, checks });
    throw e;
  }
}

type Test<T> = (subset: readonly T[]) => Promise<Verdict>;

async function confirmHints<T>(
  kept: readonly T[],
  full: Verdict,
  test: Test<T>,
  name: (item: T) => string,
): Promise<Culprit<T>[]> {
  if (full.ok || full.error.named === undefined || full.error.named.length === 0) return [];
  const named = new Set(full.error.named);
  const found: Culprit<T>[] = [];
  for (const item of kept.filter((s) => named.has(name(s)))) {
    const alone = await test([item]);
    if (!alone.ok) found.push({ item, message: alone.error.message, alone: true });
  }
  return found;
}

/** The items of `set` that fail alone; `verdict` is the set's own, or 'inferred' when not checked. */
async function splitting<T>(set: readonly T[], verdict: Verdict | 'inferred', test: Test<T>): Promise<Culprit<T>[]> {
  if (set.length === 0) return [];
  if (set.length === 1) {
    const v = verdict === 'inferred' ? await test(set) : verdict;
    return v.ok ? [] : [{ item: set[0] as T, message: v.error.message, alone: true }];
  }
  const mid = set.length >> 1;
  const left = set.slice(0, mid);
  const right = set.slice(mid);
  const l = await test(left);
  const fromLeft = l.ok ? [] : await splitting(left, l, test);
  // The left half passed: the failure is in the right half (or only in combination, which the
  // singletons' own checks reveal), so the right half's check is skipped.
  const r: Verdict | 'inferred' = l.ok ? 'inferred' : await test(right);
  const fromRight = r !== 'inferred' && r.ok ? [] : await splitting(right, r, test);
  return [...fromLeft, ...fromRight];
}

/** `kept` fails but no item fails alone: the item completing the shortest failing prefix. */
async function shortestFailingPrefix<T>(kept: readonly T[], full: Verdict, test: Test<T>): Promise<Culprit<T>> {
  let lo = 0; // kept[0..lo) passes (the empty subset does)
  let hi = kept.length; // kept[0..hi) fails
  let message = full.ok ? '' : full.error.message;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    const v = await test(kept.slice(0, mid));
    if (v.ok) lo = mid;
    else {
      hi = mid;
      message = v.error.message;
    }
  }
  return { item: kept[hi - 1] as T, message, alone: false };
}
