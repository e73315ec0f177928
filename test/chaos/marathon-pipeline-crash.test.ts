import * as snapshot from '../../src/render/snapshot';
import { startLive, type LiveSystem } from '../../src/demo/live';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { describeWithHaproxy } from '../support/haproxy';
import { samples } from '../support/metrics';
import { waitFor } from '../support/wait';
import { admin, steadyClient, taskAnswers } from './marathonSupport';

const HOST = 'crash.example.com';
const web = {
  id: '/web',
  instances: 2,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: HOST },
  portDefinitions: [{ port: 10521 }],
  healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0 }],
};

const hostileTask = (appId: string, extra: Record<string, unknown>): Record<string, unknown> => ({
  id: `${appId.slice(1)}.hostile-1`,
  appId,
  host: '127.0.0.1',
  state: 'TASK_RUNNING',
  ports: [1],
  servicePorts: [10529],
  startedAt: '2026-01-01T00:00:00.000Z',
  version: '2026-01-01T00:00:00.000Z',
  ipAddresses: [{ ipAddress: '127.0.0.1', protocol: 'IPv4' }],
  ...extra,
});
const group = (vhost: string) => ({ HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: vhost });
/** What a careless app owner or a confused Marathon can put into `/v2/apps`: the rows of issue 9's table and their cousins. */
const HOSTILE: unknown[] = [
  {
    id: '/hc-null',
    instances: 1,
    labels: group('hc-null.example.com'),
    portDefinitions: [{ port: 10522 }],
    healthChecks: [{ protocol: 'HTTP', path: '/' }],
    tasks: [hostileTask('/hc-null', { healthCheckResults: null })],
  },
  {
    id: '/hc-items-null',
    instances: 1,
    labels: group('hc-items.example.com'),
    portDefinitions: [{ port: 10523 }],
    healthChecks: [null],
    tasks: [hostileTask('/hc-items-null', { healthCheckResults: [null, { alive: 'yes' }] })],
  },
  {
    id: '/pm-null',
    instances: 1,
    labels: group('pm-null.example.com'),
    container: { type: 'DOCKER', docker: { image: 'x', network: 'BRIDGE', portMappings: [null] } },
    tasks: [hostileTask('/pm-null', {})],
  },
  {
    id: '/pm-string',
    instances: 1,
    labels: group('pm-string.example.com'),
    container: { type: 'DOCKER', portMappings: 'eighty', docker: { image: 'x' } },
    tasks: [hostileTask('/pm-string', {})],
  },
  {
    id: '/tasks-odd',
    instances: 2,
    labels: group('odd.example.com'),
    portDefinitions: [{ port: 10524 }],
    tasks: [null, 7, { id: null, ports: 'x' }],
  },
  null,
  42,
  'app',
  { id: null, labels: null },
  { id: '/labels-odd', labels: { HAPROXY_GROUP: ['external'] }, portDefinitions: null },
];

/**
 * An exception while building a snapshot (a model or render bug) used to stop the pipeline for good
 * while /healthz stayed 200. Now it costs that snapshot only: it is logged with its app, counted,
 * shown in /status, /healthz turns 503 while the change waits, and the next trigger applies it.
 * HAProxy keeps serving meanwhile (requests counted). Real hostile payloads from "Marathon" are
 * thrown at it too: whatever the model makes of them, routing keeps following Marathon.
 */
describeWithHaproxy('chaos: a snapshot that cannot be built never stops the pipeline', () => {
  const logs: LogLine[] = [];
  let live: LiveSystem;
  let url: string;
  const servers = (): number =>
    live.service.status.status().services.find((s) => s.appId === '/web')?.servers.length ?? -1;
  const metric = async (name: string): Promise<number | undefined> =>
    samples((await admin(url, '/metrics')).body).get(name);
  /** Scales /web up by one; the new task's id. */
  const scaleUp = async (): Promise<string> => {
    const n = live.sim.tasksOf('/web').length + 1;
    await live.sim.scale('/web', n);
    return live.sim.tasksOf('/web')[n - 1]!.id;
  };

  beforeAll(async () => {
    // The snapshot path is under test (a scale-up waits for the snapshot a build bug cost): no event fast path.
    live = await startLive({
      apps: [web],
      logger: memoryLogger(logs),
      admin: true,
      flags: ['-H', '--max-apply-age', '2', '--no-fast-path'],
    });
    url = live.service.admin!.url;
    await waitFor('initial apply', () => servers() === 2, 15_000);
  }, 30_000);
  afterAll(async () => live?.stop(), 30_000);
  afterEach(() => {
    jest.restoreAllMocks();
    if (process.env.MLB_TEST_LOGS) for (const l of logs.splice(0)) console.log(`${l.level} ${l.msg}`);
  });

  test('a render that throws: logged with its app, counted, in /status, /healthz 503 while waiting; the next change is applied', async () => {
    const client = steadyClient(live.ports.http, HOST);
    // No real payload makes the model throw any more (the hostile ones below are left out instead):
    // a bug is the only way left, so one throw is injected — the one mock of this suite.
    // eslint-disable-next-line require-yield -- it throws at its first step, as a bug in the model would
    jest.spyOn(snapshot, 'renderSnapshotSteps').mockImplementationOnce(function* () {
      throw Object.assign(new TypeError("Cannot read properties of null (reading 'alive')"), { appId: '/web' });
    });
    const lost = await scaleUp(); // this snapshot's build throws
    await waitFor(
      'the build error reported',
      () => live.service.status.status().recentFailures.some((f) => f.kind === 'stage-error'),
      10_000,
    );
    expect(live.service.status.status().recentFailures[0]).toMatchObject({
      kind: 'stage-error',
      error: "internal error in build (app /web): Cannot read properties of null (reading 'alive')",
    });
    expect(logs).toContainEqual({
      level: 'error',
      msg: "internal error (app /web): building the config from this Marathon snapshot failed; keeping the last applied config until the next change: Cannot read properties of null (reading 'alive')",
    });
    expect(await metric('mlb_pipeline_errors_total{stage="build"}')).toBe(1);
    await waitFor('/healthz to notice the change waiting', () => live.service.status.status().stale, 10_000);
    const h = await admin(url, '/healthz');
    expect(h.status).toBe(503);
    expect(h.body).toMatch(
      /^unhealthy: a Marathon change has waited \d+ s to be applied \(--max-apply-age 2 s\); see \/status\n$/,
    );
    expect(servers()).toBe(2);

    const next = await scaleUp(); // the next trigger: the pipeline is alive and builds again
    await taskAnswers(live.ports.http, HOST, next, 10_000);
    await taskAnswers(live.ports.http, HOST, lost, 10_000);
    await waitFor('healthy again', () => !live.service.status.status().stale, 5000);
    expect((await admin(url, '/healthz')).status).toBe(200);
    const tally = await client.stop();
    expect(tally.failures).toEqual([]);
    expect(tally.ok).toBeGreaterThan(20);
    console.log(`render throws once: ${tally.ok} requests through HAProxy during the fault and recovery, 0 failed`);
  }, 60_000);

  test('a render that throws for one app only: that app is left out and named, every other app keeps following Marathon', async () => {
    const client = steadyClient(live.ports.http, HOST);
    const real = snapshot.renderSnapshotSteps;
    const hasBug = (body: unknown): boolean => JSON.stringify(body).includes('"id":"/buggy"');
    // The same injected bug, now tied to one app's presence in the snapshot.
    jest.spyOn(snapshot, 'renderSnapshotSteps').mockImplementation(function* (body, ...rest) {
      yield;
      if (hasBug(body)) throw new TypeError("Cannot read properties of undefined (reading 'servicePort')");
      return yield* real(body, ...rest);
    });
    const buildErrors = (await metric('mlb_pipeline_errors_total{stage="build"}')) ?? 0;
    await live.sim.createApp({
      id: '/buggy',
      instances: 1,
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'buggy.example.com' },
      portDefinitions: [{ port: 10525 }],
    });
    const next = await scaleUp();
    await taskAnswers(live.ports.http, HOST, next, 10_000); // the others are applied in the same snapshot
    await waitFor(
      '/buggy named as left out',
      () => live.service.status.status().leftOut.some((p) => p.appId === '/buggy'),
      10_000,
    );
    expect(live.service.status.status().leftOut.find((p) => p.appId === '/buggy')).toEqual({
      appId: '/buggy',
      portIndex: null,
      label: null,
      message:
        "building its config failed (internal error: Cannot read properties of undefined (reading 'servicePort'))",
    });
    expect(logs).toContainEqual({
      level: 'error',
      msg: "internal error (app /buggy): building its config failed; left it out and applied the others: Cannot read properties of undefined (reading 'servicePort')",
    });
    expect(await metric('mlb_pipeline_errors_total{stage="build"}')).toBeGreaterThan(buildErrors);
    expect(live.service.status.status().services.some((s) => s.appId === '/buggy')).toBe(false);
    expect((await admin(url, '/healthz')).status).toBe(200); // one app left out is not stale routing

    jest.restoreAllMocks(); // the bug is fixed: the next change brings /buggy in
    await live.sim.scale('/buggy', 2);
    await waitFor(
      '/buggy served',
      () => live.service.status.status().services.some((s) => s.appId === '/buggy'),
      10_000,
    );
    const tally = await client.stop();
    expect(tally.failures).toEqual([]);
    await live.sim.deleteApp('/buggy');
    console.log(
      `render throws for one app: it was left out and named, the others applied at once; ${tally.ok} requests through HAProxy, 0 failed`,
    );
  }, 60_000);

  test('hostile payloads (healthCheckResults null under -H, portMappings [null] or a string, junk apps): routing keeps following Marathon', async () => {
    const client = steadyClient(live.ports.http, HOST);
    const failuresBefore = live.service.status.status().recentFailures.length;
    live.sim.setFaults({ extraApps: HOSTILE });
    const during = await scaleUp();
    const servedDuring = await taskAnswers(live.ports.http, HOST, during, 10_000).then(
      () => true,
      () => false,
    );
    if (servedDuring)
      await waitFor('the hostile apps named as left out', () => live.service.status.status().leftOut.length > 0, 5000);
    const status = live.service.status.status();
    if (!servedDuring) {
      // The model could not cope: then the pipeline caught it and said so.
      expect(
        status.recentFailures
          .slice(0, status.recentFailures.length - failuresBefore)
          .some((f) => f.kind === 'stage-error' || f.kind === 'snapshot-invalid'),
      ).toBe(true);
    }
    live.sim.clearFaults();
    const after = await scaleUp();
    await taskAnswers(live.ports.http, HOST, after, 10_000);
    await taskAnswers(live.ports.http, HOST, during, 10_000);
    await waitFor('healthy', () => !live.service.status.status().stale, 5000);
    expect((await admin(url, '/healthz')).status).toBe(200);
    expect(await metric('mlb_pipeline_errors_total{stage="pipeline"}')).toBe(0);
    const tally = await client.stop();
    expect(tally.failures).toEqual([]);
    console.log(
      `hostile payloads: the scale-up during them was ${servedDuring ? 'served while they were present' : 'held back until they were gone'}; ` +
        `${status.leftOut.length} problem(s) named (${[...new Set(status.leftOut.map((p) => p.appId))].join(', ')}); ${tally.ok} requests through HAProxy, 0 failed`,
    );
  }, 60_000);
});
