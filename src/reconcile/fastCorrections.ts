import type { Model, Server, Service } from '../model/types';

/**
 * How many servers a snapshot contradicts of what task and health events changed since the snapshot
 * before (`claimed`: the state they built on it, `snapshot`: the model that snapshot gave): a server
 * they added (or drained) that the new snapshot lacks, or one they removed that it still has. What
 * the snapshot adds or removes beyond them is no correction: events still queued when it was read
 * (a scale's new tasks) or changes the events never spoke of (a label). Counted so, the corrections
 * metric rose at every scale churn, and missed a task added by an event Marathon never had once a
 * snapshot had replayed it.
 */
export function contradictedServers(snapshot: Model, claimed: Model, next: Model): number {
  const before = byBackend(snapshot.services);
  const after = byBackend(next.services);
  let wrong = 0;
  for (const svc of claimed.services) {
    const was = before.get(svc.backend);
    if (was === svc) continue; // not rebuilt by an event
    const old = keys(was?.servers);
    const claims = keys(svc.servers);
    const now = keys(after.get(svc.backend)?.servers);
    for (const k of claims) if (!old.has(k) && !now.has(k)) wrong++;
    for (const k of old) if (!claims.has(k) && now.has(k)) wrong++;
  }
  return wrong;
}

const byBackend = (services: readonly Service[]): Map<string, Service> => new Map(services.map((s) => [s.backend, s]));

/** A server as routing sees it: where it sends, and whether it is drained. */
const keys = (servers: readonly Server[] | undefined): Set<string> =>
  new Set((servers ?? []).map((s) => `${s.name} ${s.ip}:${s.port}${s.draining ? ' drained' : ''}`));
