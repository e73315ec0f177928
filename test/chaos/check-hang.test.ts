/**
 * Chaos on the live service (simulator with real task servers, real controller, real HAProxy): a
 * `haproxy -c` that never finishes with one app's config (as HAProxy reading a FIFO would) no
 * longer holds every other app's change. The check times out (30 s), the app it hangs on alone is
 * left out, and the rest is applied.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freeLoopbackBlock, httpGet, startLive } from '../../src/demo/live';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { describeWithHaproxy } from '../support/haproxy';
import { waitFor } from '../support/wait';
import { countingHaproxy } from './isolationSupport';

const MARKER = 'X-Hangs-The-Check';
const app = (id: string, port: number, labels: Record<string, string> = {}) => ({
  id,
  instances: 1,
  portDefinitions: [{ port }],
  labels: {
    HAPROXY_GROUP: 'external',
    HAPROXY_0_BIND_ADDR: '127.0.0.1',
    HAPROXY_0_VHOST: `${id.slice(1)}.test`,
    ...labels,
  },
});

/** /web served by a controller whose `haproxy -c` hangs (`seconds`, or for good) on a marked app's config. */
async function startMarked(bin: string, seconds?: number) {
  const logs: LogLine[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'mlb-chaos-hang-'));
  const counting = countingHaproxy(dir, bin, { on: MARKER, ...(seconds === undefined ? {} : { seconds }) });
  const base = await freeLoopbackBlock(3);
  const live = await startLive({
    apps: [app('/web', base)],
    flags: ['--haproxy-bin', counting.bin],
    logger: memoryLogger(logs),
  });
  const status = () => live.service.status.status();
  await waitFor('web served', () => status().services.length === 1, 30000);
  return {
    logs,
    counting,
    base,
    live,
    status,
    /** Creates an app whose config the check hangs on; resolves once a check hangs. */
    createMarked: async (id: string, port: number): Promise<void> => {
      const head = `\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  http-response set-header ${MARKER} 1\n`;
      await live.sim.createApp(app(id, port, { HAPROXY_0_BACKEND_HEAD: head }));
      await waitFor('a check to hang', () => counting.hangs() > 0, 30000);
    },
    /** Stops the service (which removes its directory), then the wrapper's. */
    stop: async (): Promise<void> => {
      await live.stop();
      rmSync(dir, { recursive: true, force: true });
      if (process.env.MLB_TEST_LOGS) for (const l of logs) console.log(`${l.level} ${l.msg}`);
    },
  };
}

describeWithHaproxy('chaos: haproxy -c hangs on one app', (haproxy) => {
  test('the app it hangs on is left out after the timeout, the other new app is served; later churn is not held', async () => {
    const { logs, counting, base, live, status, createMarked, stop } = await startMarked(haproxy.bin);
    try {
      const answers = async (host: string) => (await httpGet(live.ports.http, host).catch(() => undefined))?.status;
      await createMarked('/hangs', base + 1);
      // Comes while the check hangs: before, its change waited with the hanging one's, retried for good.
      await live.sim.createApp(app('/api', base + 2));
      await waitFor('api served', () => status().services.some((s) => s.appId === '/api'), 120000);
      expect(await answers('api.test')).toBe(200);
      const leftOut = status().leftOut.find((p) => p.appId === '/hangs');
      expect(leftOut?.message).toMatch(
        new RegExp(
          `haproxy -c does not finish with backend hangs_${base + 1}, left out: .*did not finish within 30000 ms`,
        ),
      );
      expect(
        status()
          .services.map((s) => s.appId)
          .sort(),
      ).toEqual(['/api', '/web']);
      expect(logs.some((l) => /haproxy -c did not finish: looking for what it hangs on/.test(l.msg))).toBe(true);

      // Remembered: another app's new task goes through the runtime API, with no check at all.
      const checks = counting.checks();
      await live.sim.scale('/web', 2);
      await waitFor(
        'web scaled up',
        () => status().services.find((s) => s.appId === '/web')?.servers.length === 2,
        20000,
      );
      expect(counting.checks()).toBe(checks);
    } finally {
      await stop();
    }
  }, 200000);

  test('a stop during a slow apply writes its last files before it returns, and none after', async () => {
    const { base, live, createMarked, stop } = await startMarked(haproxy.bin, 2);
    try {
      await createMarked('/slow', base + 1);
    } finally {
      await stop();
    }
    // Before, the apply went on after the stop: it wrote the config (making the directory again) and
    // then, its reload failing, the last good one.
    await new Promise((r) => setTimeout(r, 4000));
    expect(existsSync(live.dir)).toBe(false);
  }, 60000);

  test('a stop during a check that never ends kills the check', async () => {
    const { logs, counting, base, createMarked, stop } = await startMarked(haproxy.bin);
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    let hung: number[];
    try {
      await createMarked('/stuck', base + 1);
    } finally {
      hung = counting.hangPids(); // the wrapper's directory goes with the stop
      await stop();
    }
    // Before, the check (a hung `haproxy -c`) outlived the stop, which waited for the apply behind it.
    expect(hung).toHaveLength(1);
    expect(hung.filter(alive)).toEqual([]);
    expect(logs.filter((l) => /looking for what it hangs on/.test(l.msg))).toEqual([]);
  }, 60000);
});
