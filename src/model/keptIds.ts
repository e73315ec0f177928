import type { Server, Service } from './types';

/**
 * The servers HAProxy runs now, by backend: a server that stays keeps its id (HAProxy cannot change
 * a running server's id; a moved one would cost a reload), and a new one takes marathon-lb's id
 * skipping those (services.ts).
 */
export interface KeptIds {
  /** The servers of `backend` HAProxy runs; undefined for a backend it does not run. */
  servers(backend: string): readonly Server[] | undefined;
  /** Their ids by name, in order (a name twice in a backend, two tasks on one address, has two). */
  ids(backend: string): ReadonlyMap<string, readonly number[]> | undefined;
}

/** The KeptIds of a model's services (the applied state's); a backend's name → id map is made when first asked for. */
export function keptIdsOf(services: readonly Service[]): KeptIds {
  let byBackend: Map<string, Service> | undefined;
  const made = new Map<string, ReadonlyMap<string, readonly number[]>>();
  const servers = (backend: string): readonly Server[] | undefined => {
    byBackend ??= new Map(services.map((s) => [s.backend, s]));
    return byBackend.get(backend)?.servers;
  };
  return {
    servers,
    ids: (backend) => {
      let ids = made.get(backend);
      if (ids === undefined) {
        const list = servers(backend);
        if (list === undefined) return undefined;
        const byName = new Map<string, number[]>();
        for (const s of list) {
          const same = byName.get(s.name);
          if (same === undefined) byName.set(s.name, [s.id]);
          else same.push(s.id);
        }
        ids = byName;
        made.set(backend, ids);
      }
      return ids;
    },
  };
}

/** Whether `servers` give every server HAProxy runs in `backend` its id there (servers built for another state may not). */
export function keepsIds(kept: KeptIds | undefined, backend: string, servers: readonly Server[]): boolean {
  const running = kept?.servers(backend);
  if (running === undefined || running === servers) return true; // the same array: built for that state
  const ids = keptIdsIn(
    kept!.ids(backend)!,
    servers.map((s) => s.name),
  );
  return servers.every((s, i) => ids[i] === undefined || ids[i] === s.id);
}

/** For each name in turn, its kept id: the k-th server of a name has the k-th id that name had. */
export function keptIdsIn(
  ids: ReadonlyMap<string, readonly number[]>,
  names: readonly string[],
): (number | undefined)[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const k = seen.get(name) ?? 0;
    seen.set(name, k + 1);
    return ids.get(name)?.[k];
  });
}
