/**
 * The master-worker reload, read from the master CLI's `show proc` before and after `reload`, as a
 * pure function (HaproxyProcess polls; this decides). HAProxy 2.6's `reload` answers nothing: the
 * master re-executes itself, reads the config again and forks a new worker. Then:
 * - loaded: the master's reload counter went up and a worker is listed that was not there before;
 * - refused: the counter went up, `[failed: n]` is counted and there is no new worker — HAProxy
 *   rejected the config, the old worker keeps serving (deterministic: retrying does not help);
 * - waiting: neither yet (a reload takes a moment; a stuck one is the caller's timeout).
 */
import type { ProcList } from './masterSocket';

export type ReloadOutcome =
  | { readonly kind: 'waiting' }
  | { readonly kind: 'loaded'; readonly newWorkerPid: number; readonly oldWorkers: readonly number[] }
  | { readonly kind: 'refused'; readonly servingWorkerPids: readonly number[] };

export function reloadOutcome(before: ProcList, after: ProcList): ReloadOutcome {
  if (after.master.reloads <= before.master.reloads) return { kind: 'waiting' };
  const known = new Set([...before.workers, ...before.oldWorkers].map((w) => w.pid));
  const fresh = after.workers.find((w) => !known.has(w.pid));
  if (fresh) return { kind: 'loaded', newWorkerPid: fresh.pid, oldWorkers: after.oldWorkers.map((w) => w.pid) };
  const failed = after.master.failedReloads ?? 0;
  if (failed > (before.master.failedReloads ?? 0) || failed > 0)
    return { kind: 'refused', servingWorkerPids: after.workers.map((w) => w.pid) };
  return { kind: 'waiting' };
}
