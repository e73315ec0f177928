/**
 * A second HAProxy on ports another HAProxy holds: HAProxy binds with SO_REUSEPORT, so it starts
 * beside the first and the kernel splits the connections between them. A second controller with a
 * directory of its own but the same ports did that without a word (found by an operator test: 20
 * requests, 10 answered by each). The controller now probes its config's listeners before it starts
 * HAProxy. Real HAProxy processes, the simulator, real HTTP on loopback.
 */
import { freeLoopbackPort, httpGet, startLive, type LiveSystem } from '../../src/demo/live';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { describeWithHaproxy, startHaproxy, type RunningHaproxy } from '../support/haproxy';
import { waitFor, waitForAsync } from '../support/wait';

describeWithHaproxy('an HAProxy is not started on ports another process holds', () => {
  let other: RunningHaproxy | undefined;
  let live: LiveSystem | undefined;
  afterEach(async () => {
    await live?.stop();
    await other?.stop();
    live = other = undefined;
  });

  /** The controller's ports, its :80 one held by another HAProxy that answers "other". */
  async function portsHeldByAnother(): Promise<{
    readonly held: RunningHaproxy;
    readonly http: number;
    readonly ports: { http: number; https: number; stats: number; appid: number };
  }> {
    const http = await freeLoopbackPort();
    const held = await startHaproxy({
      config:
        'defaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\n' +
        `frontend other\n  bind 127.0.0.1:${http}\n  http-request return status 200 content-type text/plain string other\n`,
      waitForPort: http,
    });
    other = held;
    const ports = {
      http,
      https: await freeLoopbackPort(),
      stats: await freeLoopbackPort(),
      appid: await freeLoopbackPort(),
    };
    return { held, http, ports };
  }

  test('the start is refused naming the port, the other keeps every connection, and it starts once the port is free', async () => {
    const { held, http, ports } = await portsHeldByAnother();
    const logs: LogLine[] = [];
    const app = {
      id: '/web',
      instances: 1,
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com' },
      portDefinitions: [{ port: await freeLoopbackPort(), protocol: 'tcp' }],
    };
    live = await startLive({ apps: [app], logger: memoryLogger(logs), ports, flags: ['--reload-interval', '1'] });
    await waitFor(
      'the start refused',
      () =>
        logs.some((l) =>
          l.msg.includes(
            `HAProxy not started: 127.0.0.1:${http} of frontend marathon_http_in is held by another process`,
          ),
        ),
      20000,
    );
    expect(live.service.haproxy.masterPid()).toBeUndefined();
    const bodies = new Set<string>();
    for (let i = 0; i < 20; i++) bodies.add((await httpGet(http, 'web.example.com')).body);
    expect([...bodies]).toEqual(['other']);

    await held.stop();
    other = undefined;
    await waitFor('HAProxy started', () => live!.service.haproxy.masterPid() !== undefined, 60000);
    await waitForAsync(
      'the app served by this HAProxy',
      async () => ((await httpGet(http, 'web.example.com').catch(() => null))?.body ?? '').includes('"app":"/web"'),
      20000,
    );
  }, 120000);

  // With several apps, the refused start went on to trial configs and then to the last good one,
  // which was started without the check: two HAProxies split the traffic (found by a fault test).
  test('nor when the last good config is restored after trials', async () => {
    const { http, ports } = await portsHeldByAnother();
    const logs: LogLine[] = [];
    const apps = [];
    for (const name of ['web1', 'web2', 'web3'])
      apps.push({
        id: `/${name}`,
        instances: 1,
        labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: `${name}.example.com` },
        portDefinitions: [{ port: await freeLoopbackPort(), protocol: 'tcp' }],
      });
    live = await startLive({ apps, logger: memoryLogger(logs), ports, flags: ['--reload-interval', '1'] });
    await waitFor(
      'the last good config restored',
      () => logs.some((l) => l.msg.includes('restoring the last good HAProxy config')),
      30000,
    );
    await waitFor(
      'the restored config refused as well, or started',
      () =>
        live!.service.haproxy.masterPid() !== undefined ||
        logs.some((l) => l.msg.includes('HAProxy does not start with the last good config either')),
      30000,
    );
    expect(live.service.haproxy.masterPid()).toBeUndefined();
    const bodies = new Set<string>();
    for (let i = 0; i < 20; i++) bodies.add((await httpGet(http, 'web1.example.com')).body);
    expect([...bodies]).toEqual(['other']);
  }, 120000);
});
