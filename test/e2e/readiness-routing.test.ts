import { startLive, httpGet, type LiveSystem } from '../../src/demo/live';
import type { SimTask } from '../../src/simulator';
import { describeWithHaproxy } from '../support/haproxy';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { READINESS_CHECKS } from '../support/fixtures';
import { waitFor } from '../support/wait';

const VHOST = 'ready.example.com';
const web = {
  id: '/web',
  instances: 1,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: VHOST },
  portDefinitions: [{ port: 10121, name: 'http' }],
  readinessChecks: READINESS_CHECKS,
};
const taskOf = (body: string): string => (JSON.parse(body) as { task: string }).task;

/**
 * --respect-readiness-checks end to end: simulator (Marathon's clock running, readiness set by hand) +
 * the real controller (event stream, fast path on) + real HAProxy. A task of a scale-up that is
 * running but not ready gets no request; once ready (its deployment ends) it gets traffic. No request
 * fails along the way.
 */
describeWithHaproxy('readiness-aware routing', () => {
  let live: LiveSystem;
  const logs: LogLine[] = [];
  const servers = (): number =>
    live.service.status.status().services.find((s) => s.backend === 'web_10121')?.servers.length ?? 0;
  const answers = new Map<string, number>();
  let failed = 0;
  /** `n` requests through HAProxy, one after the other; counts the answering tasks and the failures. */
  const traffic = async (n: number): Promise<string[]> => {
    const seen: string[] = [];
    for (let i = 0; i < n; i++) {
      const a = await httpGet(live.ports.http, VHOST).catch(() => undefined);
      if (a?.status !== 200) {
        failed++;
        continue;
      }
      const task = taskOf(a.body);
      seen.push(task);
      answers.set(task, (answers.get(task) ?? 0) + 1);
    }
    return seen;
  };

  beforeAll(async () => {
    // One Marathon second = 10 ms; readiness only when the test says so.
    live = await startLive({
      apps: [web],
      logger: memoryLogger(logs),
      flags: ['--respect-readiness-checks', '--fast-path'],
      simulator: { timeScale: 0.01, readyAfterSeconds: Infinity },
    });
    await live.sim.setReady(live.sim.tasksOf('/web')[0]!.id, true);
    await waitFor('the first task routed', () => servers() === 1, 25000);
  }, 30000);
  afterAll(async () => live?.stop());

  test('a running task that is not ready gets no traffic; it gets traffic once ready', async () => {
    const [first] = live.sim.tasksOf('/web') as SimTask[];
    expect(new Set(await traffic(10))).toEqual(new Set([first!.id]));

    const start = logs.length;
    await live.sim.scale('/web', 2);
    const second = live.sim.tasksOf('/web').find((t) => t.id !== first!.id)!;
    expect(second.ready).toBe(false);
    // Its server answers already (only its readiness path says 503): HAProxy would send it requests.
    expect((await httpGet(second.ports[0]!, VHOST)).status).toBe(200);
    // The fast path leaves the new task to the snapshot, and the snapshot leaves it out.
    await waitFor(
      'the fast path to defer to the snapshot',
      () => logs.slice(start).some((l) => l.msg.includes('readiness checks (--respect-readiness-checks)')),
      10000,
    );
    const deferred = logs.length;
    await waitFor(
      'the snapshot after the scale-up',
      () => logs.slice(deferred).some((l) => l.msg === 'config unchanged: nothing to apply'),
      10000,
    );
    expect(logs.slice(start).filter((l) => l.msg.startsWith('HAProxy reloaded'))).toEqual([]);
    expect(servers()).toBe(1);
    expect(new Set(await traffic(40))).toEqual(new Set([first!.id]));

    // Ready: the deployment ends (deployment_success), the snapshot routes the task.
    await live.sim.setReady(second.id, true);
    await waitFor('the ready task routed', () => servers() === 2, 10000);
    let seen: string[] = [];
    for (let round = 0; round < 20 && !seen.includes(second.id); round++) seen = await traffic(10);
    expect(seen).toContain(second.id);
    expect(failed).toBe(0);
    expect(answers.get(first!.id)).toBeGreaterThan(0);
  }, 40000);
});
