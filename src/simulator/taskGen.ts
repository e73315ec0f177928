import { hostPortSlots, servicePortsOf } from './appDef';
import { FIRST_HOST_PORT, LAST_HOST_PORT, type AppDef, type Ctx, type SimState, type SimTask } from './types';

/**
 * Creates `count` running tasks of an app (healthy and ready at once unless `ctx.delayed`). Ids follow Marathon's `<app path with _>.<uuid>` form;
 * host ports come from `ctx.ports[cursor + i]` (real listeners) or else fixed/fake ports from the state.
 */
export function newTasks(
  def: AppDef,
  count: number,
  state: SimState,
  ctx: Ctx,
  cursor: number,
): { readonly tasks: readonly SimTask[]; readonly state: SimState } {
  let { seq, nextHostPort } = state;
  const slots = hostPortSlots(def);
  const servicePorts = servicePortsOf(def);
  const healthChecked = def.healthChecks.length > 0;
  const readinessChecked = Array.isArray(def['readinessChecks']) && def['readinessChecks'].length > 0;
  // With the simulator's clock running, tasks start unchecked and not ready; else healthy and ready at once.
  const delayed = ctx.delayed === true;
  const tasks: SimTask[] = [];
  for (let i = 0; i < count; i++) {
    seq++;
    const supplied = ctx.ports?.[cursor + i];
    const ports = slots.map((fixed, p) => {
      if (supplied?.[p] !== undefined) return supplied[p];
      if (fixed !== 0) return fixed;
      const port = nextHostPort;
      nextHostPort = port >= LAST_HOST_PORT ? FIRST_HOST_PORT : port + 1;
      return port;
    });
    tasks.push({
      id: `${def.id.slice(1).replace(/\//g, '_')}.${uuidOf(seq, ctx.seed)}`,
      appId: def.id,
      host: ctx.host,
      slaveId: `sim-agent-${((seq - 1) % 3) + 1}`,
      ports,
      servicePorts,
      state: 'TASK_RUNNING',
      stagedAt: ctx.now,
      startedAt: ctx.now,
      version: def.version,
      alive: healthChecked ? !delayed : null,
      awaitingHealth: healthChecked && delayed,
      ready: readinessChecked ? !delayed : null,
      consecutiveFailures: 0,
      lastSuccess: healthChecked && !delayed ? ctx.now : null,
      lastFailure: null,
    });
  }
  return { tasks, state: { ...state, seq, nextHostPort } };
}

/** Number of host ports each new task of this app needs (for pre-starting real listeners). */
function uuidOf(seq: number, seed: string): string {
  const hex = (n: number, w: number): string => n.toString(16).padStart(w, '0').slice(-w);
  const tail = (seed.replace(/[^0-9a-f]/gi, '').toLowerCase() + '000000000000').slice(0, 12);
  return `${hex(seq, 8)}-0000-4000-8000-${tail}`;
}

export const newDeploymentId = (seq: number, seed: string): string =>
  uuidOf(seq, seed).replace(/^(.{8})-0000/, '$1-d000');
