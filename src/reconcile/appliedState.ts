import { sameData, serviceShape } from '../model/equality';
import type { Problem, Service } from '../model/types';
import type { RenderedConfig } from '../render/render';
import { drain, type Steps } from '../steps';
import type { DesiredState, Rejection } from './applyPort';

/**
 * The last state HAProxy proved it runs. Advanced only by a successful apply, so a failed one
 * leaves it where it was and the next trigger retries the whole difference.
 *
 * It also remembers the services HAProxy rejected, by backend and definition: they are left out
 * of later snapshots before plan(), so task churn of other apps is compared with what HAProxy
 * really runs (a runtime update, not a reload "backend … added" and a new isolation every time).
 */
export class AppliedState {
  private last: DesiredState | null = null;
  private lastAt: number | null = null;
  private readonly rejected = new Map<string, Rejected>();
  /** Counts changes of `rejected`: a state left without them stays so until the next change. */
  private generation = 0;
  /** States withoutRejected made, with the generation they were made in and the state they came from. */
  private readonly made = new WeakMap<DesiredState, { readonly generation: number; readonly from: DesiredState }>();

  /** `render`: renders a subset of services, to leave remembered rejections out (none: kept in). */
  constructor(private readonly render?: (services: readonly Service[]) => Steps<RenderedConfig>) {}

  get current(): DesiredState | null {
    return this.last;
  }

  /** Epoch ms of the last successful apply, null before the first. */
  get appliedAt(): number | null {
    return this.lastAt;
  }

  commit(state: DesiredState, atMs: number, rejected: readonly Rejection[] = []): void {
    this.last = state;
    this.lastAt = atMs;
    this.generation++;
    for (const s of state.model.services) this.rejected.delete(s.backend); // served now
    for (const r of rejected) {
      const sig = signature(r.service);
      const before = this.rejected.get(r.service.backend);
      // A retry counted its try when it was let through (withoutRejected).
      const tries = r.retried !== true ? 0 : before?.signature === sig && before.tries > 0 ? before.tries : 1;
      this.rejected.set(r.service.backend, {
        signature: sig,
        problem: r.problem,
        tries,
        retryAt: tries === 0 ? Number.POSITIVE_INFINITY : atMs + retryDelayMs(tries),
      });
    }
  }

  /**
   * A snapshot that renders to what HAProxy runs (isCurrent) becomes the current state: it is as
   * applied, and newer (the apps it came from, the apps it leaves out). Kept as it was, a later
   * fast-path state was built on the older one and showed its problems in /status and the log. The
   * time of the last apply stays.
   */
  adopt(state: DesiredState): void {
    if (this.last !== null && state.source?.fast !== true) this.last = state;
  }

  /** When the first service left out for a cause that may pass is due for another try (epoch ms), or null. */
  nextRetryAt(): number | null {
    let at: number | null = null;
    for (const r of this.rejected.values()) if (r.tries > 0 && (at === null || r.retryAt < at)) at = r.retryAt;
    return at;
  }

  /** Backends left out because HAProxy rejected them, for as long as their definition stays the same. */
  get rejectedBackends(): readonly string[] {
    return [...this.rejected.keys()];
  }

  /**
   * `next` without the services HAProxy rejected before, each still named as a problem. A service
   * whose definition changed since is forgotten and tried again (once: rejected again, it is
   * remembered again); so is one no longer in the model (its app was removed or has no tasks). One
   * HAProxy refused to run though `haproxy -c` passed it (its port held by another process) is
   * tried again in a snapshot from `atMs` past its retry time (30 s, doubling to 15 min): it stayed
   * left out until its definition changed.
   */
  withoutRejected(next: DesiredState, atMs = Number.NEGATIVE_INFINITY): DesiredState {
    return drain(this.withoutRejectedSteps(next, atMs));
  }

  /**
   * The services of snapshot `next` that a snapshot at `atMs` would let through for another try
   * (rejected by HAProxy though `haproxy -c` passed them, their retry time come). Changes nothing.
   */
  dueRetries(next: DesiredState, atMs: number): readonly Service[] {
    if (this.rejected.size === 0 || next.source?.fast === true) return [];
    return next.model.services.filter((s) => {
      const r = this.rejected.get(s.backend);
      return r !== undefined && r.tries > 0 && atMs >= r.retryAt && r.signature === signature(s);
    });
  }

  /**
   * The services of snapshot `next` that would have HAProxy bind a port the running config binds
   * for no service (a new app, a changed port), less those remembered as rejected. None before the
   * first apply: an HAProxy kept from an earlier controller may hold any port.
   */
  newListeners(next: DesiredState): readonly Service[] {
    const last = this.last;
    if (last === null || next.source?.fast === true) return [];
    const bound = new Set<number>();
    for (const s of last.model.services) bound.add(s.servicePort);
    return next.model.services.filter((s) => !bound.has(s.servicePort) && !this.rejected.has(s.backend));
  }

  /**
   * Services left out before HAProxy was asked to run them, for a cause that may pass (their port
   * cannot be bound now): remembered as a rejection by HAProxy's run is, tried again from 30 s on.
   */
  refuse(refusals: readonly Rejection[], atMs: number): void {
    for (const r of refusals) {
      this.rejected.set(r.service.backend, {
        signature: signature(r.service),
        problem: r.problem,
        tries: 1,
        retryAt: atMs + retryDelayMs(1),
      });
    }
    if (refusals.length > 0) this.generation++;
  }

  /**
   * withoutRejected with the config rendered a piece at a time (at 10 000 apps a render holds the
   * event loop ~80 ms, for every snapshot while any service is rejected). What it returns is taken
   * as it is by the next call, until `rejected` changes. `held`: backends of dueRetries whose port
   * another process still holds: not tried (a reload that cannot bind pauses every listener for
   * seconds), their next try put off as if it had failed.
   */
  *withoutRejectedSteps(
    next: DesiredState,
    atMs = Number.NEGATIVE_INFINITY,
    held: ReadonlySet<string> = NONE,
  ): Steps<DesiredState> {
    const made = this.made.get(next);
    if (made !== undefined) {
      if (made.generation === this.generation) return next;
      next = made.from; // its services HAProxy rejected are gone from it, not from Marathon
    }
    const out = yield* this.leftOut(next, atMs, held);
    // Kept too when nothing was left out: a service let through for its retry is let through once.
    this.made.set(out, { generation: this.generation, from: next });
    return out;
  }

  private *leftOut(next: DesiredState, atMs: number, held: ReadonlySet<string>): Steps<DesiredState> {
    if (this.rejected.size === 0) return next;
    const before = this.rejected.size;
    const present = new Set<string>();
    const left: Problem[] = [];
    const snapshot = next.source?.fast !== true;
    const kept = next.model.services.filter((s) => {
      const r = this.rejected.get(s.backend);
      present.add(s.backend);
      if (r === undefined) return true;
      if (r.signature !== signature(s)) {
        this.rejected.delete(s.backend);
        return true;
      }
      // Let through once, its next try already due later: should the apply fail whole rather than
      // reject it again, the retry of that apply (and every later snapshot) leaves it out again.
      if (snapshot && atMs >= r.retryAt) {
        this.rejected.set(s.backend, { ...r, tries: r.tries + 1, retryAt: atMs + retryDelayMs(r.tries + 1) });
        this.generation++;
        if (!held.has(s.backend)) return true; // still held: not tried, its next try put off as if it failed
      }
      left.push(r.problem);
      return false;
    });
    // A fast-path state holds the services HAProxy runs, so a rejected one is absent from it, not gone from Marathon.
    if (snapshot)
      for (const backend of [...this.rejected.keys()]) if (!present.has(backend)) this.rejected.delete(backend);
    if (this.rejected.size !== before) this.generation++;
    if (left.length === 0 || this.render === undefined) return next;
    const rendered = yield* this.render(kept);
    return {
      ...next,
      model: { services: rendered.served, problems: [...next.model.problems, ...left, ...rendered.problems] },
      rendered: { ...rendered, problems: [...next.rendered.problems, ...rendered.problems] },
    };
  }

  /** True when `next` would change nothing HAProxy runs. */
  isCurrent(next: DesiredState): boolean {
    const last = this.last;
    return (
      last !== null &&
      last.rendered.config === next.rendered.config &&
      last.rendered.domainMap === next.rendered.domainMap &&
      last.rendered.appMap === next.rendered.appMap &&
      sameServices(last.model.services, next.model.services)
    );
  }
}

/** Element by element: fast-path states share the services they did not touch with the state they came from. */
const sameServices = (a: readonly Service[], b: readonly Service[]): boolean =>
  a === b || (a.length === b.length && a.every((s, i) => s === b[i] || sameData(s, b[i])));

interface Rejected {
  readonly signature: string;
  readonly problem: Problem;
  /** Rejections in a row of a service `haproxy -c` passed (0: `haproxy -c` refused it, never retried). */
  readonly tries: number;
  /** Epoch ms from which a snapshot tries it again. */
  readonly retryAt: number;
}

const NONE: ReadonlySet<string> = new Set();

/** 30 s after the first rejection HAProxy's run gave, doubling, at most 15 min. */
const retryDelayMs = (tries: number): number => Math.min(30_000 * 2 ** (tries - 1), 15 * 60_000);

/** What decides whether HAProxy accepts a service: everything but its servers (tasks come and go). */
const signature = (s: Service): string => JSON.stringify(serviceShape(s));
