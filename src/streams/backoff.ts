/**
 * Pure exponential-backoff arithmetic shared by `retryBackoff` and `applySink`.
 *
 * Why a separate pure function: the delay policy (marathon-lb's SSE loop waits `random() * wait`,
 * where `wait` starts at 3 s and grows 1.5× up to --max-backoff) is easy to get subtly wrong, and is
 * worth testing without any scheduler. Randomness is injected, so tests are deterministic.
 */

export interface BackoffOptions {
  /** Base delay of the first retry (attempt 0), in ms. */
  readonly initialMs: number;
  /** Cap on the base delay, in ms. */
  readonly maxMs: number;
  /** Growth of the base delay per consecutive failure (marathon-lb: 1.5). */
  readonly factor: number;
  /**
   * Returns a number in 0..1 that scales the base delay (values outside are clamped).
   * `Math.random` gives marathon-lb's "full jitter"; `() => 1` disables jitter.
   */
  readonly jitter: () => number;
}

/** Base delay (before jitter) of the given 0-based consecutive failure: min(maxMs, initialMs·factor^attempt). */
export function baseDelay(attempt: number, opts: Omit<BackoffOptions, 'jitter'>): number {
  const grown = opts.initialMs * Math.pow(opts.factor, Math.max(0, attempt));
  return Math.max(0, Math.min(opts.maxMs, Number.isFinite(grown) ? grown : opts.maxMs));
}

/** Delay in whole ms to wait before retry number `attempt` (0-based): baseDelay × jitter(). */
export function nextDelay(attempt: number, opts: BackoffOptions): number {
  const j = opts.jitter();
  const clamped = Number.isFinite(j) ? Math.min(1, Math.max(0, j)) : 1;
  return Math.round(baseDelay(attempt, opts) * clamped);
}
