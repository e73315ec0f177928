import { configOutsideServers, sameData, serviceShape } from '../model/equality';
import type { Server, Service } from '../model/types';
import type { ReloadReason } from './reloadReason';

/** A change HAProxy's runtime API can make without a reload. */
export type RuntimeOp =
  | { readonly kind: 'add-server'; readonly backend: string; readonly server: Server }
  | { readonly kind: 'remove-server'; readonly backend: string; readonly server: Server }
  | { readonly kind: 'set-draining'; readonly backend: string; readonly server: Server; readonly draining: boolean };

export interface Plan {
  readonly runtimeOps: readonly RuntimeOp[];
  /** Why a reload is needed; empty when the runtime ops express the whole change. */
  readonly reloadReasons: readonly ReloadReason[];
}

/** Backends whose algorithm refuses dynamic servers (HAProxy: static-rr). */
const STATIC_BALANCE = /^static-rr\b/;

/**
 * What it takes to go from the last applied services to the next ones: server churn inside
 * unchanged backends becomes runtime operations; anything else is a named reload reason.
 * `previous` is null before the first apply (HAProxy runs whatever config it started with).
 */
export function plan(
  previous: readonly Service[] | null,
  next: readonly Service[],
  configs?: {
    readonly previous: string;
    readonly next: string;
    /** configOutsideServers, or a memo of it (the previous config was the next one last time). */
    readonly outside?: (config: string) => string;
  },
): Plan {
  if (previous === null) return { runtimeOps: [], reloadReasons: [{ kind: 'initial' }] };
  const reasons: ReloadReason[] = [];
  const ops: RuntimeOp[] = [];
  // The same backends in the same order (the rule: states differ by a few servers): pairs, without maps of 10 000 entries.
  // The same object is the same backend: only services that changed compare their names.
  let aligned = previous.length === next.length;
  for (let i = 0; aligned && i < next.length; i++) {
    const a = previous[i]!;
    const b = next[i]!;
    if (a !== b && a.backend !== b.backend) aligned = false;
  }
  const before = aligned ? null : new Map(previous.map((s) => [s.backend, s]));
  const after = aligned ? null : new Map(next.map((s) => [s.backend, s]));
  if (before !== null && after !== null) {
    for (const backend of after.keys()) if (!before.has(backend)) reasons.push({ kind: 'backend-added', backend });
    for (const backend of before.keys()) if (!after.has(backend)) reasons.push({ kind: 'backend-removed', backend });
  }

  for (let i = 0; i < next.length; i++) {
    const b = next[i]!;
    const backend = b.backend;
    const a = before === null ? previous[i] : before.get(backend);
    if (a === undefined || a === b) continue; // the same object: a service a fast-path state did not touch
    if (!sameData(serviceShape(a), serviceShape(b))) {
      reasons.push({ kind: 'settings-changed', backend, fields: changedFields(a, b) });
      continue;
    }
    const serverOps = diffServers(backend, a.servers, b.servers);
    if ('kind' in serverOps) reasons.push(serverOps);
    else if (serverOps.length > 0 && STATIC_BALANCE.test(b.balance)) reasons.push({ kind: 'static-rr', backend });
    else ops.push(...serverOps);
  }
  // Templates, global options or anything else printed outside server lines: only a reload applies them.
  if (
    reasons.length === 0 &&
    configs !== undefined &&
    configs.previous !== configs.next &&
    (configs.outside ?? configOutsideServers)(configs.previous) !==
      (configs.outside ?? configOutsideServers)(configs.next)
  ) {
    reasons.push({ kind: 'config-changed' });
  }
  return reasons.length > 0 ? { runtimeOps: [], reloadReasons: reasons } : { runtimeOps: ops, reloadReasons: [] };
}

function diffServers(backend: string, before: readonly Server[], after: readonly Server[]): RuntimeOp[] | ReloadReason {
  const old = new Map<string, Server>(); // the last of a name, as new Map(entries) keeps: no pair array per server
  for (const s of before) old.set(s.name, s);
  const ops: RuntimeOp[] = [];
  const seen = new Set<string>();
  for (const s of after) {
    if (seen.has(s.name)) return { kind: 'duplicate-server', backend, server: s.name };
    seen.add(s.name);
    const prev = old.get(s.name);
    if (prev === undefined) {
      ops.push({ kind: 'add-server', backend, server: s });
      continue;
    }
    // Names encode the address, so a changed id or check port is a new server definition.
    if (prev.id !== s.id || prev.healthCheckPort !== s.healthCheckPort || prev.ip !== s.ip || prev.port !== s.port) {
      return { kind: 'server-changed', backend, server: s.name };
    }
    if (prev.draining !== s.draining) ops.push({ kind: 'set-draining', backend, server: s, draining: s.draining });
  }
  for (const s of before) if (!seen.has(s.name)) ops.push({ kind: 'remove-server', backend, server: s });
  return ops;
}

function changedFields(a: Service, b: Service): string[] {
  const before = serviceShape(a) as Readonly<Record<string, unknown>>;
  const after = serviceShape(b) as Readonly<Record<string, unknown>>;
  return Object.keys(after).filter((k) => !sameData(before[k], after[k]));
}
