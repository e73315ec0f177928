/**
 * The HAProxy an apply transaction drives: one this controller owns (master-worker, see owned.ts)
 * or one an operator runs and reloads with --command (see command.ts). The transaction is the same;
 * only these steps differ.
 */
import type { DesiredState } from '../reconcile/applyPort';
import type { RuntimeOp } from '../reconcile/plan';
import type { Clock } from './clock';
import type { CommandChannel, HaproxyLogger } from './masterSocket';
import { err, type Result } from '../result';

/** Why a try at making HAProxy read the files failed. */
export interface LoadFailure {
  readonly message: string;
  /** HAProxy rejected the config (retrying the same one does not help). */
  readonly refused: boolean;
  /** The try itself spent the retry interval waiting (no extra pause before the next). */
  readonly waited?: boolean;
  /**
   * The try left nothing serving (a reload that killed the master: it could not fork): the next one,
   * which starts HAProxy, comes at once. After the interval, nothing served for 10 s (helper 74).
   */
  readonly retryNow?: boolean;
}

/** One try at making HAProxy read the files. */
export type LoadResult = Result<void, LoadFailure>;

export interface HaproxyTarget {
  /**
   * HAProxy is not ours (--command): marathon-lb's rule holds that nothing is done when the files
   * on disk already are the new ones (a one-pass run from cron reloads only for a change).
   */
  readonly external: boolean;
  /** The current worker's runtime API; null when HAProxy is not running or not ours to change at runtime. */
  runtimeChannel(): CommandChannel | null;
  /** False when HAProxy must be started (only an owned HAProxy can tell). */
  isRunning(): boolean;
  /** The controller is stopping: nothing may start or reload HAProxy. */
  isClosed(): boolean;
  /** Makes HAProxy read the files just written: reload, or start it; retried per RetryPolicy. */
  load(): Promise<LoadResult>;
  /** HAProxy proves it runs `next` (after a load, or after runtime `ops`). */
  gate(next: DesiredState, ops: readonly RuntimeOp[]): Promise<Result<void>>;
  /** After a failed transaction put the last good files back: make HAProxy read them (best effort, logged). */
  reloadRestored(): Promise<void>;
  /** The master and its one current worker, when HAProxy is ours and runs (null otherwise). */
  servingWorker?(): Promise<{ readonly master: number; readonly worker: number } | null>;
}

/** marathon-lb's --max-reload-retries (-1: no limit, 0: none) and --reload-interval (ms here). */
export interface RetryPolicy {
  readonly retries: number;
  readonly intervalMs: number;
}

/**
 * Runs `attempt` until it succeeds, HAProxy refuses the config, the retries are used up or the
 * controller stops; waits `intervalMs` between tries. Returns the last result.
 */
export async function withRetries(
  attempt: () => Promise<LoadResult>,
  policy: RetryPolicy,
  deps: {
    readonly clock: Clock;
    readonly logger: HaproxyLogger;
    readonly closed: () => boolean;
    readonly what: string;
  },
): Promise<LoadResult> {
  for (let tried = 0; ; tried++) {
    const r = await attempt();
    if (r.ok || r.error.refused || deps.closed()) return r;
    const f = r.error;
    if (policy.retries >= 0 && tried >= policy.retries) {
      return err({
        ...f,
        message: tried === 0 ? f.message : `${f.message} (${tried + 1} tries, --max-reload-retries ${policy.retries})`,
      });
    }
    // The failure names what failed (`HAProxy reload failed (…)`, `--command "…" exited 1`).
    const when = f.retryNow === true ? 'now, as nothing serves' : `in ${policy.intervalMs / 1000} s`;
    deps.logger.warn(
      `${f.message}; ${deps.what} tried again ${when} (retry ${tried + 1} of ${policy.retries < 0 ? 'unlimited' : policy.retries})`,
    );
    if (f.waited !== true && f.retryNow !== true) await deps.clock.sleep(policy.intervalMs);
  }
}
