import type { Service } from '../model/types';
import { plan, type RuntimeOp } from './plan';

/**
 * Why HAProxy was changed through its runtime API (without a reload): server churn of one backend,
 * grouped by kind. Data like ReloadReason: text only for people, a fixed category for metrics.
 */
export interface RuntimeReason {
  readonly kind: RuntimeOp['kind'];
  readonly backend: string;
  readonly servers: number;
}

/** The runtime changes from one applied set of services to the next (what plan() found), grouped. */
export function runtimeReasons(previous: readonly Service[], next: readonly Service[]): RuntimeReason[] {
  return groupRuntimeOps(plan(previous, next).runtimeOps);
}

/** Runtime operations grouped by kind and backend. */
export function groupRuntimeOps(ops: readonly RuntimeOp[]): RuntimeReason[] {
  const counts = new Map<string, RuntimeReason>();
  for (const op of ops) {
    const k = `${op.kind}\0${op.backend}`;
    const r = counts.get(k);
    counts.set(k, { kind: op.kind, backend: op.backend, servers: (r?.servers ?? 0) + 1 });
  }
  return [...counts.values()];
}

export function formatRuntimeReason(r: RuntimeReason): string {
  switch (r.kind) {
    case 'add-server':
      return `runtime API: ${r.servers} server(s) added to ${r.backend}`;
    case 'remove-server':
      return `runtime API: ${r.servers} server(s) removed from ${r.backend}`;
    case 'set-draining':
      return `runtime API: drain state of ${r.servers} server(s) changed in ${r.backend}`;
  }
}

/** The label of `mlb_runtime_updates_total`: add_server, remove_server or set_draining. */
export function runtimeCategory(r: RuntimeReason): string {
  return r.kind.replace(/-/g, '_');
}
