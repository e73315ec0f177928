import type { Problem, Service } from '../model/types';

export type Verdict = { readonly ok: true } | { readonly ok: false; readonly message: string };

export interface Isolation {
  readonly kept: readonly Service[];
  readonly problems: readonly Problem[];
}

/**
 * HAProxy rejected a config: find the services responsible and leave them out, so one bad app
 * (e.g. a broken template label) never blocks everyone else's routing. Culprits are found one at a
 * time by bisecting the shortest failing prefix: log2(n) validations each, instead of marathon-lb's
 * one validation per app. Returns null when even a config without any app fails (a global problem).
 */
export async function isolateInvalid(
  services: readonly Service[],
  check: (subset: readonly Service[]) => Promise<Verdict>,
  maxCulprits = 20,
): Promise<Isolation | null> {
  if (!(await check([])).ok) return null;
  let kept = [...services];
  const problems: Problem[] = [];
  for (let round = 0; round < maxCulprits; round++) {
    const full = await check(kept);
    if (full.ok) return { kept, problems };
    let lo = 0; // check(kept[0..lo)) passes
    let hi = kept.length; // check(kept[0..hi)) fails
    let message = full.message;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      const v = await check(kept.slice(0, mid));
      if (v.ok) lo = mid;
      else {
        hi = mid;
        message = v.message;
      }
    }
    const culprit = kept[hi - 1]!;
    problems.push({ appId: culprit.appId, portIndex: null, label: null,
      message: `HAProxy rejects the config of backend ${culprit.backend}, left out: ${message}` });
    kept = kept.filter((s) => s !== culprit);
  }
  return (await check(kept)).ok ? { kept, problems } : null;
}
