import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findConfigDir } from '../../src/configDir';
import { freeLoopbackPorts } from '../../src/demo/live';
import { prepareDemoFiles } from '../../src/demo/setup';
import { DEFAULT_MAX_EVENT_BYTES } from '../../src/marathon/events';
import { Simulator } from '../../src/simulator';
import { describeWithHaproxy } from '../support/haproxy';
import { CLI } from '../support/paths';
import { tempDir } from '../support/render';
import { waitFor } from '../support/wait';
import { steadyClient, taskAnswers } from './marathonSupport';

const HOST = 'endless.example.com';
const MIB = 1024 * 1024;
/** Poured in all before the fault ends: several times the limit, several reconnections. */
const POUR_BYTES = 320 * MIB;
const RSS_BOUND_MIB = 300;

/** Resident memory of a process, from /proc (Linux). */
function rssMib(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/**
 * Marathon (or anything posing as it) sends an event-stream line that never ends. It used to take
 * the controller from 60 MiB to 1.9 GiB in a minute with nothing logged. Now a line or event over
 * --sse-max-event-bytes (default 16 MiB) drops the connection, is logged, and the stream reconnects
 * with backoff; the controller's RSS stays bounded while hundreds of MiB are poured at it, HAProxy
 * keeps serving (requests counted), and once the stream behaves a scale-up is routed again.
 * The controller runs as users run it (the built CLI, a child process whose RSS is read from /proc).
 */
describeWithHaproxy('chaos: an event-stream line that never ends', () => {
  let sim: Simulator;
  let child: ChildProcess;
  let dir: string;
  let output = '';
  let http = 0;

  beforeAll(async () => {
    dir = tempDir('mlb-sse-endless-');
    sim = await Simulator.start({
      serveTasks: true,
      apps: [
        {
          id: '/web',
          instances: 2,
          labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: HOST },
          portDefinitions: [{ port: 10531 }],
        },
      ],
    });
    // Picked once the simulator's task servers (OS-assigned ports) are up, so none of them takes one.
    const [h, https, stats, appid] = (await freeLoopbackPorts(4)) as [number, number, number, number];
    const ports = { http: h, https, stats, appid };
    http = h;
    const files = prepareDemoFiles(dir, findConfigDir(), ports);
    child = spawn(
      process.execPath,
      [
        CLI,
        ...files.flags,
        '-m',
        sim.url,
        '--sse',
        '--group',
        'external',
        '--admin-port',
        '0',
        '--max-backoff',
        '1',
        '--debounce-quiet',
        '0.05',
        '--debounce-max-wait',
        '0.5',
        '--syslog-socket',
        '/dev/null',
        '--log-level',
        'INFO',
      ],
      {
        env: { PATH: process.env.PATH, MARATHON_LB_PID_FILE: path.join(dir, 'marathon-lb.pid') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const keep = (d: Buffer): void => {
      output = (output + d.toString()).slice(-1_000_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    await waitFor('HAProxy serving', () => /HAProxy reloaded and healthy/.test(output), 20_000);
    await taskAnswers(http, HOST, sim.tasksOf('/web')[0]!.id, 10_000);
  }, 40_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await sim?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 40_000);

  test(`${POUR_BYTES / MIB} MiB of one endless line: dropped at the limit, logged, reconnected; RSS < ${RSS_BOUND_MIB} MiB; routing follows Marathon again`, async () => {
    const pid = child.pid!;
    await new Promise((r) => setTimeout(r, 500));
    const before = rssMib(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMib(pid))), 50);
    const client = steadyClient(http, HOST);
    try {
      sim.setFaults({ stream: 'endless-line' });
      const cut = (): number =>
        output.split(`longer than ${DEFAULT_MAX_EVENT_BYTES} bytes (--sse-max-event-bytes)`).length - 1;
      await waitFor(
        `${POUR_BYTES / MIB} MiB poured and 3 connections dropped`,
        () => sim.hub.endlessBytes >= POUR_BYTES && cut() >= 3,
        90_000,
      );
      const poured = sim.hub.endlessBytes;
      sim.clearFaults();
      sim.setFaults({ stream: 'close' });

      await sim.scale('/web', 3);
      const took = await taskAnswers(http, HOST, sim.tasksOf('/web')[2]!.id, 15_000);
      const tally = await client.stop();
      clearInterval(sampler);
      const after = rssMib(pid);
      console.log(
        `endless SSE line: ${Math.round(poured / MIB)} MiB poured, ${cut()} connections dropped at ${DEFAULT_MAX_EVENT_BYTES / MIB} MiB; ` +
          `controller RSS ${before.toFixed(0)} MiB before, peak ${peak.toFixed(0)} MiB, ${after.toFixed(0)} MiB after; ` +
          `${tally.ok} requests through HAProxy, ${tally.failed} failed; scale-up served ${took} ms after the stream behaved`,
      );
      expect(output).toMatch(
        new RegExp(
          `event stream http:\\S+ sent a line longer than ${DEFAULT_MAX_EVENT_BYTES} bytes \\(--sse-max-event-bytes\\): dropped the connection: reconnecting in \\d+\\.\\ds`,
        ),
      );
      expect(peak).toBeLessThan(RSS_BOUND_MIB);
      expect(tally.failures).toEqual([]);
      expect(tally.ok).toBeGreaterThan(20);
    } finally {
      clearInterval(sampler);
      await client.stop();
    }
  }, 150_000);
});
