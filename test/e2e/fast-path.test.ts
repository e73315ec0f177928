import { FILE_ONLY_APPLIED } from '../../src/controller';
import { httpGet, type LiveSystem } from '../../src/demo/live';
import { serverId } from '../../src/model/serverIds';
import { describeWithHaproxy } from '../support/haproxy';
import type { LogLine } from '../support/controllerHarness';
import { haproxyServers, startLiveApplied } from '../support/liveSystem';
import { waitFor } from '../support/wait';

const web = {
  id: '/web',
  instances: 2,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'fast.example.com' },
  portDefinitions: [{ port: 10111 }],
};
const solo = {
  id: '/solo',
  instances: 1,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'solo.example.com' },
  portDefinitions: [{ port: 10112 }],
};
const taskOf = (body: string): string => (JSON.parse(body) as { task: string }).task;

/**
 * The real controller, simulator and HAProxy with a 5 s debounce: a scale-up is served through the
 * runtime API by the event fast path; the debounced snapshot comes after and finds nothing to change.
 */
describeWithHaproxy('the event fast path', () => {
  let live: LiveSystem;
  const logs: LogLine[] = [];
  const index = (pred: (l: LogLine) => boolean, from = 0): number => logs.findIndex((l, i) => i >= from && pred(l));
  /** The debounced snapshot after log line `from` found HAProxy's servers as they are: nothing, or only the file, to apply. */
  const snapshotFindsNothing = (from: number): Promise<void> =>
    waitFor(
      'the debounced snapshot',
      () => index((l) => l.msg === 'config unchanged: nothing to apply' || l.msg === FILE_ONLY_APPLIED, from) >= 0,
      20000,
    );
  /** The servers HAProxy lists in /web's backend. */
  const servers = () => haproxyServers(live, 'web_10111');
  /** Until HAProxy lists `n` servers in /web's backend. */
  const listing = async (n: number, timeoutMs: number): Promise<void> => {
    for (const deadline = Date.now() + timeoutMs; (await servers()).length !== n;) {
      if (Date.now() > deadline) throw new Error(`HAProxy lists ${(await servers()).length} servers, not ${n}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  beforeAll(async () => {
    live = await startLiveApplied({
      apps: [web, solo],
      logs,
      flags: ['--fast-path', '--debounce-quiet', '5', '--debounce-max-wait', '8'],
      backend: 'web_10111',
      servers: 2,
    });
  }, 30000);
  afterAll(async () => live?.stop());

  test('a new task answers through HAProxy before the snapshot; the snapshot then has nothing to correct', async () => {
    const start = logs.length;
    await live.sim.scale('/web', 3);
    const newest = live.sim.tasksOf('/web')[2]!.id;
    let answered = -1;
    for (let i = 0; i < 400 && answered < 0; i++) {
      const a = await httpGet(live.ports.http, 'fast.example.com').catch(() => undefined);
      if (a?.status === 200 && taskOf(a.body) === newest) answered = logs.length;
      else await new Promise((r) => setTimeout(r, 10));
    }
    expect(answered).toBeGreaterThan(-1);
    // Recorded order: the runtime update came before any snapshot fetch for this change.
    const before = logs.slice(start, answered).map((l) => l.msg);
    expect(before.filter((m) => m.startsWith('updating HAProxy through the runtime API'))).toHaveLength(1);
    expect(before.filter((m) => m.includes('/v2/apps'))).toEqual([]);
    await waitFor(
      'the fast-path apply to be recorded',
      () => index((l) => l.msg.startsWith('fast path applied: status_update_event of app /web'), start) >= 0,
      10000,
    );
    const fast = index((l) => l.msg.startsWith('fast path applied: status_update_event of app /web'), start);
    const fetched = index((l) => l.msg.includes('/v2/apps'), start);
    expect(fetched < 0 || fetched > fast).toBe(true);
    // It finds HAProxy's servers as they are: nothing to apply, or only the file to write (no runtime operation).
    await snapshotFindsNothing(fast);
    expect(logs.slice(start).filter((l) => l.msg.startsWith('fast path corrected'))).toEqual([]);
    expect(logs.slice(start).filter((l) => l.msg.startsWith('HAProxy reloaded'))).toEqual([]);
  }, 40000);

  test('a burst of task events (150 tasks started at once) is built in a few batches and served before the snapshot', async () => {
    await waitFor('the snapshot after the last test', () => index((l) => l.msg.includes('/v2/apps'), 0) >= 0, 20000);
    await new Promise((r) => setTimeout(r, 500));
    const start = logs.length;
    const before = (await servers()).length;
    await live.sim.scale('/web', before + 150);
    await listing(before + 150, 15000);
    // Served by the fast path alone, before the debounced snapshot (5 s of quiet) fetched anything.
    expect(logs.slice(start).filter((l) => l.msg.includes('/v2/apps'))).toEqual([]);
    // An apply is recorded once its health gate passed: HAProxy may list the servers before that.
    const batch = (l: LogLine): boolean =>
      l.msg.startsWith('fast path applied:') && / task and health events of app \/web$/.test(l.msg);
    await waitFor('a batch applied by the fast path to be recorded', () => index(batch, start) >= 0, 10000);
    const since = logs.slice(start).map((l) => l.msg);
    expect(since.filter((m) => m.startsWith('fast path applied:')).length).toBeLessThan(20); // one per batch, not one per event
    expect(since.filter((m) => m.startsWith('HAProxy reloaded'))).toEqual([]);
    await snapshotFindsNothing(start);
    expect(logs.slice(start).filter((l) => l.msg.startsWith('fast path corrected'))).toEqual([]);
  }, 60000);

  test('a task whose server holds an id another server collided on goes: that server keeps its id, no reload', async () => {
    // marathon-lb's rule: in (host, port) order, a server takes the first free id of its name's hash
    // chain. Find `b`, whose first hash `a` (a server before it) holds: without `a`, b would take it.
    const collided = async () => {
      const list = (await servers()).sort((x, y) => (x.port ?? 0) - (y.port ?? 0)); // one host: port order
      const byId = new Map(list.map((s) => [s.id, s]));
      for (const b of list) {
        const a = byId.get(serverId(b.name, new Set()));
        if (a !== undefined && a !== b && (a.port ?? 0) < (b.port ?? 0)) return { a, b, count: list.length };
      }
      return undefined;
    };
    // Tasks listen on ports the system hands out: 800 servers collide somewhere (all but ~1 in 10 000 times).
    let pair = await collided();
    if (pair === undefined) {
      const target = live.sim.tasksOf('/web').length + 650;
      await live.sim.scale('/web', target);
      await listing(target, 30000);
      pair = await collided();
    }
    if (pair === undefined) throw new Error('no two servers collide on an id');
    const start = logs.length;
    const task = live.sim.tasksOf('/web').find((t) => t.ports[0] === pair.a.port)!;
    await live.sim.killTask(task.id, { scale: true });
    await listing(pair.count - 1, 15000);
    await snapshotFindsNothing(start);
    const after = await servers();
    expect(after.find((s) => s.name === pair.b.name)?.id).toBe(pair.b.id);
    expect(after.find((s) => s.name === pair.a.name)).toBeUndefined();
    const since = logs.slice(start).map((l) => l.msg);
    expect(since.filter((m) => m.startsWith('HAProxy reloaded'))).toEqual([]);
    expect(since.filter((m) => m.startsWith('fast path corrected') || m.startsWith('fast path refused'))).toEqual([]);
  }, 90000);

  test("an app's last task killed leaves HAProxy's rotation before the snapshot; the snapshot's reload then removes its backend", async () => {
    const soloServers = () => haproxyServers(live, 'solo_10112');
    const before = await httpGet(live.ports.http, 'solo.example.com');
    expect(before.status).toBe(200);
    expect(await soloServers()).toHaveLength(1);
    const start = logs.length;
    await live.sim.killTask(live.sim.tasksOf('/solo')[0]!.id, { scale: true });
    // Out of rotation (the runtime API: maintenance, then deleted) with no snapshot fetched: the 5 s
    // debounce holds it. Before, the dead task stayed in rotation until the snapshot's reload.
    for (const deadline = Date.now() + 4000; ;) {
      const listed = await soloServers();
      if (listed.every((s) => s.inMaintenance)) break;
      if (Date.now() > deadline) throw new Error(`HAProxy still has ${listed.length} server(s) of /solo in rotation`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(logs.slice(start).filter((l) => l.msg.includes('/v2/apps'))).toEqual([]);
    expect((await httpGet(live.ports.http, 'solo.example.com')).status).toBe(503);
    // The snapshot removes the emptied backend (a reload), and that is no correction of the fast path.
    await waitFor(
      'the reload that removes /solo',
      () => index((l) => l.msg.startsWith('HAProxy reloaded') && l.msg.includes('solo_10112'), start) >= 0,
      20000,
    );
    const since = logs.slice(start).map((l) => l.msg);
    expect(since.filter((m) => m.startsWith('fast path applied: status_update_event of app /solo'))).toHaveLength(1);
    expect(since.filter((m) => m.startsWith('fast path corrected') || m.startsWith('fast path refused'))).toEqual([]);
    await expect(soloServers()).rejects.toThrow();
  }, 60000);

  test('a task killed after it failed one of its two health checks leaves rotation before the snapshot', async () => {
    // The failed check is the snapshot's to judge (the task may pass the other); Marathon's kill that
    // follows is not: before, it waited behind that refusal for the snapshot.
    const created = logs.length;
    await live.sim.createApp({
      id: '/multi',
      instances: 2,
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'multi.example.com' },
      portDefinitions: [{ port: 10113 }],
      healthChecks: [
        { protocol: 'MESOS_HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 0 },
        { protocol: 'MESOS_TCP', portIndex: 0, gracePeriodSeconds: 0 },
      ],
    });
    await waitFor(
      'the reload that adds /multi',
      () =>
        index((l) => l.msg.startsWith('HAProxy reloaded and healthy') && l.msg.includes('multi_10113'), created) >= 0,
      20000,
    );
    const multiServers = async () => (await haproxyServers(live, 'multi_10113')).filter((s) => !s.inMaintenance);
    expect(await multiServers()).toHaveLength(2);
    const start = logs.length;
    const [doomed, kept] = live.sim.tasksOf('/multi');
    await live.sim.setHealth(doomed!.id, false);
    await waitFor(
      'the failed check refused',
      () => index((l) => l.msg.startsWith('fast path refused'), start) >= 0,
      4000,
    );
    await live.sim.killTask(doomed!.id);
    for (const deadline = Date.now() + 4000; ;) {
      const listed = await multiServers();
      if (listed.length === 1) break;
      if (Date.now() > deadline) throw new Error(`HAProxy still has ${listed.length} server(s) of /multi in rotation`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(logs.slice(start).filter((l) => l.msg.includes('/v2/apps'))).toEqual([]);
    const answer = await httpGet(live.ports.http, 'multi.example.com');
    expect(answer.status).toBe(200);
    expect(taskOf(answer.body)).toBe(kept!.id);
  }, 60000);

  test("a task event with a port outside 1..65535 leaves that task out; the app's servers stay in rotation", async () => {
    // Before, the app rebuilt from it lost that service port: every server of /web went, until the snapshot.
    const inRotation = async () => (await servers()).filter((v) => !v.inMaintenance && !v.draining).length;
    const before = await inRotation();
    expect(before).toBeGreaterThan(0);
    const start = logs.length;
    live.sim.emit([
      {
        eventType: 'status_update_event',
        appId: '/web',
        taskId: 'web.hostile-port',
        taskStatus: 'TASK_RUNNING',
        host: '127.0.0.1',
        ports: [0],
        ipAddresses: [{ ipAddress: '127.0.0.1', protocol: 'IPv4' }],
      },
    ]);
    await waitFor(
      'the fast path to take the event',
      () =>
        index(
          (l) => /^left out app \/web port index 0 field tasks\[\d+\]\.ports\[0\]: port 0 is outside/.test(l.msg),
          start,
        ) >= 0,
      10000,
    );
    expect(index((l) => l.msg.includes('/v2/apps'), start)).toBe(-1); // the fast path's, before any snapshot
    expect(await inRotation()).toBe(before);
    expect((await httpGet(live.ports.http, 'fast.example.com')).status).toBe(200);
  }, 30000);
});
