/**
 * Task events carry whatever Marathon's event bus sends. Whatever their fields hold (any JSON value,
 * strings with line breaks, `;`, spaces, `$`, numbers out of range), the fast path must never throw,
 * and any server it would add through HAProxy's runtime API must be one HAProxy can take as it is:
 * an IP address, a port in 1..65535 and a name of plain characters (no command can ride on it).
 */
import fc from 'fast-check';
import { parseMarathonEvent } from '../../src/marathon/eventTypes';
import type { MarathonApp } from '../../src/marathon/types';
import { checkNames } from '../../src/haproxy/runtimeApi';
import { isIP, isPort } from '../../src/model/haproxyText';
import { toModel, type ModelOptions } from '../../src/model/services';
import { fastApplyAll, type FastEvent } from '../../src/reconcile/fastApply';
import { isFast } from '../../src/reconcile/fastPath';

const SEED = Number(process.env.MLB_PROPERTY_SEED ?? 7);

const resolve = (h: string): string | undefined => (h === 'agent-1' ? '10.1.0.1' : isIP(h) ? h : undefined);
const opts: ModelOptions = { groups: ['external'], healthCheck: true, strictMode: false, servicePortRange: null };

const app = (n: number, ipPerTask: boolean): MarathonApp => ({
  id: `/app${n}`,
  labels: { HAPROXY_GROUP: 'external' },
  ...(ipPerTask
    ? { ipAddress: { discovery: { ports: [{ number: 8080 }] } }, portDefinitions: [{ port: 10100 + n }] }
    : { portDefinitions: [{ port: 10000 + n }, { port: 10050 + n }] }),
  healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0 }],
  tasks: [0, 1].map((t) => ({
    id: `app${n}.t${t}`,
    host: t === 0 ? '10.0.0.1' : 'agent-1',
    state: 'TASK_RUNNING',
    ports: [31000 + t, 31100 + t],
    ...(ipPerTask ? { ipAddresses: [{ ipAddress: `172.16.0.${t + 1}` }] } : {}),
    healthCheckResults: [{ alive: true }],
  })),
});
const apps: readonly MarathonApp[] = [app(0, false), app(1, true)];

const HOSTILE_STRINGS = [
  '10.0.0.9\n  server x 1.2.3.4:80',
  '10.0.0.9;reload',
  '10.0.0.9 backup',
  '${MLB_SECRET}',
  '"10.0.0.9"',
  '',
  ' ',
  '::1',
  'agent-1',
  '10.0.0.9',
  '300.1.1.1',
  'a'.repeat(300),
  '\u0000',
  'app0.t0',
  'app0.t9',
  'TASK_RUNNING',
  'TASK_KILLED',
  '/app0',
  '/app1',
];
const text = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string(), fc.string({ unit: 'binary' }));
const number = fc.oneof(
  fc.integer({ min: -70000, max: 70000 }),
  fc.constantFrom(0, 1, 65535, 65536, 31000, 1.5, -1, 1e21, Number.MAX_SAFE_INTEGER),
  fc.double(),
);
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 3, arbitrary: number },
  { weight: 2, arbitrary: fc.array(fc.oneof(number, text, fc.constant(null)), { maxLength: 3 }) },
  { weight: 2, arbitrary: fc.array(fc.record({ ipAddress: fc.oneof(text, number) }), { maxLength: 2 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, undefined) },
);
const hostile = fc.constantFrom(...HOSTILE_STRINGS);
/** A field as Marathon would send it (`usual`), one of its shape holding hostile text, or any other value. */
const field = <T>(usual: fc.Arbitrary<T>, shaped: fc.Arbitrary<unknown> = hostile): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 2, arbitrary: usual }, { weight: 1, arbitrary: shaped }, { weight: 1, arbitrary: value });
/** A task event as the stream's JSON could carry it: its usual fields, each often something else. */
const rawEvent = fc.record(
  {
    eventType: fc.constantFrom('status_update_event', 'health_status_changed_event'),
    appId: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('/app0', '/app1') }, { weight: 1, arbitrary: value }),
    // Mostly new tasks: an event moving a known one is the snapshot's at once (movesTask), not a server added.
    taskId: field(fc.constantFrom('app0.t0', 'app0.t1', 'app0.t7', 'app0.t8', 'app1.t1', 'app1.t7', 'app1.t8')),
    instanceId: field(fc.constantFrom('app0.t1', 'app1')),
    taskStatus: field(fc.constantFrom('TASK_RUNNING', 'TASK_KILLED', 'TASK_STAGING')),
    host: field(fc.constantFrom('10.0.0.2', 'agent-1')),
    ports: field(fc.constant([31005, 31105]), fc.array(number, { minLength: 1, maxLength: 2 })),
    ipAddresses: field(
      fc.constant([{ ipAddress: '172.16.0.9' }]),
      hostile.map((ipAddress) => [{ ipAddress }]),
    ),
    alive: field(fc.boolean()),
  },
  { requiredKeys: ['eventType'] },
);

describe('hostile task events on the fast path', () => {
  it('never throw, and every server they would add is an address, a port and a plain name', () => {
    // With and without -H: without it a new task's first event adds its server (with it, only a
    // passed health check does); a known task said elsewhere is the snapshot's either way (movesTask).
    const withoutChecks: ModelOptions = { ...opts, healthCheck: false };
    const bases = [opts, withoutChecks].map((o) => ({ o, state: { apps, model: toModel(apps, o, { resolve }) } }));
    let applied = 0;
    let added = 0;
    fc.assert(
      fc.property(fc.array(rawEvent, { minLength: 1, maxLength: 6 }), fc.boolean(), (raws, checked) => {
        const events: FastEvent[] = [];
        for (const raw of raws) {
          const parsed = parseMarathonEvent(JSON.parse(JSON.stringify(raw)));
          if (parsed.ok && isFast(parsed.value)) events.push(parsed.value);
        }
        const { o, state: base } = bases[checked ? 0 : 1]!;
        const r = fastApplyAll(base, events, o, { resolve });
        const before = new Set(base.model.services.flatMap((s) => s.servers.map((v) => `${s.backend}/${v.name}`)));
        if (r.changed.length > 0) applied++;
        for (const svc of r.changed) {
          for (const server of svc.servers) {
            expect(isIP(server.ip)).toBe(true);
            expect(isPort(server.port)).toBe(true);
            expect(checkNames(svc.backend, server.name)).toBeUndefined();
            if (!before.has(`${svc.backend}/${server.name}`)) added++;
          }
        }
      }),
      { numRuns: 3000, seed: SEED },
    );
    // Some events were applied and added servers (the property was not vacuous).
    expect(applied).toBeGreaterThan(100);
    expect(added).toBeGreaterThan(30);
  });
});
