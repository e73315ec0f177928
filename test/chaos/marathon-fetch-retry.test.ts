import { startLive, type LiveSystem } from '../../src/demo/live';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { describeWithHaproxy } from '../support/haproxy';
import { samples } from '../support/metrics';
import { waitFor } from '../support/wait';
import { admin, steadyClient, taskAnswers } from './marathonSupport';

const HOST = 'retry.example.com';
const web = {
  id: '/web',
  instances: 2,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: HOST },
  portDefinitions: [{ port: 10511 }],
};
/** Resync far away: recovery must come from the fetch retry, not from the periodic re-read. */
const FLAGS = ['--resync-interval', '600', '--request-timeout', '1', '--max-backoff', '2', '--max-apply-age', '2'];
const FAULT_MS = 5000;
/** Much shorter than the 600 s resync: debounce + at most one 2 s backoff + the apply. */
const RECOVERY_MS = 10_000;

type Fault = { apps: '503' } | { apps: 'invalid-json' } | { apps: 'slow'; delayMs: number };

/**
 * `GET /v2/apps` fails (5xx, invalid JSON, an answer slower than --request-timeout) while the event
 * stream stays up and a task is scaled: the controller retries the read with backoff, so once the
 * fault clears the new task answers through HAProxy within seconds, without another event and long
 * before the resync. Meanwhile HAProxy keeps serving (requests counted) and /healthz reports that a
 * known change waits longer than --max-apply-age.
 */
describeWithHaproxy('chaos: a failed GET /v2/apps is retried with backoff (SSE and poll modes)', () => {
  const logs: LogLine[] = [];
  const systems: LiveSystem[] = [];
  // Each test's system is stopped before the next starts: both serve /web on its one service port,
  // which a second HAProxy may not bind while the first holds it.
  afterEach(async () => {
    for (const s of systems.splice(0)) await s.stop();
    if (process.env.MLB_TEST_LOGS) for (const l of logs.splice(0)) console.log(`${l.level} ${l.msg}`);
  }, 30_000);

  async function start(flags: string[]): Promise<LiveSystem> {
    const live = await startLive({
      apps: [web],
      logger: memoryLogger(logs),
      admin: true,
      flags: [...FLAGS, ...flags],
    });
    systems.push(live);
    await waitFor(
      'initial apply',
      () => live.service.status.status().services.some((s) => s.servers.length === 2),
      15_000,
    );
    return live;
  }

  /** Scales /web by one during `fault`, clears it, and checks the recovery; returns how long the new task took to answer. */
  async function scaleDuring(live: LiveSystem, fault: Fault, trigger: () => void): Promise<number> {
    const url = live.service.admin!.url;
    const failuresBefore = logs.filter((l) => /cannot fetch apps from Marathon/.test(l.msg)).length;
    const client = steadyClient(live.ports.http, HOST);
    live.sim.setFaults(fault);
    const instances = live.sim.tasksOf('/web').length + 1;
    await live.sim.scale('/web', instances);
    trigger();
    const newTask = live.sim.tasksOf('/web')[instances - 1]!.id;
    await new Promise((r) => setTimeout(r, FAULT_MS));
    // Still failing: retried (more than one failed read), not applied, and /healthz says so.
    const failed = logs.filter((l) => /cannot fetch apps from Marathon/.test(l.msg)).slice(failuresBefore);
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed[0]!.msg).toMatch(/retrying in \d+\.\ds/);
    expect(live.service.status.status().services.find((s) => s.appId === '/web')!.servers).toHaveLength(instances - 1);
    const unhealthy = await admin(url, '/healthz');
    expect(unhealthy.status).toBe(503);
    expect(unhealthy.body).toMatch(
      /^unhealthy: a Marathon change has waited \d+ s to be applied \(--max-apply-age 2 s\); see \/status\n$/,
    );
    expect(live.service.status.status()).toMatchObject({ stale: true, lastError: expect.any(String) });

    live.sim.clearFaults(); // and no new event: only the retry can bring the change in
    const took = await taskAnswers(live.ports.http, HOST, newTask, RECOVERY_MS);
    await waitFor('healthy again', () => !live.service.status.status().stale, 5000);
    expect((await admin(url, '/healthz')).status).toBe(200);
    const tally = await client.stop();
    expect(tally.failures).toEqual([]);
    expect(tally.ok).toBeGreaterThan(20);
    console.log(
      `fetch fault ${JSON.stringify(fault)}: ${failed.length} failed reads retried, ${tally.ok} requests through HAProxy, 0 failed; new task served ${took} ms after the fault cleared`,
    );
    return took;
  }

  test('SSE mode: 503, then invalid JSON, then an answer slower than the request timeout', async () => {
    // The snapshot path: with the event fast path a scale-up is served without any fetch.
    const live = await start(['--no-fast-path']);
    for (const fault of [{ apps: '503' }, { apps: 'invalid-json' }, { apps: 'slow', delayMs: 5000 }] as Fault[]) {
      await scaleDuring(live, fault, () => undefined); // the scale's own events are the trigger
    }
    const m = samples(await (await fetch(`${live.service.admin!.url}/metrics`)).text());
    expect(m.get('mlb_pipeline_errors_total{stage="fetch"}')).toBeGreaterThanOrEqual(6);
    expect(m.get('mlb_pipeline_errors_total{stage="pipeline"}')).toBe(0);
    expect(live.sim.streamCount).toBe(1); // the event stream stayed up throughout
  }, 90_000);

  test('poll mode: a failed read after SIGHUP is retried too', async () => {
    const live = await start(['--no-sse']);
    expect(live.sim.streamCount).toBe(0);
    await scaleDuring(live, { apps: '503' }, () => live.service.signals.next('hup'));
  }, 60_000);
});
