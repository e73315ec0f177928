/**
 * Chaos: 1 000 apps of which 25 carry a template label HAProxy rejects. All 975 others must be
 * served (requests through HAProxy counted), the 25 named, the `haproxy -c` runs bounded; and
 * afterwards task churn of another app still goes through the runtime API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { findConfigDir } from '../../src/configDir';
import { prepareDemoFiles } from '../../src/demo/setup';
import { freeLoopbackBlock, freeLoopbackPort, httpGet, liveFlags } from '../../src/demo/live';
import type { RunningService } from '../../src/service';
import { Simulator } from '../../src/simulator';
import { bootstrap, serviceStart } from '../../src/wiring/bootstrap';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { describeWithHaproxy } from '../support/haproxy';
import { listenOnLoopback } from '../support/listen';
import { waitFor } from '../support/wait';
import { countingHaproxy } from './isolationSupport';

const APPS = 1000;
const BAD = 25;
const SERVERS = 4;
const BAD_HEAD = '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  this-is-not-haproxy on\n';
const isBad = (i: number): boolean => i % (APPS / BAD) === 17;
const appId = (i: number): string => `/chaos/app${String(i).padStart(4, '0')}`;

describeWithHaproxy('chaos: many apps HAProxy rejects among 1 000', (haproxy) => {
  const logs: LogLine[] = [];
  const hits = new Array<number>(SERVERS).fill(0);
  const closers: (() => Promise<void>)[] = [];
  let dir: string;
  let base: number;
  let serverPorts: number[];
  let sim: Simulator;
  let service: RunningService;
  let checks: () => number;
  const reloads = async (): Promise<number> => {
    const p = await service.haproxy.showProc();
    return p.ok ? p.value.master.reloads : -1;
  };
  /** Which of the real servers answers app i through its HAProxy frontend (null: not served). */
  const answer = async (i: number): Promise<number | null> => {
    const a = await httpGet(base + i, 'chaos.example.com', 2000).catch(() => undefined);
    return a?.status === 200 ? (JSON.parse(a.body) as { server: number }).server : null;
  };
  const app = (i: number, hostPort: number): Record<string, unknown> => ({
    id: appId(i),
    instances: 1,
    labels: {
      HAPROXY_GROUP: 'external',
      HAPROXY_0_BIND_ADDR: '127.0.0.1',
      ...(isBad(i) ? { HAPROXY_0_BACKEND_HEAD: BAD_HEAD } : {}),
    },
    container: {
      type: 'DOCKER',
      docker: { image: 'chaos' },
      portMappings: [{ containerPort: 80, hostPort, servicePort: base + i }],
    },
    networks: [{ mode: 'container/bridge' }],
  });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mlb-chaos-iso-'));
    const counting = countingHaproxy(dir, haproxy.bin);
    checks = counting.checks;
    serverPorts = [];
    for (let s = 0; s < SERVERS; s++) {
      const server: Server = createHttpServer((_req, res) => {
        hits[s]! += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ server: s }));
      });
      const l = await listenOnLoopback(server);
      serverPorts.push(l.port);
      closers.push(l.close);
    }
    base = await freeLoopbackBlock(APPS);
    sim = await Simulator.start({ apps: Array.from({ length: APPS }, (_, i) => app(i, serverPorts[i % SERVERS]!)) });
    closers.push(() => sim.close());
    const configDir = findConfigDir();
    const ports = {
      http: await freeLoopbackPort(),
      https: await freeLoopbackPort(),
      stats: await freeLoopbackPort(),
      appid: await freeLoopbackPort(),
    };
    const files = prepareDemoFiles(dir, configDir, ports);
    const argv = [...liveFlags(sim.url, 0), '--dont-bind-http-https', '--haproxy-bin', counting.bin, ...files.flags];
    const started = await bootstrap(
      { from: { argv }, env: {}, configDir, logger: () => memoryLogger(logs) },
      serviceStart({ processSignals: false, pidFile: path.join(dir, 'marathon-lb.pid') }),
    );
    if (!started.ok) throw new Error(started.error);
    service = started.value;
    closers.unshift(() => service.stop());
    await waitFor('the first apply', () => service.status.status().services.length > 0, 120000);
  }, 180000);

  afterAll(async () => {
    for (const close of closers) await close().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (process.env.MLB_TEST_LOGS) for (const l of logs) console.log(`${l.level} ${l.msg}`);
  }, 60000);

  test('all 975 good apps are served at once, the 25 named, haproxy -c runs bounded', async () => {
    const status = service.status.status();
    const bad = Array.from({ length: APPS }, (_, i) => i).filter(isBad);
    expect(bad).toHaveLength(BAD);
    expect(status.services).toHaveLength(APPS - BAD);
    expect(status.recentFailures).toEqual([]);
    const named = new Set(status.leftOut.map((p) => p.appId));
    expect([...named].sort()).toEqual(bad.map(appId).sort());
    for (const p of status.leftOut)
      expect(p.message).toMatch(
        /HAProxy rejects the config of backend chaos_app\d+_\d+, left out: .*this-is-not-haproxy/,
      );

    // Requests through HAProxy: every 13th good app and every bad one.
    let served = 0;
    for (let i = 0; i < APPS; i += 13) {
      if (isBad(i)) continue;
      expect(await answer(i)).toBe(i % SERVERS);
      served++;
    }
    for (const i of bad) expect(await answer(i)).toBeNull();
    expect(served).toBeGreaterThanOrEqual(70);
    expect(hits.reduce((a, b) => a + b, 0)).toBe(served);

    // O(k·log n): at most 2·25·⌈log2 1000⌉ + 3 checks for the search, + 1 for the config as asked.
    const n = checks();
    console.log(`isolation: ${BAD} of ${APPS} apps rejected, ${n} haproxy -c run(s) in all`);
    expect(n).toBeLessThanOrEqual(2 * BAD * 10 + 4);
    // HAProxy names each proxy it rejects, and each named one is confirmed alone: k + a few.
    expect(n).toBeLessThanOrEqual(BAD + 5);
  }, 60000);

  test('then task churn of another app goes through the runtime API: no reload, the moved task answers', async () => {
    const reloadsBefore = await reloads();
    const checksBefore = checks();
    const i = 3; // served by server 3; its task moves to server 0's port
    expect(await answer(i)).toBe(3);
    await sim.updateApp(appId(i), {
      container: {
        type: 'DOCKER',
        docker: { image: 'chaos' },
        portMappings: [{ containerPort: 80, hostPort: serverPorts[0], servicePort: base + i }],
      },
    });
    await waitFor(
      'the moved task to be served',
      () => service.status.status().recentApplies.some((a) => a.runtimeOps === 2),
      30000,
    );
    expect(await answer(i)).toBe(0);
    // Found rather than taken first: a later apply (a snapshot with nothing left to do) may be recorded already.
    expect(service.status.status().recentApplies.find((a) => a.runtimeOps === 2)).toMatchObject({
      reloaded: false,
      runtimeOps: 2,
      reasons: [
        expect.stringMatching(/^runtime API: 1 server\(s\) added to /),
        expect.stringMatching(/^runtime API: 1 server\(s\) removed from /),
      ],
    });
    expect(await reloads()).toBe(reloadsBefore);
    expect(checks() - checksBefore).toBe(0); // runtime-only: HAProxy's runtime API accepted the server, no haproxy -c, no isolation
    expect(new Set(service.status.status().leftOut.map((p) => p.appId)).size).toBe(BAD); // still named
    expect(
      logs.some((l) => /reloading HAProxy: .*backend chaos_app\d+_\d+ added/.test(l.msg) && !/initial/.test(l.msg)),
    ).toBe(false);
  }, 60000);
});
