import { keptIdsOf } from '../../src/model/keptIds';
import { serverId } from '../../src/model/serverIds';
import { toModel, type ModelContext } from '../../src/model/services';
import type { Server } from '../../src/model/types';
import { resolverFrom } from '../../src/marathon/resolveHosts';
import { plan } from '../../src/reconcile/plan';

const resolve = resolverFrom(new Map());
const opts = { groups: ['external'], strictMode: false, healthCheck: false, servicePortRange: null };
const app = (ports: readonly number[]) => ({
  id: '/big',
  labels: { HAPROXY_GROUP: 'external' },
  portDefinitions: [{ port: 10000 }],
  tasks: ports.map((p) => ({ id: `big.${p}`, host: '10.0.0.1', ports: [p], state: 'TASK_RUNNING' })),
});
const servicesOf = (ports: readonly number[], ctx: ModelContext = { resolve }) =>
  toModel([app(ports)], opts, ctx).services;
const ids = (servers: readonly Server[]): Record<string, number> =>
  Object.fromEntries(servers.map((s) => [s.name.slice('10_0_0_1_'.length), s.id]));

/** Two ports, a < b, whose server names hash to the same marathon-lb id: b, after a, gets another. */
function collidingPorts(): [number, number] {
  const first = new Map<number, number>();
  for (let port = 1; port < 65536; port++) {
    const id = serverId(`10_0_0_1_${port}`, new Set());
    const other = first.get(id);
    if (other !== undefined) return [other, port];
    first.set(id, port);
  }
  throw new Error('no two ports collide');
}

describe('server ids: servers that stay keep the ids HAProxy runs them with', () => {
  const [a, b] = collidingPorts();

  test('a server before a collided one goes: without kept ids the other moves (a reload); with them it stays', () => {
    const before = servicesOf([a, b]);
    const [h, r] = [ids(before[0]!.servers)[a]!, ids(before[0]!.servers)[b]!];
    expect(h).not.toBe(r);
    const moved = servicesOf([b]);
    expect(ids(moved[0]!.servers)).toEqual({ [b]: h }); // marathon-lb's id for b alone
    expect(plan(before, moved).reloadReasons).toEqual([
      { kind: 'server-changed', backend: 'big_10000', server: `10_0_0_1_${b}` },
    ]);

    const kept = servicesOf([b], { resolve, keptIds: keptIdsOf(before) });
    expect(ids(kept[0]!.servers)).toEqual({ [b]: r });
    expect(plan(before, kept)).toEqual({
      runtimeOps: [{ kind: 'remove-server', backend: 'big_10000', server: before[0]!.servers[0] }],
      reloadReasons: [],
    });
  });

  test("a new server that hashes to a running one's id takes another: the running one keeps its id", () => {
    const before = servicesOf([b]);
    const h = ids(before[0]!.servers)[b]!;
    expect(plan(before, servicesOf([a, b])).reloadReasons).toHaveLength(1); // marathon-lb's ids: b moves
    const after = servicesOf([a, b], { resolve, keptIds: keptIdsOf(before) });
    const got = ids(after[0]!.servers);
    expect(got[b]).toBe(h);
    expect(got[a]).not.toBe(h);
    expect(plan(before, after).reloadReasons).toEqual([]);
    expect(plan(before, after).runtimeOps.map((o) => o.kind)).toEqual(['add-server']);
  });

  test('what did not change is rebuilt with the same ids, also a name twice (two tasks on one address)', () => {
    const before = servicesOf([a, b, b, 5000, 5000]);
    expect(servicesOf([a, b, b, 5000, 5000], { resolve, keptIds: keptIdsOf(before) })).toEqual(before);
    // With nothing kept (a first snapshot, --dry), the ids are marathon-lb's.
    expect(servicesOf([a, b], { resolve, keptIds: keptIdsOf([]) })).toEqual(servicesOf([a, b]));
  });
});
