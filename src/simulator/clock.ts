import type { AppDef, SimState } from './types';

/** What the clock does when a delay is over (the Simulator's own methods). */
export interface ClockActions {
  markHealthy(taskId: string): Promise<void>;
  markReady(taskId: string): Promise<void>;
  /** Runs `fn` after `ms` unless the simulator closes first; returns a cancel function. */
  schedule(ms: number, fn: () => void): () => void;
}

/**
 * Marathon's time, scaled: a task of a health-checked app turns healthy once its first check's
 * `gracePeriodSeconds` (Marathon's default 300) are over; a task of an app with readinessChecks turns
 * ready `readyAfterSeconds` (default: the check's `intervalSeconds`, Marathon's default 30) after it is
 * healthy (or running, without health checks). One Marathon second lasts `timeScale` real seconds.
 * Tasks whose readiness a caller set by hand are left alone.
 */
export class TaskClock {
  private readonly timers = new Map<string, () => void>();
  private readonly manual = new Set<string>();

  constructor(
    private readonly timeScale: number,
    private readonly readyAfterSeconds: number | undefined,
    private readonly actions: ClockActions,
  ) {}

  /** Starts the timers the state needs; cancels those of tasks that are gone. */
  sync(state: SimState): void {
    const live = new Set<string>();
    for (const app of state.apps) {
      for (const t of app.tasks) {
        if (t.awaitingHealth)
          this.start(`health:${t.id}`, graceSeconds(app.def), () => this.actions.markHealthy(t.id), live);
        else if (t.ready === false && t.alive !== false && !this.manual.has(t.id)) {
          this.start(
            `ready:${t.id}`,
            this.readyAfterSeconds ?? intervalSeconds(app.def),
            () => this.actions.markReady(t.id),
            live,
          );
        }
      }
    }
    for (const [key, cancel] of this.timers) {
      if (!live.has(key)) {
        cancel();
        this.timers.delete(key);
      }
    }
  }

  /** The caller decides this task's readiness from now on. */
  holdReadiness(taskId: string): void {
    this.manual.add(taskId);
    this.timers.get(`ready:${taskId}`)?.();
    this.timers.delete(`ready:${taskId}`);
  }

  private start(key: string, seconds: number, fire: () => Promise<void>, live: Set<string>): void {
    if (!Number.isFinite(seconds)) return;
    live.add(key);
    if (this.timers.has(key)) return;
    this.timers.set(
      key,
      this.actions.schedule(seconds * 1000 * this.timeScale, () => {
        this.timers.delete(key);
        // The task may be gone by now (killed, app deleted): nothing to mark then.
        fire().catch(() => undefined);
      }),
    );
  }
}

const numberOr = (v: unknown, fallback: number): number => (typeof v === 'number' && v >= 0 ? v : fallback);

const graceSeconds = (def: AppDef): number => numberOr(def.healthChecks[0]?.['gracePeriodSeconds'], 300);

function intervalSeconds(def: AppDef): number {
  const checks = def['readinessChecks'];
  const first: unknown = Array.isArray(checks) ? checks[0] : undefined;
  return numberOr(
    typeof first === 'object' && first !== null ? (first as Record<string, unknown>)['intervalSeconds'] : undefined,
    30,
  );
}
