/**
 * The Lua services of marathon-lb's `listen stats` section, served by a real HAProxy, asked over
 * real HTTP on 127.0.0.1: /_haproxy_getpids, /_haproxy_getconfig, /_haproxy_getvhostmap,
 * /_haproxy_getappmap, /_mlb_signal/hup, /_mlb_signal/usr1.
 *
 * The config is HAPROXY_HEAD.mustache with only what a test cannot use changed: root-owned paths
 * (stats socket, server-state-base) go to a temp dir, the stats bind to a free loopback port, and
 * the global `maxconn 50000` to 1000, because HAProxy >= 2.3 refuses to start when the fd hard limit
 * is below what 50000 needs (~100 k), which is common on CI runners and developer boxes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TaskBackend } from '../../src/simulator/taskServers';
import { checkConfig, describeWithHaproxy, startHaproxy, type RunningHaproxy } from '../support/haproxy';
import { freePort, unclaimedLoopbackPort } from '../support/ports';
import { startStubAdmin } from '../support/adminStack';

const LUA_DIR = resolve(__dirname, '../../config/lua');
const HEAD_TEMPLATE = resolve(__dirname, '../../config/templates/HAPROXY_HEAD.mustache');
const DEFAULT_OPTIONS = '  option redispatch\n  option http-server-close\n  option dontlognull\n';

function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const next = text.replace(from, to);
  if (next === text) throw new Error(`HAPROXY_HEAD.mustache no longer contains ${String(from)}`);
  return next;
}

function renderHead(template: string, dir: string, port: number): string {
  let cfg = template.split('{{luaDir}}').join(LUA_DIR);
  cfg = replaceOnce(cfg, '{{globalDefaultOptions}}', DEFAULT_OPTIONS);
  cfg = replaceOnce(cfg, /stats socket \S+/, `stats socket ${join(dir, 'haproxy.sock')}`);
  cfg = replaceOnce(cfg, /server-state-base \S+/, `server-state-base ${join(dir, 'state')}/`);
  cfg = replaceOnce(cfg, /bind 0\.0\.0\.0:9090/, `bind 127.0.0.1:${port}`);
  cfg = replaceOnce(cfg, /^ {2}maxconn 50000$/m, '  maxconn 1000');
  return cfg;
}

interface Reply {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly contentLength: string | undefined;
  readonly body: string;
}

/** One GET over a fresh connection, bounded to 5 s. */
function get(port: number, path: string): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () =>
        done({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          contentLength: res.headers['content-length'],
          body,
        }),
      );
      res.on('error', fail);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', fail);
    req.end();
  });
}

/** A node process that prints the name of every SIGHUP/SIGUSR1 it gets; exits by itself after 60 s. */
interface SignalRecorder {
  readonly pid: number;
  readonly received: string[];
  waitFor(signal: string, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

async function startSignalRecorder(): Promise<SignalRecorder> {
  const script = [
    "for (const s of ['SIGHUP', 'SIGUSR1']) process.on(s, () => process.stdout.write(s + '\\n'));",
    "process.stdout.write('ready\\n');",
    'setTimeout(() => process.exit(0), 60000);',
  ].join('\n');
  const child: ChildProcess = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const received: string[] = [];
  let pending = '';
  const waiters = new Set<() => void>();
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    pending += d;
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (line !== 'ready') received.push(line);
    }
    for (const w of waiters) w();
  });
  const waitLine = (pred: () => boolean, what: string, ms: number) =>
    new Promise<void>((ok, fail) => {
      if (pred()) return ok();
      const timer = setTimeout(() => {
        waiters.delete(check);
        fail(new Error(`signal recorder: no ${what} within ${ms} ms (got: ${lines.join(', ')})`));
      }, ms);
      const check = () => {
        if (!pred()) return;
        clearTimeout(timer);
        waiters.delete(check);
        ok();
      };
      waiters.add(check);
    });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
  };
  try {
    await waitLine(() => lines.includes('ready'), 'ready', 10000);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    pid: child.pid as number,
    received,
    waitFor: (signal, ms = 5000) => waitLine(() => received.includes(signal), signal, ms),
    stop,
  };
}

function parentPid(pid: number): Promise<number> {
  // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after ')'.
  return readFile(`/proc/${pid}/stat`, 'utf8').then((s) => Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]));
}

describeWithHaproxy('Lua services on a real HAProxy', (haproxy) => {
  const VHOST_MAP = 'app.example.com backend_app_10000\nweb.example.com backend_web_10001\n';
  const APP_MAP = '/app backend_app_10000\n/web backend_web_10001\n';
  let dir: string;
  let port: number;
  let config: string;
  let template: string;
  let pidFile: string;
  let hap: RunningHaproxy | undefined;
  let recorder: SignalRecorder | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mlb-lua-'));
    pidFile = join(dir, 'marathon-lb.pid');
    template = await readFile(HEAD_TEMPLATE, 'utf8');
    await writeFile(join(dir, 'domain2backend.map'), VHOST_MAP);
    await writeFile(join(dir, 'app2backend.map'), APP_MAP);
    recorder = await startSignalRecorder();
    await writeFile(pidFile, `${recorder.pid}\n`);
    // freePort() can race with another process; try a few ports before giving up.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3 && hap === undefined; attempt++) {
      port = await freePort();
      config = renderHead(template, dir, port);
      try {
        hap = await startHaproxy({
          bin: haproxy.bin,
          dir,
          config,
          waitForPort: port,
          // The defaults (HAPROXY_CFGFILES / -f) must find the config and the maps beside it.
          env: { MARATHON_LB_PID_FILE: pidFile, MARATHON_LB_HAPROXY_CONFIG: undefined, MARATHON_LB_MAP_DIR: undefined },
        });
      } catch (err) {
        lastError = err;
      }
    }
    if (hap === undefined) throw lastError;
  }, 40000);

  afterAll(async () => {
    await hap?.stop();
    await recorder?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 15000);

  it('is a config that `haproxy -c` accepts', async () => {
    const result = await checkConfig((hap as RunningHaproxy).configPath, haproxy.bin);
    expect(result.output).toMatch(/Configuration file is valid/);
    expect(result.ok).toBe(true);
  });

  it('getpids lists the running haproxy processes (master and worker)', async () => {
    const master = (hap as RunningHaproxy).pid;
    const r = await get(port, '/_haproxy_getpids');
    expect(r.status).toBe(200);
    expect(r.contentType).toBe('text/plain');
    expect(r.body).toMatch(/^\d+( \d+)*$/);
    expect(Number(r.contentLength)).toBe(r.body.length);
    const pids = r.body.split(' ').map(Number);
    expect(pids).toContain(master);
    const parents = await Promise.all(pids.map((p) => parentPid(p).catch(() => -1)));
    expect(parents).toContain(master); // the worker that answered is a child of the master
  });

  // A command is a fork of the worker, and while it lives it holds a copy of every socket HAProxy has
  // open: late events of sockets closed meanwhile failed requests through HAProxy (see traffic below).
  it('getpids runs no command: a `pidof` first in PATH is never run, and the answer is the real processes', async () => {
    const own = await mkdtemp(join(tmpdir(), 'mlb-lua-pidof-'));
    try {
      const calls = join(own, 'calls');
      await writeFile(join(own, 'pidof'), `#!/bin/sh\necho run >> ${calls}\necho 4242 4241\n`, { mode: 0o755 });
      const { hap: counted, port: p } = await startHead(own, { PATH: `${own}:${process.env.PATH ?? ''}` });
      try {
        const answers = await Promise.all(Array.from({ length: 20 }, () => get(p, '/_haproxy_getpids')));
        const pids = answers[0]!.body.split(' ').map(Number);
        expect(pids).toContain(counted.pid);
        expect(await Promise.all(pids.map((pid) => parentPid(pid).catch(() => -1)))).toContain(counted.pid);
        expect(answers.every((a) => a.status === 200 && a.body === answers[0]!.body)).toBe(true);
        expect(existsSync(calls)).toBe(false);
      } finally {
        await counted.stop();
      }
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });

  it('getconfig returns the config file haproxy loaded, byte for byte', async () => {
    const r = await get(port, '/_haproxy_getconfig');
    expect(r.status).toBe(200);
    expect(r.contentType).toBe('text/plain');
    expect(r.body).toBe(config);
    expect(Number(r.contentLength)).toBe(Buffer.byteLength(config));
  });

  it('getvhostmap and getappmap return the map files beside the config', async () => {
    const vhost = await get(port, '/_haproxy_getvhostmap');
    expect(vhost).toMatchObject({ status: 200, contentType: 'text/plain', body: VHOST_MAP });
    expect(Number(vhost.contentLength)).toBe(VHOST_MAP.length);
    const app = await get(port, '/_haproxy_getappmap');
    expect(app).toMatchObject({ status: 200, contentType: 'text/plain', body: APP_MAP });
  });

  it('the maps are read on every request: a changed file shows, a missing one is an empty 200', async () => {
    const changed = 'new.example.com backend_new_10002\n';
    await writeFile(join(dir, 'domain2backend.map'), changed);
    expect((await get(port, '/_haproxy_getvhostmap')).body).toBe(changed);
    await unlink(join(dir, 'app2backend.map'));
    expect(await get(port, '/_haproxy_getappmap')).toMatchObject({
      status: 200,
      contentType: 'text/plain',
      contentLength: '0',
      body: '',
    });
    await writeFile(join(dir, 'domain2backend.map'), VHOST_MAP);
    await writeFile(join(dir, 'app2backend.map'), APP_MAP);
  });

  it('/_mlb_signal/hup sends SIGHUP to the pid in MARATHON_LB_PID_FILE', async () => {
    const r = await get(port, '/_mlb_signal/hup');
    expect(r).toMatchObject({ status: 200, contentType: 'text/plain', body: 'Sent SIGHUP signal to marathon-lb' });
    await (recorder as SignalRecorder).waitFor('SIGHUP');
  });

  it('/_mlb_signal/usr1 sends SIGUSR1 to the pid in MARATHON_LB_PID_FILE', async () => {
    const r = await get(port, '/_mlb_signal/usr1');
    expect(r).toMatchObject({ status: 200, contentType: 'text/plain', body: 'Sent SIGUSR1 signal to marathon-lb' });
    await (recorder as SignalRecorder).waitFor('SIGUSR1');
    expect((recorder as SignalRecorder).received).toEqual(['SIGHUP', 'SIGUSR1']);
  });

  it('signals answer 500 like marathon-lb when the process or the pid file is not there', async () => {
    // No pid reaches pid_max, so kill fails with "no such process" (exit code 1), as pkill did.
    const pidMax = (await readFile('/proc/sys/kernel/pid_max', 'utf8')).trim();
    try {
      await writeFile(pidFile, `${pidMax}\n`);
      expect(await get(port, '/_mlb_signal/hup')).toMatchObject({
        status: 500,
        contentType: 'text/plain',
        body: "Failed to send SIGHUP signal to marathon-lb (exit code 1). Is marathon-lb running in 'poll' mode?",
      });
      await writeFile(pidFile, 'not a pid\n');
      const garbage = await get(port, '/_mlb_signal/usr1');
      expect(garbage.status).toBe(500);
      expect(garbage.body).toBe(
        `Failed to send SIGUSR1 signal to marathon-lb: pid file ${pidFile} does not hold a process id. ` +
          "Is marathon-lb running in 'poll' mode?",
      );
      await unlink(pidFile);
      const missing = await get(port, '/_mlb_signal/hup');
      expect(missing.status).toBe(500);
      expect(missing.body).toMatch(
        /^Failed to send SIGHUP signal to marathon-lb: cannot read pid file \(.*marathon-lb\.pid/,
      );
    } finally {
      await writeFile(pidFile, `${(recorder as SignalRecorder).pid}\n`);
    }
    expect((recorder as SignalRecorder).received).toEqual(['SIGHUP', 'SIGUSR1']);
  });

  it('a controller can point the services elsewhere: MARATHON_LB_HAPROXY_CONFIG and MARATHON_LB_MAP_DIR', async () => {
    const other = await mkdtemp(join(tmpdir(), 'mlb-lua-env-'));
    let second: RunningHaproxy | undefined;
    try {
      const announced = join(other, 'announced.cfg');
      await writeFile(announced, '# the config the controller says it runs\n');
      await writeFile(join(other, 'domain2backend.map'), 'env.example.com backend_env_1\n');
      const otherPort = await freePort();
      second = await startHaproxy({
        bin: haproxy.bin,
        config: (d) => renderHead(template, d, otherPort),
        waitForPort: otherPort,
        env: { MARATHON_LB_PID_FILE: pidFile, MARATHON_LB_HAPROXY_CONFIG: announced, MARATHON_LB_MAP_DIR: other },
      });
      expect((await get(otherPort, '/_haproxy_getconfig')).body).toBe('# the config the controller says it runs\n');
      // Rewritten behind runtime-API changes (no reload): the file as it is now.
      await writeFile(announced, '# the config with the servers added at runtime\n');
      expect((await get(otherPort, '/_haproxy_getconfig')).body).toBe(
        '# the config with the servers added at runtime\n',
      );
      expect((await get(otherPort, '/_haproxy_getvhostmap')).body).toBe('env.example.com backend_env_1\n');
      expect(await get(otherPort, '/_haproxy_getappmap')).toMatchObject({ status: 200, body: '' });
    } finally {
      await second?.stop();
      await rm(other, { recursive: true, force: true });
    }
  }, 20000);

  /** An admin API like the controller's, its signals recorded; its URL is what the controller gives HAProxy. */
  async function recordingAdmin(): Promise<{ url: string; signals: string[]; close(): Promise<void> }> {
    const signals: string[] = [];
    const admin = await startStubAdmin({ signals });
    return { url: admin.url, signals, close: () => admin.close() };
  }

  /**
   * Another HAProxy on the head template, its files in `dir`, its stats on a port of its own: `env`
   * over the pid file's; `web` (given the files' dir) adds sections, whose port is then awaited.
   */
  async function startHead(
    dir: string,
    env: Record<string, string>,
    web?: { readonly config: string; readonly port: number },
  ): Promise<{ readonly hap: RunningHaproxy; readonly port: number }> {
    const port = await freePort();
    const hap = await startHaproxy({
      bin: haproxy.bin,
      dir,
      config: `${renderHead(template, dir, port)}${web === undefined ? '' : `\n${web.config}`}`,
      waitForPort: web?.port ?? port,
      env: { MARATHON_LB_PID_FILE: pidFile, ...env },
    });
    return { hap, port };
  }

  // Each asked as its user asks it: zdd polls getpids once a second; an operator's script the signals.
  it.each([
    ['getpids', '/_haproxy_getpids'],
    ['a signal, through the admin API', '/_mlb_signal/hup'],
  ])(
    'requests through HAProxy all succeed while %s is asked twice a second',
    async (_what, asked) => {
      const own = await mkdtemp(join(tmpdir(), 'mlb-lua-traffic-'));
      const tasks = await Promise.all([0, 1, 2].map(() => TaskBackend.start('127.0.0.1', 1)));
      const admin = await recordingAdmin();
      try {
        const front = await freePort();
        const web = [
          `frontend web\n  bind 127.0.0.1:${front}\n  mode http\n  default_backend web\n`,
          `backend web\n  mode http\n  balance roundrobin\n`,
          ...tasks.map((t, i) => `  server t${i} 127.0.0.1:${t.ports[0]}\n`),
        ].join('');
        const { hap: served, port: p } = await startHead(
          own,
          { MARATHON_LB_SIGNAL_URL: admin.url },
          { config: web, port: front },
        );
        try {
          const until = Date.now() + 10_000;
          const statuses = new Map<string, number>();
          const count = (s: string): void => void statuses.set(s, (statuses.get(s) ?? 0) + 1);
          const client = async (): Promise<void> => {
            while (Date.now() < until)
              count(
                await get(front, '/').then(
                  (r) => String(r.status),
                  (e: Error) => e.message,
                ),
              );
          };
          let answered = 0;
          const asker = async (): Promise<void> => {
            while (Date.now() < until) {
              if ((await get(p, asked)).status === 200) answered++;
              await new Promise((r) => setTimeout(r, 500)); // getpids keeps its answer 500 ms: each asks anew
            }
          };
          await Promise.all([client(), client(), client(), client(), asker()]);
          expect(answered).toBeGreaterThan(10);
          expect(statuses.get('200')).toBeGreaterThan(1000);
          expect([...statuses.keys()]).toEqual(['200']);
        } finally {
          await served.stop();
        }
      } finally {
        await admin.close();
        await Promise.all(tasks.map((t) => t.close()));
        await rm(own, { recursive: true, force: true });
      }
    },
    30000,
  );

  it('an admin API that takes the request but does not answer within 2 s gets no kill after it (the signal would come twice)', async () => {
    const own = await mkdtemp(join(tmpdir(), 'mlb-lua-silent-'));
    // Reads the request and never answers, as a controller stalled for a moment would.
    const requests: string[] = [];
    const silent = createServer((socket) => socket.on('data', (d: Buffer) => requests.push(d.toString('latin1'))));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port: silentPort } = silent.address() as AddressInfo;
    try {
      const { hap, port: p } = await startHead(own, { MARATHON_LB_SIGNAL_URL: `http://127.0.0.1:${silentPort}` });
      try {
        const before = [...(recorder as SignalRecorder).received];
        const started = Date.now();
        const answer = await get(p, '/_mlb_signal/hup');
        expect(answer).toMatchObject({
          status: 504,
          body: 'Asked marathon-lb for SIGHUP; it did not answer within 2 s (it may still act on it)',
        });
        expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
        expect(requests.join('')).toMatch(/^POST \/_mlb_signal\/hup HTTP\/1\.0\r\n/);
        await new Promise((r) => setTimeout(r, 300));
        expect((recorder as SignalRecorder).received).toEqual(before);
      } finally {
        await hap.stop();
      }
    } finally {
      silent.close();
      await rm(own, { recursive: true, force: true });
    }
  }, 20000);

  it('signals go to the admin API at MARATHON_LB_SIGNAL_URL (no kill); with none listening there, kill as before', async () => {
    const own = await mkdtemp(join(tmpdir(), 'mlb-lua-admin-'));
    const admin = await recordingAdmin();
    try {
      const { hap: viaAdmin, port: p } = await startHead(own, { MARATHON_LB_SIGNAL_URL: admin.url });
      try {
        const before = [...(recorder as SignalRecorder).received];
        expect(await get(p, '/_mlb_signal/hup')).toMatchObject({
          status: 200,
          body: 'Sent SIGHUP signal to marathon-lb',
        });
        expect(await get(p, '/_mlb_signal/usr1')).toMatchObject({
          status: 200,
          body: 'Sent SIGUSR1 signal to marathon-lb',
        });
        expect(admin.signals).toEqual(['hup', 'usr1']);
        await new Promise((r) => setTimeout(r, 300));
        expect((recorder as SignalRecorder).received).toEqual(before);
      } finally {
        await viaAdmin.stop();
      }
      const { hap: viaKill, port: q } = await startHead(own, {
        MARATHON_LB_SIGNAL_URL: `http://127.0.0.1:${await unclaimedLoopbackPort()}`,
      });
      try {
        expect(await get(q, '/_mlb_signal/usr1')).toMatchObject({
          status: 200,
          body: 'Sent SIGUSR1 signal to marathon-lb',
        });
        await (recorder as SignalRecorder).waitFor('SIGUSR1');
        expect(admin.signals).toEqual(['hup', 'usr1']);
      } finally {
        await viaKill.stop();
      }
    } finally {
      await admin.close();
      await rm(own, { recursive: true, force: true });
    }
  });
});
