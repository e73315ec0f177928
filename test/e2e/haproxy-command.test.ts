/**
 * --command mode as marathon-lb users run it: HAProxy is started by someone else (here the test, as
 * systemd would), the controller writes and validates the config and runs the operator's command to
 * reload it (`kill -USR2 <master>`: a master-worker reload). Real HAProxy, the built CLI, the
 * simulator; requests through HAProxy show the tasks answering.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findConfigDir } from '../../src/configDir';
import { freeLoopbackPorts, httpGet } from '../../src/demo/live';
import { prepareDemoFiles, type DemoFiles } from '../../src/demo/setup';
import { Simulator } from '../../src/simulator';
import { describeWithHaproxy, startHaproxy, type RunningHaproxy } from '../support/haproxy';
import { CLI } from '../support/paths';
import { tempDir } from '../support/render';
import { waitFor } from '../support/wait';

const web = {
  id: '/web',
  instances: 2,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com' },
  portDefinitions: [{ port: 10401 }],
};
const taskOf = (body: string): string => (JSON.parse(body) as { task: string }).task;

describeWithHaproxy(
  "--command mode: an HAProxy started outside the controller, reloaded by the operator's command",
  () => {
    let sim: Simulator;
    let hp: RunningHaproxy;
    let dir: string;
    let files: DemoFiles;
    let ports: { http: number; https: number; stats: number; appid: number };

    /** The CLI with `flags`; resolves with its exit code and output (bounded). */
    const run = (
      flags: string[],
    ): { child: ChildProcess; done: Promise<{ code: number | null; output: string }>; output: () => string } => {
      let output = '';
      const child = spawn(
        process.execPath,
        [
          CLI,
          ...files.flags,
          '-m',
          sim.url,
          '--group',
          'external',
          '--admin-port',
          '0',
          '--syslog-socket',
          '/dev/null',
          '--debounce-quiet',
          '0.05',
          '--log-level',
          'DEBUG',
          ...flags,
        ],
        {
          env: { PATH: process.env.PATH, MARATHON_LB_PID_FILE: path.join(dir, 'marathon-lb.pid') },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      const done = new Promise<{ code: number | null; output: string }>((resolve) =>
        child.once('exit', (code) => resolve({ code, output })),
      );
      return { child, done, output: () => output };
    };
    /** Requests through HAProxy until `want(task)` holds for an answer (bounded). */
    const until = async (want: (task: string) => boolean, tries = 300): Promise<string> => {
      for (let i = 0; i < tries; i++) {
        const a = await httpGet(ports.http, 'web.example.com').catch(() => undefined);
        if (a?.status === 200 && want(taskOf(a.body))) return taskOf(a.body);
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no answer from the wanted task after ${tries} requests`);
    };
    const reloadCommand = (): string => `echo run >> ${path.join(dir, 'runs')}; kill -USR2 ${hp.pid}`;
    const runs = (): number =>
      fs.existsSync(path.join(dir, 'runs'))
        ? fs.readFileSync(path.join(dir, 'runs'), 'utf8').split('\n').length - 1
        : 0;

    beforeAll(async () => {
      dir = tempDir('mlb-command-');
      sim = await Simulator.start({ apps: [web], serveTasks: true });
      // Picked once the simulator's task servers (OS-assigned ports) are up, so none of them takes one.
      const picked = (await freeLoopbackPorts(4)) as [number, number, number, number];
      ports = { http: picked[0], https: picked[1], stats: picked[2], appid: picked[3] };
      files = prepareDemoFiles(dir, findConfigDir(), ports);
      // The operator's HAProxy, serving 503 until marathon-lb's config arrives.
      hp = await startHaproxy({
        dir,
        configName: 'haproxy.cfg',
        waitForPort: ports.http,
        config: `global\n  maxconn 256\ndefaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\nfrontend boot\n  bind 127.0.0.1:${ports.http}\n  http-request return status 503\n`,
      });
    }, 30000);

    afterAll(async () => {
      await hp?.stop();
      await sim?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }, 20000);

    test('a failing command is retried --max-reload-retries times every --reload-interval, then the one pass exits 1 and the last config is back', async () => {
      const before = fs.readFileSync(path.join(dir, 'haproxy.cfg'), 'utf8');
      const { done } = run([
        '--command',
        `echo run >> ${path.join(dir, 'runs')}; exit 7`,
        '--max-reload-retries',
        '2',
        '--reload-interval',
        '0',
      ]);
      const { code, output } = await done;
      expect(code).toBe(1);
      expect(runs()).toBe(3);
      expect(output).toMatch(/--command ".*" exited with code 7 \(3 tries, --max-reload-retries 2\)/);
      // It exits: the log does not promise a retry it will not make.
      expect(output).toMatch(/apply failed: .*; exiting with 1 \(one pass: --command without --sse\)/);
      expect(output).not.toMatch(/retrying in/);
      expect(fs.readFileSync(path.join(dir, 'haproxy.cfg'), 'utf8')).toBe(before);
      expect((await httpGet(ports.http, 'web.example.com')).status).toBe(503); // the operator's HAProxy was left as it was
      expect(fs.existsSync(path.join(dir, 'master.sock'))).toBe(false); // no HAProxy of the controller's own
    }, 30000);

    test('without --sse: one pass — write, validate, run the command, exit 0; the outside HAProxy serves the tasks', async () => {
      fs.rmSync(path.join(dir, 'runs'), { force: true });
      const { code, output } = await run(['--command', reloadCommand()]).done;
      expect(code).toBe(0);
      expect(output).toContain(`reloading using ${reloadCommand()}`);
      expect(runs()).toBe(1);
      // marathon-lb's head has `timeout tunnel 3600s`: old workers may drain tunnels that long by default.
      expect(fs.readFileSync(path.join(dir, 'haproxy.cfg'), 'utf8')).toMatch(
        /^global\n {2}mworker-max-reloads 10\n {2}hard-stop-after 3600s\n/,
      );
      const tasks = new Set(sim.tasksOf('/web').map((t) => t.id));
      expect(tasks.has(await until(() => true))).toBe(true);
      expect(fs.existsSync(path.join(dir, 'master.sock'))).toBe(false);
    }, 30000);

    test('one pass with nothing changed does not run the command (marathon-lb: "config unchanged")', async () => {
      const { code } = await run(['--command', reloadCommand()]).done;
      expect(code).toBe(0);
      expect(runs()).toBe(1);
    }, 30000);

    test('with --sse it keeps running: a scaled task answers through the outside HAProxy after the command reloads it', async () => {
      const c = run(['--command', reloadCommand(), '--sse']);
      try {
        await waitFor(
          'the controller to follow Marathon',
          () => /config unchanged|skipping reload/.test(c.output()),
          15000,
        );
        await sim.scale('/web', 3);
        const newest = sim.tasksOf('/web')[2]!.id;
        expect(await until((t) => t === newest)).toBe(newest);
        // What was done, not what was planned: there is no runtime API in this mode.
        await waitFor(
          'the apply to be reported',
          () =>
            /HAProxy reloaded and healthy: --command mode reloads for every change \(1 server change\(s\)\)/.test(
              c.output(),
            ),
          15000,
        );
        expect(runs()).toBe(2);
      } finally {
        c.child.kill('SIGTERM');
        expect((await c.done).code).toBe(0);
      }
      // The controller's stop leaves the operator's HAProxy serving.
      expect((await httpGet(ports.http, 'web.example.com')).status).toBe(200);
    }, 40000);
  },
);
