import type { EventHub } from './sse';
import type { TaskBackend } from './taskServers';
import type { TaskPool } from './taskPool';
import { findApp } from './state';
import type { Ctx, Outcome, SimEvent, SimState } from './types';
import { emptyState } from './types';

/** An error with the HTTP status the control API answers with. */
export class SimulatorError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'SimulatorError';
  }
}

export type Op = (state: SimState, ctx: Ctx) => Outcome;

/**
 * Runs pure transitions (state.ts) one at a time against the live world: preview the transition, start
 * the real backends its new tasks need, re-run it with their ports (same result otherwise: it is pure),
 * commit the state, stop the backends of tasks that went away, then publish the events.
 */
export class Engine {
  private current: SimState = emptyState();
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly listeners = new Set<(e: SimEvent) => void>();

  constructor(
    private readonly hub: EventHub,
    private readonly pool: TaskPool | undefined,
    private readonly ctx: () => Ctx,
  ) {}

  get state(): SimState {
    return this.current;
  }

  apply(op: Op, clientIp?: string): Promise<void> {
    const run = this.tail.then(async () => {
      if (this.closed) throw new SimulatorError(503, 'the simulator is closed');
      const ctx: Ctx = { ...this.ctx(), clientIp };
      const first = op(this.current, ctx);
      if (!first.ok) throw new SimulatorError(first.error.status, first.error.message);
      let out = first.value;
      let backends: TaskBackend[] = [];
      const pool = this.pool;
      const served = out.started.map((t) => pool?.serves(t.appId) === true);
      if (pool && served.includes(true)) {
        const wanted = out.started.filter((_, i) => served[i]);
        backends = await pool.allocate(wanted.map((t) => t.ports.length));
        // Tasks of apps the pool does not serve keep fake ports (a hole in `ports`).
        let next = 0;
        const ports = served.map((s) => (s ? backends[next++]!.ports : undefined));
        const again = op(this.current, { ...ctx, ports });
        if (!again.ok || again.value.started.length !== served.length) {
          await Promise.all(backends.map((b) => b.close()));
          throw new SimulatorError(
            500,
            `transition is not repeatable: ${again.ok ? 'task count changed' : again.error.message}`,
          );
        }
        out = again.value;
      }
      const next = out.state;
      this.current = next;
      let b = 0;
      out.started.forEach((t, i) => {
        if (served[i]) this.pool?.adopt(t, findApp(next, t.appId)!.def, backends[b++]!);
      });
      await this.pool?.stop(out.stopped.map((t) => t.id));
      this.publish(out.events);
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Sends events to every open stream and in-process listener. */
  publish(events: readonly SimEvent[]): void {
    this.hub.publish(events);
    for (const l of this.listeners) for (const e of events) l(e);
  }

  onEvent(listener: (e: SimEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Refuses new operations, waits for the running one, stops every task backend. */
  async close(): Promise<void> {
    this.closed = true;
    await this.tail;
    await this.pool?.closeAll();
  }
}
