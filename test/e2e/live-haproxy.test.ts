import { startLive, httpGet, type LiveSystem } from '../../src/demo/live';
import { describeWithHaproxy } from '../support/haproxy';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { waitFor } from '../support/wait';

const web = { id: '/web', instances: 2, labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com' }, portDefinitions: [{ port: 10101 }] };
const taskOf = (body: string): string => (JSON.parse(body) as { task: string }).task;

describeWithHaproxy('the live service drives a real HAProxy', () => {
  let live: LiveSystem;
  const logs: LogLine[] = [];
  const servers = (backend: string): number => live.service.status.status().services.find((s) => s.backend === backend)?.servers.length ?? -1;
  const reloads = (): number => live.service.status.status().recentApplies.filter((a) => a.reloaded).length;
  /** The master and current worker; the master socket closes briefly while the master re-executes for a reload. */
  const pids = async (): Promise<{ master: number; worker: number }> => {
    for (let attempt = 0; ; attempt++) {
      const p = await live.service.haproxy.showProc();
      if (p.ok && p.value.workers.length > 0) return { master: p.value.master.pid, worker: p.value.workers[0]!.pid };
      if (attempt >= 100) throw new Error(p.ok ? 'no HAProxy worker' : p.message);
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

  beforeAll(async () => {
    live = await startLive({ apps: [web], logger: memoryLogger(logs) });
    await waitFor('initial apply', () => servers('web_10101') === 2, 15000);
  });
  afterAll(async () => live?.stop());

  test('a task scale-up is served with no reload: master and worker PIDs unchanged', async () => {
    const before = await pids();
    const reloadsBefore = reloads();
    await live.sim.scale('/web', 3);
    const newest = live.sim.tasksOf('/web')[2]!.id;
    await until('web.example.com', (t) => t === newest);
    await waitFor('the apply to be recorded', () => live.service.status.status().recentApplies.length >= 2);
    expect(await pids()).toEqual(before);
    expect(reloads()).toBe(reloadsBefore);
    expect(live.service.status.status().recentApplies[0]).toMatchObject({ reloaded: false, runtimeOps: 1 });
  });

  test('a task scale-down is removed through the runtime API, no reload', async () => {
    const before = await pids();
    await live.sim.scale('/web', 2);
    await waitFor('scale-down applied', () => servers('web_10101') === 2);
    const alive = new Set(live.sim.tasksOf('/web').map((t) => t.id));
    for (let i = 0; i < 10; i++) expect(alive.has(await until('web.example.com', () => true))).toBe(true);
    expect(await pids()).toEqual(before);
  });

  test('a new vhost app → one reload, with its reason logged', async () => {
    const reloadsBefore = reloads();
    await live.sim.createApp({ id: '/api', instances: 1, labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'api.example.com' }, portDefinitions: [{ port: 10102 }] });
    const task = live.sim.tasksOf('/api')[0]!.id;
    expect(await until('api.example.com', (t) => t === task)).toBe(task);
    await waitFor('the apply to be recorded (after its health gate)', () => reloads() > reloadsBefore);
    await new Promise((r) => setTimeout(r, 300)); // a second reload would show up here
    expect(reloads()).toBe(reloadsBefore + 1);
    expect(live.service.status.status().recentApplies[0]).toMatchObject({ reloaded: true, reasons: ['backend api_10102 added'] });
    expect(logs.some((l) => l.msg === 'reloading HAProxy: backend api_10102 added')).toBe(true);
  });

  test('an app whose template label HAProxy rejects is left out and reported; everyone else keeps being served', async () => {
    await live.sim.createApp({ id: '/broken', instances: 1, labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'broken.example.com',
      HAPROXY_0_BACKEND_HEAD: '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  this-is-not-haproxy on\n' }, portDefinitions: [{ port: 10103 }] });
    await waitFor('left out and reported', () => live.service.status.status().leftOut.some((p) => p.appId === '/broken'), 15000);
    const problem = live.service.status.status().leftOut.find((p) => p.appId === '/broken')!;
    expect(problem.message).toMatch(/HAProxy rejects the config of backend broken_10103.*this-is-not-haproxy/);
    expect(servers('broken_10103')).toBe(-1);
    await until('web.example.com', () => true);
    // And routing keeps following Marathon for the others.
    await live.sim.scale('/api', 2);
    const second = live.sim.tasksOf('/api')[1]!.id;
    await until('api.example.com', (t) => t === second);
    expect(logs.some((l) => l.level === 'warn' && /left out app \/broken/.test(l.msg))).toBe(true);
  });

  test('HAProxy killed → restarted with the last good config', async () => {
    const { master } = await pids();
    process.kill(master, 'SIGKILL');
    await waitFor('a new HAProxy master', () => live.service.haproxy.isAlive() && live.service.haproxy.masterPid() !== master, 15000);
    await until('web.example.com', () => true);
    await until('api.example.com', () => true);
    expect(logs.some((l) => /HAProxy exited unexpectedly/.test(l.msg))).toBe(true);
  });

  test('zero drop: 50 reloads under a bounded load of fresh connections → 0 failed requests', async () => {
    let ok = 0;
    const failures: string[] = [];
    let stop = false;
    const deadline = Date.now() + 60000; // bounded in time…
    const worker = async (): Promise<void> => {
      while (!stop && Date.now() < deadline && ok + failures.length < 200000) { // …and in count
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
    const before = (await live.service.haproxy.showProc());
    const reloadsBefore = before.ok ? before.value.master.reloads : 0;
    const reloadCount = async (): Promise<number> => {
      const p = await live.service.haproxy.showProc();
      return p.ok ? p.value.master.reloads : -1;
    };
    const answeredAtReload: number[] = [];
    for (let i = 0; i < 50; i++) {
      answeredAtReload.push(ok + failures.length);
      live.service.signals.next('usr1'); // SIGUSR1: validate and reload the config on disk
      const target = reloadsBefore + i + 1;
      const until = Date.now() + 15000;
      while ((await reloadCount()) < target) {
        if (Date.now() > until) throw new Error(`reload ${i + 1} did not happen within 15 s`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    stop = true;
    await Promise.all(workers);
    const seconds = (Date.now() - start) / 1000;
    const rate = (ok + failures.length) / seconds;
    console.log(`zero drop: ${ok + failures.length} requests in ${seconds.toFixed(1)} s (${rate.toFixed(0)} req/s) across 50 reloads, ${failures.length} failed`);
    expect(failures).toEqual([]);
    // Load, not speed: requests were answered between every two reloads (counted, never timed).
    answeredAtReload.push(ok + failures.length);
    const idleIntervals = answeredAtReload.slice(1).filter((n, i) => n <= answeredAtReload[i]!).length;
    expect(idleIntervals).toBe(0);
  }, 90000);

  afterEach(() => {
    if (process.env.MLB_TEST_LOGS) for (const l of logs.splice(0)) console.log(`${l.level} ${l.msg}`);
  });
});
