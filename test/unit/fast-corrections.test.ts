/**
 * What counts as the snapshot correcting the event fast path: a server the events changed that the
 * snapshot says otherwise of. A live audit found the metric rose at ordinary scale churn (the new
 * tasks' events were still queued when the snapshot was read) and missed a task added by an event
 * Marathon never had, once a snapshot had replayed that event.
 */
import { contradictedServers } from '../../src/reconcile/fastCorrections';
import type { Model, Server, Service } from '../../src/model/types';
import { toModel } from '../../src/model/services';
import type { MarathonApp } from '../../src/marathon/types';

const resolve = (h: string): string => h;
const app = (ports: readonly number[], drained: readonly number[] = []): MarathonApp => ({
  id: '/c',
  labels: { HAPROXY_GROUP: 'external' },
  portDefinitions: [{ port: 10001 }],
  tasks: ports.map((port) => ({
    id: `c.${port}`,
    host: '10.0.0.1',
    ports: [port],
    state: 'TASK_RUNNING',
    ...(drained.includes(port) ? { draining: true } : {}),
  })),
});
const model = (...apps: MarathonApp[]): Model =>
  toModel(apps, { groups: ['external'], healthCheck: false, strictMode: false, servicePortRange: null }, { resolve });
/** `claimed`'s services, each a new object where its servers differ from `snapshot`'s (as the fast path rebuilds). */
const rebuilt = (snapshot: Model, claimed: Model): Model => ({
  ...claimed,
  services: claimed.services.map((s: Service) => {
    const was = snapshot.services.find((x) => x.backend === s.backend);
    const same = (a: readonly Server[], b: readonly Server[]): boolean => JSON.stringify(a) === JSON.stringify(b);
    return was !== undefined && same(was.servers, s.servers) ? was : s;
  }),
});

describe('a snapshot corrects the fast path only where it contradicts what the events changed', () => {
  const base = model(app([31001, 31002, 31003]));

  test('kills applied, the scale-up events still queued when the snapshot came: nothing to correct', () => {
    const claimed = rebuilt(base, model(app([31001])));
    expect(contradictedServers(base, claimed, model(app([31001, 31004, 31005])))).toBe(0);
  });

  test('a task an event added that Marathon never had is a correction, replayed or not', () => {
    const claimed = rebuilt(base, model(app([31001, 31002, 31003, 31181])));
    expect(contradictedServers(base, claimed, model(app([31001, 31002, 31003])))).toBe(1);
  });

  test('a task an event removed that the snapshot still lists is a correction', () => {
    const claimed = rebuilt(base, model(app([31001, 31002])));
    expect(contradictedServers(base, claimed, model(app([31001, 31002, 31003])))).toBe(1);
  });

  test('a drain the snapshot does not show is a correction; the same drain is none', () => {
    const claimed = rebuilt(base, model(app([31001, 31002, 31003], [31002])));
    expect(contradictedServers(base, claimed, model(app([31001, 31002, 31003])))).toBe(2);
    expect(contradictedServers(base, claimed, model(app([31001, 31002, 31003], [31002])))).toBe(0);
  });

  test('backends the events did not touch are not looked at, whatever the snapshot did to them', () => {
    expect(contradictedServers(base, base, model())).toBe(0);
  });
});
