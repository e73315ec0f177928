import { sectionsOf } from '../haproxy/sections';
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

/**
 * Server changes past which a reload is sooner than HAProxy's runtime API. A runtime command costs
 * HAProxy 2.6 more the bigger the backend it changes: through the master CLI on 2 cores, 569 servers
 * were added in 0.7 s to a backend of 21 000 and 128 took 1.35 s at 29 000, where a seamless reload
 * of the whole config took about 1 s (a scale of 10 000 tasks took 22 s through the runtime API; found
 * by an audit). So each change weighs 1 + its backend's servers / SERVERS_PER_WEIGHT, and a plan
 * weighing more than RUNTIME_WEIGHT_BUDGET reloads: ~2 000 changes to small backends, ~130 to one of
 * 30 000 servers.
 */
const RUNTIME_WEIGHT_BUDGET = 2000;
const SERVERS_PER_WEIGHT = 2000;

const STATIC_RR = /^static-rr\b/;

/** Algorithms that hash onto a table of servers: HAProxy adds servers at runtime to them only with `hash-type consistent`. */
const HASH_BALANCE = /^(?:source|uri|url_param|hdr\(|rdp-cookie)/;

/**
 * Whether HAProxy refuses `add server` to a backend balanced so ("Backend must use a dynamic load
 * balancing to support dynamic servers"): static-rr, and the hashing ones on a map (their default
 * hash-type). Planned as runtime changes, each scale of such an app was a refused attempt, a warning,
 * then the reload (an operator audit).
 */
export function refusesDynamicServers(balance: string, consistentHashing: boolean): boolean {
  return STATIC_RR.test(balance) || (HASH_BALANCE.test(balance) && !consistentHashing);
}

/**
 * The backends (and listen sections) of `config` that hash consistently: by their own `hash-type`
 * line, else that of the last `defaults` section before them (HAProxy's rule); HAProxy's default is
 * map-based. One pass over the config, made only for a plan that scales such a backend.
 */
export function consistentlyHashed(config: string): ReadonlySet<string> {
  const hashed = new Set<string>();
  const defaults = sectionsOf(config, 'defaults');
  for (const kind of ['backend', 'listen']) {
    for (const s of sectionsOf(config, kind)) {
      const name = config.slice(s.start, s.headerEnd).trim().split(/\s+/)[1];
      if (name === undefined) continue;
      let consistent = hashTypeIn(config.slice(s.headerEnd, s.end));
      const before = defaults.filter((d) => d.start < s.start).pop();
      if (consistent === null && before !== undefined)
        consistent = hashTypeIn(config.slice(before.headerEnd, before.end));
      if (consistent === true) hashed.add(name);
    }
  }
  return hashed;
}

function hashTypeIn(section: string): boolean | null {
  const lines = [...section.matchAll(/^[ \t]*hash-type[ \t]+(\S+)/gm)];
  return lines.length === 0 ? null : lines[lines.length - 1]![1] === 'consistent';
}

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
  let weight = 0;
  let largest: Service | undefined;
  let hashed: ReadonlySet<string> | undefined;
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
    else if (serverOps.length > 0 && STATIC_RR.test(b.balance)) reasons.push({ kind: 'static-rr', backend });
    else if (
      serverOps.length > 0 &&
      HASH_BALANCE.test(b.balance) &&
      refusesDynamicServers(
        b.balance,
        (hashed ??= configs === undefined ? new Set() : consistentlyHashed(configs.next)).has(backend),
      )
    )
      reasons.push({ kind: 'map-based-hash', backend, balance: b.balance });
    else if (serverOps.length > 0) {
      for (const op of serverOps) ops.push(op);
      weight += serverOps.length * (1 + Math.max(a.servers.length, b.servers.length) / SERVERS_PER_WEIGHT);
      if (largest === undefined || b.servers.length > largest.servers.length) largest = b;
    }
  }
  if (reasons.length === 0 && weight > RUNTIME_WEIGHT_BUDGET)
    reasons.push({ kind: 'many-server-changes', servers: ops.length, largestBackend: largest!.backend });
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
  // Servers leaving rotation go after those joining it: a blue/green switch drained the old servers
  // first, and HAProxy had none available until the new ones were enabled.
  const drains: RuntimeOp[] = [];
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
    if (prev.draining !== s.draining)
      (s.draining ? drains : ops).push({ kind: 'set-draining', backend, server: s, draining: s.draining });
  }
  for (const op of drains) ops.push(op);
  for (const s of before) if (!seen.has(s.name)) ops.push({ kind: 'remove-server', backend, server: s });
  return ops;
}

function changedFields(a: Service, b: Service): string[] {
  const before = serviceShape(a) as Readonly<Record<string, unknown>>;
  const after = serviceShape(b) as Readonly<Record<string, unknown>>;
  return Object.keys(after).filter((k) => !sameData(before[k], after[k]));
}
