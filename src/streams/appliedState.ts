import { sameData } from '../model/equality';
import type { DesiredState } from './applyPort';

/**
 * The last state HAProxy proved it runs. Advanced only by a successful apply, so a failed one
 * leaves it where it was and the next trigger retries the whole difference.
 */
export class AppliedState {
  private last: DesiredState | null = null;
  private lastAt: number | null = null;

  get current(): DesiredState | null {
    return this.last;
  }

  /** Epoch ms of the last successful apply, null before the first. */
  get appliedAt(): number | null {
    return this.lastAt;
  }

  commit(state: DesiredState, atMs: number): void {
    this.last = state;
    this.lastAt = atMs;
  }

  /** True when `next` would change nothing HAProxy runs. */
  isCurrent(next: DesiredState): boolean {
    const last = this.last;
    return last !== null
      && last.rendered.config === next.rendered.config
      && last.rendered.domainMap === next.rendered.domainMap
      && last.rendered.appMap === next.rendered.appMap
      && sameData(last.model.services, next.model.services);
  }
}
