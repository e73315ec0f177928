import * as fs from 'node:fs';
import * as path from 'node:path';
import { httpGet, type LiveSystem } from '../../src/demo/live';
import { describeWithHaproxy } from '../support/haproxy';
import type { LogLine } from '../support/controllerHarness';
import { haproxyServers, startLiveApplied } from '../support/liveSystem';
import { waitFor } from '../support/wait';

const web = {
  id: '/web',
  instances: 2,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'events.example.com' },
  portDefinitions: [{ port: 10121 }],
};
const MARK = 'pwned';

/** Task events for the known app /web whose bytes no Marathon sends: each must be refused or harmless. */
const task = (taskId: string, fields: Record<string, unknown>): Record<string, unknown> => ({
  eventType: 'status_update_event',
  appId: '/web',
  taskId,
  taskStatus: 'TASK_RUNNING',
  ...fields,
});
const HOSTILE: Record<string, unknown>[] = [
  task('web.h1', { host: `127.0.0.1\n  server ${MARK} 127.0.0.1:1`, ports: [31001] }),
  task('web.h2', { host: `127.0.0.1;${MARK}`, ports: [31002] }),
  task('web.h3', { host: `127.0.0.1 ${MARK}`, ports: [31003] }),
  task('web.h4', { host: '${MLB_SECRET}', ports: [31004] }),
  task('web.p1', { host: '127.0.0.1', ports: [70000] }),
  task('web.p2', { host: '127.0.0.1', ports: [-1] }),
  task('web.p3', { host: '127.0.0.1', ports: [1.5] }),
  task('web.p4', { host: '127.0.0.1', ports: ['31005'] }),
  task('web.p5', { host: '127.0.0.1', ports: null }),
  task('web.p6', { host: '127.0.0.1', ports: [0] }),
  task('web.i1', { host: '127.0.0.1', ports: [31006], ipAddresses: [{ ipAddress: `10.0.0.1\n${MARK}` }] }),
  task('web.i2', { host: '127.0.0.1', ports: [31007], ipAddresses: 'x' }),
  task(`web.${'x'.repeat(20000)}`, { host: 7, ports: [31008] }),
  task(`web.${MARK}\nbackend ${MARK}`, { host: 'nohost..', ports: [31009] }),
  { eventType: 'status_update_event', appId: null, taskId: 'web.n1', taskStatus: 'TASK_RUNNING' },
  { eventType: 'status_update_event', appId: `/web\nbackend ${MARK}`, taskId: 'x', taskStatus: 'TASK_RUNNING' },
  { eventType: 'health_status_changed_event', appId: '/web', alive: 'yes', taskId: 'web.h1' },
  { eventType: 'health_status_changed_event', appId: '/web', alive: false, instanceId: 5 },
  { eventType: 'health_status_changed_event', appId: '/web', alive: false, taskId: `web.${MARK}\n` },
];

/**
 * The event fast path takes task events straight to HAProxy's runtime API. Events whose bytes no
 * Marathon sends (a host with a line break or a `;`, a port outside 1..65535 or of another type, a
 * field of the wrong type) must add no server, no config line and no runtime command, must not stop
 * the pipeline, and must not take the app's routing away: the snapshot decides, as it does for any event.
 */
describeWithHaproxy('chaos: hostile task events on the fast path', () => {
  let live: LiveSystem;
  const logs: LogLine[] = [];
  const servers = () => haproxyServers(live, 'web_10121');
  const configText = (): string =>
    fs
      .readdirSync(live.dir)
      .filter((f) => f.endsWith('.cfg'))
      .map((f) => fs.readFileSync(path.join(live.dir, f), 'utf8'))
      .join('\n');

  beforeAll(async () => {
    live = await startLiveApplied({
      apps: [web],
      logs,
      flags: ['--fast-path', '--debounce-quiet', '1', '--debounce-max-wait', '2'],
      backend: 'web_10121',
      servers: 2,
    });
  }, 30000);
  afterAll(async () => live?.stop());

  test('each is refused or harmless; the app is served throughout; the snapshot leaves its real tasks', async () => {
    const real = live.sim.tasksOf('/web').map((t) => t.ports[0]);
    const start = logs.length;
    let asked = 0;
    let failed = 0;
    let stop = false;
    const asking = (async () => {
      while (!stop) {
        const a = await httpGet(live.ports.http, 'events.example.com').catch(() => undefined);
        asked++;
        if (a?.status !== 200) failed++;
      }
    })();
    for (const e of HOSTILE) {
      live.sim.emit([e as { eventType: string }]);
      await new Promise((r) => setTimeout(r, 30));
    }
    // The events trigger snapshots as any event of their type does: one of them comes after the last.
    const emitted = logs.length;
    await waitFor(
      'a snapshot after the hostile events',
      () => logs.slice(emitted).some((l) => l.msg.includes('/v2/apps')),
      15000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await asking;
    expect(asked).toBeGreaterThan(20);
    expect(failed).toBe(0);
    const after = await servers();
    expect(after.map((s) => s.port).sort()).toEqual([...real].sort());
    const cfg = configText();
    expect(cfg).toContain('backend web_10121');
    expect(cfg).not.toContain(MARK);
    expect(cfg).not.toContain('MLB_SECRET');
    const since = logs.slice(start);
    expect(since.filter((l) => l.level === 'error')).toEqual([]);
    expect(since.filter((l) => l.msg.startsWith('HAProxy reloaded'))).toEqual([]);
  }, 60000);

  test('a task event the fast path cannot use still makes a snapshot, as any event of its type does', async () => {
    // An app only the snapshot shows (no event announced it), then one unusable event: the snapshot
    // it triggers routes the app, long before the 300 s resync.
    const real = live.sim.tasksOf('/web')[0]!;
    const extra = {
      id: '/extra',
      labels: { HAPROXY_GROUP: 'external' },
      portDefinitions: [{ port: 10131, protocol: 'tcp' }],
      tasks: [{ id: 'extra.1', appId: '/extra', host: '127.0.0.1', ports: [real.ports[0]], state: 'TASK_RUNNING' }],
    };
    live.sim.setFaults({ extraApps: [extra] });
    try {
      const start = logs.length;
      live.sim.emit([{ eventType: 'status_update_event', appId: '/web', taskStatus: 'TASK_RUNNING' }]); // no taskId
      await waitFor(
        'the extra app routed',
        () => live.service.status.status().services.some((s) => s.backend === 'extra_10131'),
        10000,
      );
      expect(logs.slice(start).some((l) => l.msg.includes('left to the next snapshot'))).toBe(true);
    } finally {
      live.sim.clearFaults();
    }
  }, 20000);

  test('routing keeps following Marathon after them: a new task is served', async () => {
    await live.sim.scale('/web', 3);
    const newest = live.sim.tasksOf('/web')[2]!.id;
    let seen = false;
    for (let i = 0; i < 300 && !seen; i++) {
      const a = await httpGet(live.ports.http, 'events.example.com').catch(() => undefined);
      seen = a?.status === 200 && a.body.includes(newest);
      if (!seen) await new Promise((r) => setTimeout(r, 20));
    }
    expect(seen).toBe(true);
  }, 20000);
});
