import type { Observable } from 'rxjs';
import type { MarathonApp } from '../marathon/types';
import type { Model, Problem, Service } from '../model/types';
import type { RenderedConfig } from '../render/render';
import type { Plan } from './plan';
import type { ExistingConfigReason, ReloadReason } from './reloadReason';

/** What HAProxy should run: the model and its rendered config and maps. */
export interface DesiredState {
  readonly model: Model;
  readonly rendered: RenderedConfig;
  /** The apps (and resolved hosts) it was built from, for the event fast path; absent: not fast-pathable. */
  readonly source?: StateSource;
}

export interface StateSource {
  readonly apps: readonly MarathonApp[];
  readonly hosts: ReadonlyMap<string, string>;
  /**
   * Built by the event fast path (not from a snapshot): `rendered` is then the config of the state it
   * was built on (servers changed since at runtime only, so it is not written), and `serverLines` holds
   * the server lines of the backends the fast path rebuilt since that snapshot, for `add server`.
   */
  readonly fast?: boolean;
  readonly serverLines?: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /**
   * The model of the snapshot this state's task and health events were applied to (by the fast path,
   * or replayed onto a snapshot read meanwhile); absent: no event changed what that snapshot said.
   * The next snapshot is compared with both (fastCorrections.ts).
   */
  readonly snapshotModel?: Model;
}

/**
 * What the apply did — which may differ from the plan it was given: the runtime API refused
 * (then it reloaded, `reasons` says why), or apps HAProxy rejected were left out (then `reasons`
 * and `runtimeOps` are those of the change HAProxy got). Logs and metrics read this, not the plan.
 */
export interface ApplyReport {
  readonly reloaded: boolean;
  /** Why it reloaded (empty when runtime operations sufficed). */
  readonly reasons: readonly ReloadReason[];
  /** Runtime API operations that went through. */
  readonly runtimeOps: number;
  /** What HAProxy runs now when it differs from what was asked: apps HAProxy rejected were left out. */
  readonly applied?: DesiredState;
  /** The services HAProxy rejected in this apply (at `haproxy -c` or at the health gate). */
  readonly rejected?: readonly Rejection[];
  /** An HAProxy adopted from an earlier controller ran these very files already: kept as it was. */
  readonly keptAdopted?: true;
}

/** A service HAProxy refused, left out of what it runs, with the problem shown to users. */
export interface Rejection {
  readonly service: Service;
  readonly problem: Problem;
  /**
   * HAProxy refused to run it although `haproxy -c` passed it: the cause may lie outside its
   * definition (its port held by another process for a while), so it is tried again later.
   */
  readonly retried?: true;
}

/**
 * The pipeline's view of HAProxy. `apply` completes with its report only once HAProxy proved it
 * runs the new state (health gate), and errors otherwise — after putting the last good state back.
 */
export interface ApplyPort {
  apply(next: DesiredState, plan: Plan, previous: DesiredState | null): Observable<ApplyReport>;
  /**
   * SIGUSR1, or HAProxy exited: validate and reload (or start HAProxy with) the config already on
   * disk. `current`, the state last applied, is written again first when the config file is gone.
   */
  reloadExisting(why: ExistingConfigReason, current: DesiredState | null): Observable<ApplyReport>;
  /**
   * Writes the files of what HAProxy runs that a write behind a runtime change could not write;
   * true when it wrote them, false when none were owed. Errors while they still cannot be written.
   */
  writeUnwritten(): Observable<boolean>;
  /** False while no HAProxy process runs to serve anything (one this controller starts); absent or true otherwise. */
  serving?(): boolean;
}

/** A state the event fast path made: task churn on the applied state, not a snapshot from Marathon. */
export const isFastState = (state: DesiredState | null): boolean => state?.source?.fast === true;
