import { FILE_ONLY_APPLIED } from '../../src/controller';
import { startLive, httpGet, type LiveSystem } from '../../src/demo/live';
import { describeWithHaproxy } from '../support/haproxy';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { waitFor } from '../support/wait';

/** An app routed by its vhost (`<name>.example.com` unless given). */
const vhostApp = (name: string, port: number, instances: number, vhost = `${name}.example.com`) => ({
  id: `/${name}`,
  instances,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: vhost },
  portDefinitions: [{ port }],
});
const web = vhostApp('web', 10101, 2);
const taskOf = (body: string): string => (JSON.parse(body) as { task: string }).task;

describeWithHaproxy('the live service drives a real HAProxy', () => {
  let live: LiveSystem;
  const logs: LogLine[] = [];
  const servers = (backend: string): number =>
    live.service.status.status().services.find((s) => s.backend === backend)?.servers.length ?? -1;
  /** The master and current worker; the master socket closes briefly while the master re-executes for a reload. */
  const pids = async (): Promise<{ master: number; worker: number }> => {
    for (let attempt = 0; ; attempt++) {
      const p = await live.service.haproxy.showProc();
      if (p.ok && p.value.workers.length > 0) return { master: p.value.master.pid, worker: p.value.workers[0]!.pid };
      if (attempt >= 100) throw new Error(p.ok ? 'no HAProxy worker' : p.error);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  /** Requests through HAProxy's :80 frontend until `want(task)` holds for an answer (bounded). */
  const until = async (host: string, want: (task: string) => boolean, tries = 200): Promise<string> => {
    for (let i = 0; i < tries; i++) {
      const a = await httpGet(live.ports.http, host).catch(() => undefined);
      if (a?.status === 200 && want(taskOf(a.body))) return taskOf(a.body);
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no answer from the wanted task of ${host} after ${tries} requests`);
  };

  /** The applies logged since `mark` (an index into `logs`), in order: counted events, never a quiet wait. */
  const appliesSince = (mark: number): string[] =>
    logs
      .slice(mark)
      .map((l) => l.msg)
      .filter((m) => m.startsWith('HAProxy reloaded and healthy') || m.startsWith('HAProxy updated without reload'));
  const reloadsSince = (mark: number): string[] => appliesSince(mark).filter((m) => m.startsWith('HAProxy reloaded'));
  /** Creates an app of its own for one test (`/name` on `name.example.com`) and waits until HAProxy serves all its tasks. */
  const ownApp = async (name: string, port: number, instances: number): Promise<string> => {
    await live.sim.createApp(vhostApp(name, port, instances));
    await waitFor(`${name} applied`, () => servers(`${name}_${port}`) === instances, 15000);
    await until(`${name}.example.com`, () => true);
    return `${name}.example.com`;
  };

  // One system for the file; each test creates the apps it changes, so any test runs alone or in any order.
  beforeAll(async () => {
    live = await startLive({ apps: [web], logger: memoryLogger(logs) });
    await waitFor('initial apply', () => servers('web_10101') === 2, 15000);
  });
  afterAll(async () => live?.stop());

  test('an app left out for its labels is warned about when it arrives, though the config does not change', async () => {
    const mark = logs.length;
    await live.sim.createApp(vhostApp('quietbad', 10191, 1, 'quietbad.example.com\n  bind :1'));
    const warned = (): LogLine[] =>
      logs.slice(mark).filter((l) => l.level === 'warn' && /left out app \/quietbad/.test(l.msg));
    await waitFor('the left-out warning', () => warned().length > 0, 10000);
    expect(warned()[0]!.msg).toMatch(/HAPROXY_0_VHOST/);
    expect(appliesSince(mark)).toEqual([]); // nothing to apply: the warning came with an unchanged config
  });

  test('a task scale-up is served with no reload: master and worker PIDs unchanged', async () => {
    const host = await ownApp('up', 10111, 2);
    const before = await pids();
    const mark = logs.length;
    await live.sim.scale('/up', 3);
    const newest = live.sim.tasksOf('/up')[2]!.id;
    await until(host, (t) => t === newest);
    await waitFor('the apply to be logged', () => appliesSince(mark).length >= 1);
    expect(await pids()).toEqual(before);
    // The task's event added it; the snapshot it triggers may follow, finding nothing left to do.
    const applies = appliesSince(mark);
    expect(applies[0]).toBe('HAProxy updated without reload (1 runtime operation(s))');
    expect(applies.slice(1).every((m) => m === FILE_ONLY_APPLIED)).toBe(true);
  });

  test('a task scale-down is removed through the runtime API, no reload', async () => {
    const host = await ownApp('down', 10112, 3);
    const before = await pids();
    const mark = logs.length;
    await live.sim.scale('/down', 2);
    await waitFor('scale-down applied', () => servers('down_10112') === 2);
    const alive = new Set(live.sim.tasksOf('/down').map((t) => t.id));
    for (let i = 0; i < 10; i++) expect(alive.has(await until(host, () => true))).toBe(true);
    expect(await pids()).toEqual(before);
    expect(reloadsSince(mark)).toEqual([]);
  });

  test('a new vhost app → one reload, with its reason logged', async () => {
    const mark = logs.length;
    await live.sim.createApp(vhostApp('api', 10102, 1));
    const task = live.sim.tasksOf('/api')[0]!.id;
    expect(await until('api.example.com', (t) => t === task)).toBe(task);
    await waitFor('the reload to be logged (after its health gate)', () => reloadsSince(mark).length >= 1);
    // Marker: a later runtime-only change; once it is applied, a second reload for /api would have been logged before it.
    await live.sim.scale('/api', 2);
    const second = live.sim.tasksOf('/api')[1]!.id;
    await until('api.example.com', (t) => t === second);
    await waitFor('the marker apply to be logged', () =>
      appliesSince(mark).some((m) => m.startsWith('HAProxy updated without reload')),
    );
    expect(reloadsSince(mark)).toEqual(['HAProxy reloaded and healthy: backend api_10102 added']);
    expect(live.service.status.status().recentApplies.find((a) => a.reloaded)).toMatchObject({
      reasons: ['backend api_10102 added'],
    });
    expect(logs.slice(mark).some((l) => l.msg === 'reloading HAProxy: backend api_10102 added')).toBe(true);
  });

  test('an app whose template label HAProxy rejects is left out and reported; everyone else keeps being served', async () => {
    const host = await ownApp('fine', 10113, 1);
    await live.sim.createApp({
      id: '/broken',
      instances: 1,
      labels: {
        HAPROXY_GROUP: 'external',
        HAPROXY_0_VHOST: 'broken.example.com',
        HAPROXY_0_BACKEND_HEAD: '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  this-is-not-haproxy on\n',
      },
      portDefinitions: [{ port: 10103 }],
    });
    await waitFor(
      'left out and reported',
      () => live.service.status.status().leftOut.some((p) => p.appId === '/broken'),
      15000,
    );
    const problem = live.service.status.status().leftOut.find((p) => p.appId === '/broken')!;
    expect(problem.message).toMatch(/HAProxy rejects the config of backend broken_10103.*this-is-not-haproxy/);
    // Named by its label, the one raw HAProxy text it has (found by an audit: it named none).
    expect(problem).toMatchObject({ portIndex: 0, label: 'HAPROXY_0_BACKEND_HEAD' });
    expect(problem.message).toMatch(/\(its template label: HAPROXY_0_BACKEND_HEAD\)$/);
    expect(servers('broken_10103')).toBe(-1);
    await until('web.example.com', () => true);
    // And routing keeps following Marathon for the others.
    await live.sim.scale('/fine', 2);
    const second = live.sim.tasksOf('/fine')[1]!.id;
    await until(host, (t) => t === second);
    expect(logs.some((l) => l.level === 'warn' && /left out app \/broken/.test(l.msg))).toBe(true);
    // Leave no rejected app behind for the other tests.
    await live.sim.deleteApp('/broken');
    await waitFor(
      '/broken gone',
      () => !live.service.status.status().leftOut.some((p) => p.appId === '/broken'),
      15000,
    );
  });

  test('HAProxy killed → restarted with the last good config', async () => {
    const host = await ownApp('survivor', 10114, 1);
    const { master } = await pids();
    process.kill(master, 'SIGKILL');
    await waitFor(
      'a new HAProxy master',
      () => live.service.haproxy.isAlive() && live.service.haproxy.masterPid() !== master,
      15000,
    );
    await until('web.example.com', () => true);
    await until(host, () => true);
    expect(logs.some((l) => /HAProxy exited unexpectedly/.test(l.msg))).toBe(true);
    // Counted as what it was, not as a SIGUSR1 (once the restart's apply has reported).
    const restarts = /^mlb_reloads_total\{reason="haproxy_restarted"\} 1$/m;
    let text = await live.service.metrics.text();
    for (const deadline = Date.now() + 15000; !restarts.test(text) && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 50));
      text = await live.service.metrics.text();
    }
    expect(text).toMatch(restarts);
    expect(text).not.toMatch(/^mlb_reloads_total\{reason="sigusr1"\}/m);
  });

  test('zero drop: 50 reloads under a bounded load of fresh connections → 0 failed requests', async () => {
    let ok = 0;
    const failures: string[] = [];
    let stop = false;
    const deadline = Date.now() + 150000; // bounded in time…
    const worker = async (): Promise<void> => {
      while (!stop && Date.now() < deadline && ok + failures.length < 200000) {
        // …and in count
        try {
          const a = await httpGet(live.ports.http, 'web.example.com', 5000);
          if (a.status === 200) ok++;
          else failures.push(`HTTP ${a.status}`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    const start = Date.now();
    const before = await live.service.haproxy.showProc();
    const reloadsBefore = before.ok ? before.value.master.reloads : 0;
    const reloadCount = async (): Promise<number> => {
      const p = await live.service.haproxy.showProc();
      return p.ok ? p.value.master.reloads : -1;
    };
    const answered = (): number => ok + failures.length;
    for (let i = 0; i < 50; i++) {
      live.service.signals.next('usr1'); // SIGUSR1: validate and reload the config on disk
      const target = reloadsBefore + i + 1;
      const until = Date.now() + 15000;
      while ((await reloadCount()) < target) {
        if (Date.now() > until) throw new Error(`reload ${i + 1} did not happen within 15 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
      // Load, not speed: the next reload waits until requests were answered after this one (counted, never timed).
      const mark = answered();
      await waitFor(`requests answered after reload ${i + 1}`, () => answered() > mark, 15000);
    }
    stop = true;
    await Promise.all(workers);
    const seconds = (Date.now() - start) / 1000;
    const rate = (ok + failures.length) / seconds;
    console.log(
      `zero drop: ${ok + failures.length} requests in ${seconds.toFixed(1)} s (${rate.toFixed(0)} req/s) across 50 reloads, ${failures.length} failed`,
    );
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThanOrEqual(50);
  }, 170000);

  afterEach(() => {
    if (process.env.MLB_TEST_LOGS) for (const l of logs.splice(0)) console.log(`${l.level} ${l.msg}`);
  });
});
