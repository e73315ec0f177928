import { Observable, SchedulerLike, delay, of, throwError } from 'rxjs';
import type { ApplyPort, ApplyReport, DesiredState } from '../../src/reconcile/applyPort';
import type { Plan } from '../../src/reconcile/plan';
import type { ExistingConfigReason } from '../../src/reconcile/reloadReason';

/**
 * A recording ApplyPort for pipeline tests (the real one drives HAProxy in src/haproxy).
 * `failNext(n)` makes the next n applies fail, to exercise backoff and "commit only on success";
 * `failConfigs(when)` every apply of such a config; `failExisting(n)` the next n reloads of the config on disk (HAProxy cannot be started again).
 * `slow`: each apply takes `ms` of that scheduler's time (what arrives meanwhile waits in the sink).
 */
export class RecordingHaproxy implements ApplyPort {
  readonly applies: { config: string; plan: Plan; previous: string | null }[] = [];
  reloadsOfExisting = 0;
  private failures = 0;
  private existingFailures = 0;
  private failing: ((config: string) => boolean) | undefined;

  constructor(private readonly slow?: { readonly ms: number; readonly scheduler: SchedulerLike }) {}

  failNext(n: number): void {
    this.failures = n;
  }

  /** Every apply of a config `when` holds for fails (haproxy -c refusing one app's change, say). */
  failConfigs(when: (config: string) => boolean): void {
    this.failing = when;
  }

  failExisting(n: number): void {
    this.existingFailures = n;
  }

  /** Whether an HAProxy runs (ApplyPort.serving): false as if none did. */
  running = true;

  serving(): boolean {
    return this.running;
  }

  apply(next: DesiredState, plan: Plan, previous: DesiredState | null): Observable<ApplyReport> {
    this.applies.push({ config: next.rendered.config, plan, previous: previous?.rendered.config ?? null });
    if (this.failures > 0 || this.failing?.(next.rendered.config) === true) {
      if (this.failures > 0) this.failures--;
      return throwError(() => new Error('haproxy -c rejected the config'));
    }
    const report = of({
      reloaded: plan.reloadReasons.length > 0,
      reasons: plan.reloadReasons,
      runtimeOps: plan.runtimeOps.length,
    });
    return this.slow === undefined ? report : report.pipe(delay(this.slow.ms, this.slow.scheduler));
  }

  /** Files owed after a failed write behind (`owe`), and how many of the next tries to write them fail. */
  private owed = false;
  private writeFailures = 0;
  writesOfUnwritten = 0;

  owe(failingWrites: number): void {
    this.owed = true;
    this.writeFailures = failingWrites;
  }

  writeUnwritten(): Observable<boolean> {
    this.writesOfUnwritten++;
    if (!this.owed) return of(false);
    if (this.writeFailures > 0) {
      this.writeFailures--;
      return throwError(() => new Error('cannot write haproxy.cfg: no space left on device (ENOSPC)'));
    }
    this.owed = false;
    return of(true);
  }

  reloadExisting(why: ExistingConfigReason): Observable<ApplyReport> {
    this.reloadsOfExisting++;
    if (this.existingFailures > 0) {
      this.existingFailures--;
      return throwError(() => new Error('restarting HAProxy: cannot run haproxy: ENOENT'));
    }
    return of({ reloaded: true, reasons: [why], runtimeOps: 0 });
  }
}
