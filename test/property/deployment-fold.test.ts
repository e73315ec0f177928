/**
 * A deployment group (with distinct task ids) is folded without re-sorting every gathered task at each
 * step (deployments.ts foldMany). It must give the very app upstream's pair-by-pair merge gives:
 * random groups with ties and both orders of HAPROXY_DEPLOYMENT_STARTED_AT, NEW/TARGET_INSTANCES
 * (garbage included), scaling times, health checks on some apps, alive and dead tasks, empty apps.
 */
import fc from 'fast-check';
import { foldPairwise, mergeDeployments, type GroupMember } from '../../src/model/deployments';
import type { MarathonApp } from '../../src/marathon/types';

const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });

const appArb = (appNo: number): fc.Arbitrary<MarathonApp> =>
  fc
    .record({
      startedAt: optional(fc.constantFrom('2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', 'not a date')),
      newInstances: optional(fc.constantFrom('0', '2', '')),
      target: optional(fc.constantFrom('0', '1', '3', 'x')),
      scaledAt: optional(fc.constantFrom('2024-01-01T00:00:00Z', '2024-01-03T00:00:00Z')),
      instances: optional(fc.integer({ min: 0, max: 5 })),
      checks: fc.boolean(),
      // Task names shared by every app, so a group's tasks interleave when sorted by id.
      tasks: fc.uniqueArray(fc.integer({ min: 0, max: 30 }), { maxLength: 5 }),
      alive: fc.array(fc.constantFrom<boolean | null>(true, false, null), { minLength: 5, maxLength: 5 }),
    })
    .map((a) => ({
      id: `/blue-green-${appNo}`,
      labels: {
        HAPROXY_DEPLOYMENT_GROUP: 'shop',
        ...(a.startedAt !== undefined ? { HAPROXY_DEPLOYMENT_STARTED_AT: a.startedAt } : {}),
        ...(a.newInstances !== undefined ? { HAPROXY_DEPLOYMENT_NEW_INSTANCES: a.newInstances } : {}),
        ...(a.target !== undefined ? { HAPROXY_DEPLOYMENT_TARGET_INSTANCES: a.target } : {}),
      },
      ...(a.instances !== undefined ? { instances: a.instances } : {}),
      ...(a.scaledAt !== undefined ? { versionInfo: { lastScalingAt: a.scaledAt } } : {}),
      ...(a.checks ? { healthChecks: [{ protocol: 'HTTP' }] } : {}),
      tasks: a.tasks.map((n, k) => ({
        // Distinct across apps (the app number is in it), interleaved by the shared number.
        id: `shop.${String(n).padStart(2, '0')}.${appNo}`,
        host: '10.0.0.1',
        ports: [31000 + n],
        ...(a.alive[k] === null ? {} : { healthCheckResults: [{ alive: a.alive[k]! }] }),
      })),
    }));

const groupArb = fc
  .integer({ min: 1, max: 9 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => appArb(i))));

test('a group of any size merges to the app upstream merges pair by pair', () => {
  fc.assert(
    fc.property(groupArb, (apps) => {
      const members: GroupMember[] = apps.map((app) => ({ renamed: { ...app, id: '/shop' }, original: app }));
      const merged = mergeDeployments(apps);
      expect(merged).toHaveLength(1);
      expect(merged[0]).toEqual(foldPairwise(members));
    }),
    { numRuns: 3000 },
  );
});

test('apps outside groups come first and keep their order; groups follow in order of first appearance', () => {
  const plain = (id: string): MarathonApp => ({ id, labels: {}, tasks: [] });
  const member = (id: string, group: string): MarathonApp => ({
    id,
    labels: { HAPROXY_DEPLOYMENT_GROUP: group },
    tasks: [{ id: `${id.slice(1)}.1`, host: '10.0.0.1', ports: [31000] }],
  });
  const apps = [
    member('/b1', 'b'),
    plain('/x'),
    member('/a1', 'a'),
    member('/b2', 'b'),
    member('/b3', 'b'),
    plain('/y'),
  ];
  expect(mergeDeployments(apps).map((a) => [a.id, a.tasks.map((t) => t.id)])).toEqual([
    ['/x', []],
    ['/y', []],
    ['/b', ['b3.1', 'b2.1', 'b1.1']],
    ['/a', ['a1.1']],
  ]);
});
