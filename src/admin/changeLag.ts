import type { PipelineEvent } from '../reconcile/pipeline';
import { isFastState } from '../reconcile/applyPort';
import { isFastEventType } from '../reconcile/fastPath';

/** Most change marks kept (one per fetch that has not succeeded); beyond it the newest is dropped, the oldest decides. */
const MAX_MARKS = 64;

/**
 * Since when routing lags behind a change the controller knows of: the oldest change that no
 * successful apply (or snapshot found unchanged) has covered yet. It feeds `/healthz`.
 *
 * Why only *known* changes: a quiet cluster, or a Marathon that cannot be read while nothing
 * happens, must never look unhealthy (restarting the load balancer would only make things worse);
 * routing that cannot follow Marathon must. A change is known from a Marathon event, a SIGHUP, the
 * startup (nothing applied yet), a fetched snapshot that differs from what runs (it is being
 * applied), or one that could not be built at all. Resyncs and stream reconnections are not changes.
 * A snapshot covers every change noted before its fetch began. HAProxy that cannot be started again
 * with the config on disk (after a crash: its binary gone, its ports taken) lags too, however quiet
 * Marathon is, from its first failed restart until an apply succeeds.
 */
export class ChangeLag {
  /** When each uncovered change was noted, oldest first; one per fetch at most. */
  private readonly marks: number[] = [];
  /**
   * When the fast path left events to the snapshot, or a change came that it cannot route, oldest
   * first: only a snapshot fetched after covers them. Fast work applied (or found unchanged) after a
   * refusal does not: its events were not all in it (a burst of 2 500 kills, refused as a whole, was
   * taken as applied and dead servers served while Marathon could not be read, /healthz saying all
   * was well).
   */
  private readonly leftToSnapshot: number[] = [];
  private lastFetchAt = Number.NEGATIVE_INFINITY;
  private restartFailingSince: number | null = null;
  /** An apply failed, and no snapshot has been applied (or found unchanged) since. */
  private applyFailing = false;

  observe(e: PipelineEvent, now: number): void {
    switch (e.kind) {
      case 'trigger':
        // Only task and health events can be routed by the fast path; a label change (api_post_event),
        // a SIGHUP or the startup waits for a snapshot (task churn applied while Marathon could not be
        // read covered a label change, and /healthz said 200 with the old label routed).
        if (e.trigger.kind === 'event')
          this.note(now, isFastEventType(e.trigger.eventType) ? this.marks : this.leftToSnapshot);
        else if (e.trigger.kind === 'signal' || e.trigger.kind === 'startup') this.note(now, this.leftToSnapshot);
        break;
      case 'fetching':
        this.lastFetchAt = now;
        break;
      case 'applying':
        this.note(e.fetchedAt ?? now);
        break;
      case 'snapshot-invalid':
        this.note(now);
        break;
      case 'stage-error':
        // A snapshot lost to a build error (or an app left out by one): a change not applied.
        if (e.stage === 'build') this.note(e.fetchedAt ?? now);
        break;
      case 'unchanged':
        this.applyFailing = false;
        this.cover(this.marks, e.fetchedAt ?? now);
        if (e.fast !== true) this.cover(this.leftToSnapshot, e.fetchedAt ?? now);
        break;
      case 'applied':
        this.restartFailingSince = null;
        // Task churn applied beside a failing change (applySink.ts) covers none of that change's marks.
        if (isFastState(e.state) && this.applyFailing) break;
        this.applyFailing = false;
        if (e.state === null) break;
        this.cover(this.marks, e.fetchedAt ?? now);
        if (!isFastState(e.state)) this.cover(this.leftToSnapshot, e.fetchedAt ?? now);
        break;
      case 'fast-path':
        if (e.outcome === 'refused') this.note(now, this.leftToSnapshot);
        break;
      case 'apply-failed':
        // A config file that cannot be written while HAProxy runs the change: routing is current (task
        // churn after it is too), the file's error is in /status. Counted as failing, churn made
        // /healthz unhealthy while HAProxy matched Marathon (helper 75).
        if (e.filesOnly === true) break;
        this.applyFailing = true;
        if (e.configOnDisk === true) this.restartFailingSince ??= now;
        break;
      default:
        break;
    }
  }

  /** Epoch ms of the oldest change not applied yet; null when routing is current. */
  get since(): number | null {
    const oldest = Math.min(
      this.marks[0] ?? Infinity,
      this.leftToSnapshot[0] ?? Infinity,
      this.restartFailingSince ?? Infinity,
    );
    return oldest === Infinity ? null : oldest;
  }

  private note(at: number, marks: number[] = this.marks): void {
    const newest = marks[marks.length - 1];
    // Already a mark since the last fetch began: whatever fetch covers it covers this one too.
    if (newest !== undefined && newest > this.lastFetchAt && at >= newest) return;
    let i = marks.length;
    while (i > 0 && marks[i - 1]! > at) i--;
    if (marks[i - 1] === at) return;
    marks.splice(i, 0, at);
    if (marks.length > MAX_MARKS) marks.splice(marks.length - 1, 1);
  }

  private cover(marks: number[], fetchedAt: number): void {
    let n = 0;
    while (n < marks.length && marks[n]! <= fetchedAt) n++;
    marks.splice(0, n);
  }
}
