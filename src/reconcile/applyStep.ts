import { Observable, defer, last, map, of, tap } from 'rxjs';
import type { ApplyPort, ApplyReport, DesiredState } from './applyPort';
import type { AppliedState } from './appliedState';
import { configOutsideServers } from '../model/equality';
import { contradictedServers } from './fastCorrections';
import { plan, type Plan } from './plan';
import { groupRuntimeOps, runtimeReasons } from './runtimeReason';
import type { FaultStage, PipelineEvent, Work } from './pipeline';

export interface ApplyStepDeps {
  readonly haproxy: ApplyPort;
  readonly applied: AppliedState;
  readonly report: (e: PipelineEvent) => void;
  /** Reports an unexpected exception caught at `stage`. */
  readonly fault: (stage: FaultStage, e: unknown) => void;
  readonly now: () => number;
  /** Configs already stripped of their server lines (the pipeline strips a snapshot's in slices before its turn). */
  readonly stripped?: StrippedConfigs;
}

/**
 * The last two configs without their server lines (a 10 MB config takes ~60 ms to strip): a plan's
 * previous config was the next one of the plan before, and its next one may be stripped beforehand.
 */
export class StrippedConfigs {
  private entries: readonly (readonly [string, string])[] = [];

  has(config: string): boolean {
    return this.entries.some(([c]) => c === config);
  }

  of(config: string): string {
    const hit = this.entries.find(([c]) => c === config);
    if (hit !== undefined) return hit[1];
    const text = configOutsideServers(config);
    this.remember(config, text);
    return text;
  }

  remember(config: string, stripped: string): void {
    this.entries = [[config, stripped] as const, ...this.entries.filter(([c]) => c !== config)].slice(0, 2);
  }
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * One unit of work for the apply sink: skip it when HAProxy already runs it, else plan (runtime
 * operations or reload reasons), apply, and commit what HAProxy proved it runs.
 *
 * Why guards here: an exception from the diff must not cost the change. If `plan` throws, a full
 * reload of the new config still applies it; if deciding "unchanged" throws, it is applied anyway.
 * Anything else thrown (by the apply port too) errors the returned Observable: an apply failure,
 * retried by the sink with backoff.
 */
export function applyStep(deps: ApplyStepDeps): (work: Work) => Observable<ApplyReport | 'unchanged'> {
  const { haproxy, applied, report, fault, now } = deps;

  /** Runs a pure step; an exception is reported at `plan` and replaced by the safe fallback. */
  const guarded = <T>(step: () => T, fallback: (e: unknown) => T): T => {
    try {
      return step();
    } catch (e) {
      fault('plan', e);
      return fallback(e);
    }
  };
  const stripped = deps.stripped ?? new StrippedConfigs();
  const outside = (config: string): string => stripped.of(config);
  const planFor = (previous: DesiredState | null, next: DesiredState): Plan =>
    guarded(
      () =>
        plan(
          previous?.model.services ?? null,
          next.model.services,
          previous === null ? undefined : { previous: previous.rendered.config, next: next.rendered.config, outside },
        ),
      (e) => ({ runtimeOps: [], reloadReasons: [{ kind: 'plan-failed', error: message(e) }] }),
    );
  /** Apps HAProxy rejected before stay out until their definition changes: plan() then sees real changes only. */
  const withoutRejected = (state: DesiredState): DesiredState =>
    guarded(
      () => applied.withoutRejected(state, now()),
      () => state,
    );
  const isCurrent = (state: DesiredState): boolean =>
    guarded(
      () => applied.isCurrent(state),
      () => false,
    );
  /** Fast-path states whose correction was reported: an apply that fails and is tried again corrects the same one. */
  const correctionReported = new WeakSet<DesiredState>();

  return (work) =>
    defer(() => {
      if (work.kind === 'write-files') {
        return haproxy.writeUnwritten().pipe(
          last(),
          map((written) => {
            if (written)
              report({
                kind: 'applied',
                report: { reloaded: false, reasons: [], runtimeOps: 0 },
                state: null,
                previous: null,
                runtimeReasons: [],
                filesWritten: true,
              });
            return 'unchanged' as const;
          }),
        );
      }
      if (work.kind === 'reload-existing') {
        return haproxy.reloadExisting(work.why, applied.current).pipe(
          last(),
          tap((r) => report({ kind: 'applied', report: r, state: null, previous: null, runtimeReasons: [] })),
        );
      }
      const previous = applied.current;
      const next = withoutRejected(work.state);
      if (isCurrent(next)) {
        applied.adopt(next);
        report({ kind: 'unchanged', state: next, fetchedAt: work.fetchedAt, ...fastMark(work) });
        return of('unchanged' as const);
      }
      const p = planFor(previous, next);
      if (work.fast !== undefined && p.reloadReasons.length > 0) {
        // The fast path only does what the runtime API can; a reload waits for the snapshot.
        report({
          kind: 'fast-path',
          outcome: 'refused',
          detail: `${work.fast.what}: needs a reload`,
        });
        return of('unchanged' as const);
      }
      // A snapshot after task and health events were applied (by the fast path, or replayed onto a
      // snapshot) that says otherwise of a server they changed.
      const claimedOn = previous?.source?.snapshotModel;
      if (work.fast === undefined && claimedOn !== undefined && !correctionReported.has(previous!)) {
        const wrong = guarded(
          () => contradictedServers(claimedOn, previous!.model, next.model),
          () => 0,
        );
        if (wrong > 0) {
          correctionReported.add(previous!);
          report({
            kind: 'fast-path',
            outcome: 'corrected',
            detail: `${wrong} server(s) that task and health events had added, drained or removed`,
          });
        }
      }
      report({
        kind: 'applying',
        reasons: p.reloadReasons,
        runtimeOps: p.runtimeOps.length,
        triggeredAt: work.triggeredAt,
        fetchedAt: work.fetchedAt,
        ...fastMark(work),
      });
      return haproxy.apply(next, p, previous).pipe(
        last(),
        tap((r) => {
          // What HAProxy runs keeps the apps it was built from (the fast path applies events to them).
          const state =
            r.applied === undefined
              ? next
              : r.applied.source !== undefined || next.source === undefined
                ? r.applied
                : { ...r.applied, source: next.source };
          applied.commit(state, now(), r.rejected);
          // Once for every observer; the plan's own ops when HAProxy got the asked state as planned.
          const grouped =
            r.reloaded || r.runtimeOps === 0 || previous === null
              ? []
              : r.applied === undefined
                ? groupRuntimeOps(p.runtimeOps)
                : runtimeReasons(previous.model.services, state.model.services);
          report({ kind: 'applied', report: r, state, previous, fetchedAt: work.fetchedAt, runtimeReasons: grouped });
          if (work.fast !== undefined)
            report({
              kind: 'fast-path',
              outcome: 'applied',
              detail: work.fast.what,
            });
        }),
      );
    });
}

/** Marks what the event fast path built: Marathon was not read for it. */
function fastMark(work: { readonly fast?: unknown }): { fast?: true } {
  return work.fast === undefined ? {} : { fast: true };
}
