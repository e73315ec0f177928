/**
 * The event stream down for good (Marathon answering it with nothing, a proxy cutting it) while
 * the apps change: no event tells of the change, and the periodic re-read comes only every
 * --resync-interval (300 s by default). Found by an attack: a change went unrouted for minutes.
 * While the stream is down, Marathon is re-read every 30 s (reconcile/triggers.ts).
 */
import { startLive, type LiveSystem } from '../../src/demo/live';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { describeWithHaproxy } from '../support/haproxy';
import { samples } from '../support/metrics';
import { waitFor } from '../support/wait';
import { steadyClient, taskAnswers } from './marathonSupport';

const HOST = 'down.example.com';
const web = {
  id: '/web',
  instances: 2,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: HOST },
  portDefinitions: [{ port: 10531 }],
};

describeWithHaproxy('chaos: the event stream stays down while an app scales', () => {
  const logs: LogLine[] = [];
  let live: LiveSystem | undefined;
  afterAll(async () => {
    await live?.stop();
    if (process.env.MLB_TEST_LOGS) for (const l of logs) console.log(`${l.level} ${l.msg}`);
  }, 30_000);

  test('the new task is served from a re-read within 30 s of the loss, long before the 600 s resync', async () => {
    live = await startLive({
      apps: [web],
      logger: memoryLogger(logs),
      admin: true,
      flags: ['--resync-interval', '600', '--sse-idle-timeout', '1'],
    });
    const system = live;
    await waitFor(
      'initial apply',
      () => system.service.status.status().services.some((s) => s.servers.length === 2),
      15_000,
    );
    const client = steadyClient(system.ports.http, HOST);
    system.sim.setFaults({ stream: 'hang' }); // open streams stop, new ones get no byte
    await waitFor('the stream lost', () => logs.some((l) => /event stream silent for 1s/.test(l.msg)), 10_000);
    const lostAt = Date.now();
    await system.sim.scale('/web', 3);
    const newTask = system.sim.tasksOf('/web')[2]!.id;
    await taskAnswers(system.ports.http, HOST, newTask, 45_000);
    const tookMs = Date.now() - lostAt;
    expect(tookMs).toBeLessThan(35_000);
    expect(system.service.status.status().marathon.streamConnected).toBe(false); // no event brought it
    const m = samples(await (await fetch(`${system.service.admin!.url}/metrics`)).text());
    expect(m.get('mlb_triggers_total{kind="resync"}')).toBeGreaterThanOrEqual(1);
    const tally = await client.stop();
    expect(tally.failures).toEqual([]);
    console.log(`event stream down: the new task served ${tookMs} ms after the loss, by a re-read`);
    system.sim.clearFaults();
  }, 90_000);
});
