/**
 * A reload while HAProxy's worker is wedged (SIGSTOP here): the new worker could not take the
 * listening sockets from it ("Failed to get the sockets from the old process!") and bound its own
 * beside them (SO_REUSEPORT). The wedged worker kept its share of new connections, unanswered: about
 * half of them, while every status said healthy (found by an operator test). An old worker still
 * listening 5 s after a reload is now killed. Real HAProxy, the simulator, real HTTP on loopback.
 */
import { freeLoopbackPort, httpGet, startLive, type LiveSystem } from '../../src/demo/live';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { describeWithHaproxy } from '../support/haproxy';
import { childrenOf } from '../support/procs';
import { waitFor, waitForAsync } from '../support/wait';

describeWithHaproxy('a wedged old worker after a reload', () => {
  let live: LiveSystem | undefined;
  let stopped: number[] = [];
  afterEach(async () => {
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // killed
      }
    }
    stopped = [];
    await live?.stop();
    live = undefined;
  });

  test('is killed once it still listens 5 s after the reload; every request is answered afterwards', async () => {
    const logs: LogLine[] = [];
    const servicePort = await freeLoopbackPort();
    live = await startLive({
      apps: [
        {
          id: '/web',
          instances: 2,
          labels: { HAPROXY_GROUP: 'external', HAPROXY_0_BIND_ADDR: '127.0.0.1' },
          portDefinitions: [{ port: servicePort, protocol: 'tcp' }],
        },
      ],
      logger: memoryLogger(logs),
    });
    const master = () => live!.service.haproxy.masterPid();
    await waitForAsync(
      'served',
      async () => (await httpGet(servicePort, 'web').catch(() => null))?.status === 200,
      20000,
    );
    stopped = childrenOf(master()!);
    expect(stopped.length).toBeGreaterThan(0);
    for (const pid of stopped) process.kill(pid, 'SIGSTOP');
    await live.sim.updateApp('/web', {
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_BIND_ADDR: '127.0.0.1', HAPROXY_0_BALANCE: 'leastconn' },
    });
    await waitFor(
      'the wedged worker killed',
      () => logs.some((l) => /^haproxy: old worker \d+ still listens 5 s after the reload/.test(l.msg)),
      40000,
    );
    await waitFor('gone', () => stopped.every((pid) => !childrenOf(master()!).includes(pid)), 10000);
    let failed = 0;
    for (let i = 0; i < 30; i++) {
      const a = await httpGet(servicePort, 'web', 1000).catch(() => null);
      if (a?.status !== 200) failed++;
    }
    expect(failed).toBe(0);
  }, 120000);
});
