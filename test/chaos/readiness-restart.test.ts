import { startLive, httpGet, type LiveSystem } from '../../src/demo/live';
import { describeWithHaproxy } from '../support/haproxy';
import { memoryLogger, type LogLine } from '../support/controllerHarness';
import { READINESS_CHECKS } from '../support/fixtures';
import { waitFor } from '../support/wait';

const VHOST = 'warm.example.com';
const web = {
  id: '/web',
  instances: 2,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: VHOST },
  portDefinitions: [{ port: 10131, name: 'http' }],
  readinessChecks: READINESS_CHECKS,
};

/** Steady sequential traffic through HAProxy, every answer recorded (task id, or the failure). */
class Load {
  readonly answers: { ok: boolean; task: string }[] = [];
  private running = true;
  private done: Promise<void> = Promise.resolve();
  start(port: number): void {
    this.done = (async () => {
      while (this.running) {
        const a = await httpGet(port, VHOST, 2000).catch(() => undefined);
        const task =
          a === undefined
            ? ''
            : ((): string => {
                try {
                  return (JSON.parse(a.body) as { task: string }).task;
                } catch {
                  return '';
                }
              })();
        this.answers.push({ ok: a?.status === 200, task });
        await new Promise((r) => setTimeout(r, 15)); // pacing, ~50 requests/s
      }
    })();
  }
  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
  /** Waits until `n` more answers have come. */
  async next(n: number): Promise<{ ok: boolean; task: string }[]> {
    const from = this.answers.length;
    await waitFor(`${n} answers through HAProxy`, () => this.answers.length >= from + n, 20000);
    return this.answers.slice(from, from + n);
  }
}

/**
 * A restart whose new tasks are running but not ready (they answer 503 until warmed up), under steady
 * traffic through the real controller and HAProxy. marathon-lb routes them at once and requests fail;
 * with --respect-readiness-checks they get none until ready. Recovery: once ready, Marathon ends the
 * deployment and kills the old tasks, and the new ones serve everything.
 */
describeWithHaproxy('a restart with tasks not ready yet', () => {
  for (const respect of [true, false]) {
    test(
      respect
        ? '--respect-readiness-checks: no request reaches them, 0 failed; they serve once ready'
        : 'marathon-lb (flag off): requests reach them and fail, as upstream',
      async () => {
        const logs: LogLine[] = [];
        const live: LiveSystem = await startLive({
          apps: [web],
          logger: memoryLogger(logs),
          flags: ['--fast-path', ...(respect ? ['--respect-readiness-checks'] : [])],
          simulator: { timeScale: 0.01, readyAfterSeconds: Infinity, notReadyAnswers503: true },
        });
        const load = new Load();
        try {
          const servers = (): number[] =>
            live.service.status
              .status()
              .services.find((s) => s.backend === 'web_10131')
              ?.servers.map((s) => Number(s.address.split(':').pop())) ?? [];
          for (const t of live.sim.tasksOf('/web')) await live.sim.setReady(t.id, true);
          await waitFor('the first tasks routed', () => servers().length === 2, 25000);
          const old = live.sim.tasksOf('/web').map((t) => t.id);
          load.start(live.ports.http);
          expect((await load.next(20)).every((a) => a.ok)).toBe(true);

          const start = logs.length;
          await live.sim.updateApp('/web', { portDefinitions: [{ port: 10131, name: 'http-v2' }] }); // a restart
          const fresh = live.sim
            .tasksOf('/web')
            .map((t) => t.id)
            .filter((id) => !old.includes(id));
          expect(fresh).toHaveLength(2);
          if (respect) {
            await waitFor(
              'the fast path to defer to the snapshot',
              () => logs.slice(start).some((l) => l.msg.includes('(--respect-readiness-checks)')),
              10000,
            );
            const deferred = logs.length;
            await waitFor(
              'the snapshot after the restart',
              () => logs.slice(deferred).some((l) => l.msg === 'config unchanged: nothing to apply'),
              10000,
            );
          } else {
            await waitFor('the new tasks routed', () => servers().length === 4, 10000);
          }
          const window = await load.next(60);
          const failed = window.filter((a) => !a.ok).length;
          if (respect) {
            expect(failed).toBe(0);
            expect(new Set(window.map((a) => a.task))).toEqual(new Set(old));
          } else {
            expect(failed).toBeGreaterThan(0);
          }

          // Recovery: ready → the deployment ends, the old tasks are killed, the new ones serve.
          const beforeReady = load.answers.length;
          for (const id of fresh) await live.sim.setReady(id, true);
          await waitFor(
            'only the new tasks routed',
            () => {
              const ports = servers();
              const want = live.sim.tasksOf('/web').map((t) => t.ports[0]!);
              return ports.length === 2 && want.every((p) => ports.includes(p));
            },
            15000,
          );
          await load.next(1); // the request under way at the switch may have gone to a killed task
          const after = await load.next(30);
          expect(after.every((a) => a.ok)).toBe(true);
          expect(new Set(after.map((a) => a.task))).toEqual(new Set(fresh));
          const transition = load.answers.slice(beforeReady).filter((a) => !a.ok).length;
          console.log(
            `${respect ? 'respect-readiness-checks' : 'marathon-lb'}: ${load.answers.length} requests, ` +
              `${failed} failed while the new tasks were not ready, ${transition} failed while Marathon killed the old ones`,
          );
        } finally {
          await load.stop();
          await live.stop();
        }
      },
      60000,
    );
  }
});
