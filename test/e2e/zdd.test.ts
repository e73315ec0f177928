import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { findConfigDir } from '../../src/configDir';
import { prepareDemoFiles } from '../../src/demo/setup';
import { isoLocal } from '../../src/zdd/prepare';
import { describeWithHaproxy } from '../support/haproxy';
import { freePort } from '../support/ports';
import { CLI, REPO_ROOT } from '../support/paths';
import { tempDir } from '../support/render';
import { spawnService, type ServiceProcess } from '../support/serviceProcess';
import { waitFor } from '../support/wait';

/**
 * `marathon-lb zdd` as users run it (the built CLI), against the simulator over real HTTP, the real
 * controller (its own process, following the simulator's event stream) and a real HAProxy, while
 * requests flow through HAProxy at a steady rate: the demo's web app goes blue → green → blue, a deploy
 * killed midway is resumed, hybrid deploys are completed both ways. The pre-kill hook reads HAProxy's
 * own stats the moment before each kill, to show the tasks were drained then.
 */

const VHOST = 'mywebservernew.example.com';
const BACKEND = 'mywebservernew_10004';
const APP_JSON = path.join(findConfigDir(), 'zdd', 'mywebservernew.json');
/** HAProxy's stats columns that count what went wrong with a request or a server. */
const ERROR_COUNTERS = ['econ', 'eresp', 'wretr', 'wredis', 'hrsp_5xx', 'cli_abrt', 'srv_abrt'];

/** GET an absolute loopback URL. */
function httpGetUrl(url: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return httpGet(Number(u.port), u.host, 5000, u.pathname + u.search);
}

/** One GET over a fresh connection (no keep-alive), bounded by `timeoutMs`. */
function httpGet(
  port: number,
  host: string,
  timeoutMs: number,
  pathName = '/',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: pathName, headers: { host }, agent: false, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

interface Answer {
  readonly at: number;
  readonly ok: boolean;
  readonly task?: string;
  readonly error?: string;
}

/**
 * Requests through HAProxy one after another, `pauseMs` apart (about 40 a second), each on a fresh
 * connection, recorded — the project's steady client, as in the chaos tests.
 */
function steadyLoad(port: number, pauseMs: number): { readonly answers: Answer[]; stop(): Promise<void> } {
  const answers: Answer[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped && answers.length < 100_000) {
      try {
        const a = await httpGet(port, VHOST, 3000);
        const task = a.status === 200 ? (JSON.parse(a.body) as { task?: string }).task : undefined;
        answers.push({
          at: Date.now(),
          ok: a.status === 200,
          task,
          error: a.status === 200 ? undefined : `HTTP ${a.status}`,
        });
      } catch (e) {
        answers.push({ at: Date.now(), ok: false, error: (e as Error).message });
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  return { answers, stop: async () => ((stopped = true), await loop) };
}

interface Run {
  readonly code: number | null;
  readonly output: string;
}

describeWithHaproxy('marathon-lb zdd: blue/green deploys under load through a real HAProxy', (haproxy) => {
  let simUrl: string;
  let simChild: ChildProcess | undefined;
  let service: ServiceProcess;
  let dir: string;
  let ports: { http: number; https: number; stats: number; appid: number };
  let load: ReturnType<typeof steadyLoad>;
  let release = 0;
  const children = new Set<ChildProcess>();
  const hookLog = (): string => path.join(dir, 'hook.log');

  /** The app JSON of the next release (a changed env, as a new version would be). */
  function nextAppJson(): string {
    const def = JSON.parse(fs.readFileSync(APP_JSON, 'utf8')) as { env: Record<string, string> };
    def.env['RELEASE'] = String(++release);
    const file = path.join(dir, `app-${release}.json`);
    fs.writeFileSync(file, JSON.stringify(def));
    return file;
  }

  /** Starts `marathon-lb zdd`; `until` may kill it early (then code is null); `input`: its standard input, then its end. */
  function zdd(
    args: readonly string[],
    until?: (output: string) => boolean,
    timeoutMs = 90000,
    input?: string,
  ): Promise<Run> {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'zdd',
        '-m',
        simUrl,
        '-l',
        `http://127.0.0.1:${ports.stats}`,
        '--syslog-socket',
        '/dev/null',
        '--step-delay',
        '1',
        '--pre-kill-hook',
        path.join(dir, 'hook.mjs'),
        ...args,
      ],
      {
        env: { PATH: process.env.PATH, ZDD_HOOK_LOG: hookLog(), ZDD_STATS_URL: `http://127.0.0.1:${ports.stats}` },
        stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      },
    );
    if (input !== undefined) child.stdin!.end(input);
    children.add(child);
    let output = '';
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const onData = (d: Buffer): void => {
        output += d.toString();
        if (until?.(output)) child.kill('SIGKILL');
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        children.delete(child);
        outputs.push(output);
        resolve({ code, output });
      });
    });
  }

  /** The deployment group's apps as Marathon (the simulator) lists them. */
  async function groupApps(): Promise<{ id: string; instances: number; tasks: string[]; servers: string[] }[]> {
    const body = JSON.parse((await httpGetUrl(`${simUrl}/v2/apps?embed=apps.tasks`)).body) as {
      apps: {
        id: string;
        instances: number;
        labels: Record<string, string>;
        tasks: { id: string; ports: number[] }[];
      }[];
    };
    return body.apps
      .filter((a) => a.labels['HAPROXY_DEPLOYMENT_GROUP'] === 'mywebservernew')
      .map((a) => ({
        id: a.id,
        instances: a.instances,
        tasks: a.tasks.map((t) => t.id),
        servers: a.tasks.map((t) => `127_0_0_1_${t.ports[0]}`),
      }));
  }

  /**
   * HAProxy's own view of the web backend: server name → status. Each server's error counters are
   * kept as last seen (a deleted server leaves the stats), to tell which one failed a request.
   */
  async function backendServers(): Promise<Map<string, string>> {
    const csv = (await httpGet(ports.stats, '127.0.0.1', 3000, '/haproxy?stats;csv')).body;
    const [header, ...lines] = csv.split('\n');
    const column = new Map(
      (header ?? '')
        .replace(/^# /, '')
        .split(',')
        .map((name, i) => [name, i]),
    );
    const rows = lines.map((l) => l.split(',')).filter((r) => r[0] === BACKEND);
    for (const r of rows) {
      const counters = ERROR_COUNTERS.map((name) => `${name}=${r[column.get(name) ?? -1] ?? '?'}`);
      if (counters.some((c) => !/=(0|)$/.test(c)))
        lastErrors.set(r[1]!, `${r[1]} ${r[17]} ${counters.join(' ')} check=${r[column.get('check_status') ?? -1]}`);
    }
    return new Map(rows.filter((r) => r[1] !== 'BACKEND' && r[1] !== 'FRONTEND').map((r) => [r[1]!, r[17]!]));
  }
  /** Only `appId` is left, with 3 tasks, all UP in HAProxy and nothing else there; new requests reach only it. */
  async function expectOnly(appId: string): Promise<void> {
    const apps = await groupApps();
    expect(apps.map((a) => [a.id, a.instances, a.tasks.length])).toEqual([[appId, 3, 3]]);
    const want = [...apps[0]!.servers].sort();
    await waitFor(
      'HAProxy to serve only the new colour',
      () => lastServers.join() === want.map((s) => `${s} UP`).join(),
      15000,
    ).catch(async () => {
      throw new Error(`HAProxy serves ${lastServers.join(', ')}; expected ${want.join(', ')} UP`);
    });
    const from = Date.now();
    await waitFor('requests after the deploy', () => load.answers.filter((a) => a.at > from).length >= 10, 10000);
    const after = load.answers.filter((a) => a.at > from);
    expect(after.every((a) => a.ok && apps[0]!.tasks.includes(a.task ?? ''))).toBe(true);
  }

  /** A write to the simulator's control API (never faulted; deletes always force, as after a killed deploy). */
  async function simControl(method: 'POST' | 'DELETE', pathName: string, body?: unknown): Promise<void> {
    const res = await fetch(`${simUrl}/_sim${pathName}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10000),
    });
    if (!res.ok) throw new Error(`${method} /_sim${pathName}: HTTP ${res.status} ${await res.text()}`);
  }

  /**
   * Each test's starting point, whatever ran before it: only `colour` deployed (as a finished zdd deploy
   * leaves it: its port, its HAPROXY_DEPLOYMENT_* labels), 3 tasks, all UP in HAProxy and answering.
   * Kept as it is when already so; otherwise the group's apps are deleted and the colour created
   * through the simulator's control API.
   */
  async function startFrom(colour: 'blue' | 'green'): Promise<void> {
    fs.rmSync(hookLog(), { force: true });
    const id = `/mywebservernew-${colour}`;
    const apps = await groupApps();
    const serving = (servers: readonly string[]): boolean =>
      lastServers.join() ===
      [...servers]
        .sort()
        .map((s) => `${s} UP`)
        .join();
    if (apps.length === 1 && apps[0]!.id === id && apps[0]!.tasks.length === 3 && serving(apps[0]!.servers)) return;
    for (const app of apps) await simControl('DELETE', `/apps${app.id}`);
    const def = JSON.parse(fs.readFileSync(APP_JSON, 'utf8')) as {
      id: string;
      instances: number;
      labels: Record<string, string>;
      portDefinitions: { port: number }[];
      env: Record<string, string>;
    };
    const frontPort = def.portDefinitions[0]!.port;
    def.env['RELEASE'] = String(++release);
    await simControl('POST', '/apps', {
      ...def,
      id,
      portDefinitions: [
        {
          ...def.portDefinitions[0],
          port: colour === 'blue' ? frontPort : Number(def.labels['HAPROXY_DEPLOYMENT_ALT_PORT']),
        },
      ],
      labels: {
        ...def.labels,
        HAPROXY_APP_ID: def.id,
        HAPROXY_0_PORT: String(frontPort),
        HAPROXY_DEPLOYMENT_NEW_INSTANCES: '0',
        HAPROXY_DEPLOYMENT_TARGET_INSTANCES: String(def.instances),
        HAPROXY_DEPLOYMENT_COLOUR: colour,
        HAPROXY_DEPLOYMENT_STARTED_AT: isoLocal(new Date()),
      },
    });
    const deadline = Date.now() + 30000;
    for (;;) {
      const now = await groupApps();
      if (now.length === 1 && now[0]!.id === id && now[0]!.tasks.length === 3 && serving(now[0]!.servers)) break;
      if (Date.now() > deadline) throw new Error(`${id} not alone and UP in HAProxy: ${lastServers.join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Answering through HAProxy from here on: requests in flight across the swap are done.
    const from = Date.now();
    await waitFor(`5 answers from ${id}`, () => load.answers.filter((a) => a.at > from && a.ok).length >= 5, 10000);
  }

  /** No request failed in [from, now]; returns how many there were. */
  function expectNoFailures(from: number): number {
    const window = load.answers.filter((a) => a.at >= from);
    const failed = window.filter((a) => !a.ok);
    if (failed.length > 0) {
      // What the controller and zdd were doing then, to tell why.
      const stamp = (ms: number): string => new Date(ms).toISOString().slice(11, 19);
      const near = new Set(failed.flatMap((f) => [-2000, -1000, 0, 1000].map((d) => stamp(f.at + d))));
      const lines = [...service.output().split('\n'), ...outputs.join('\n').split('\n')]
        .filter((l) => near.has(l.slice(11, 19)))
        .sort();
      throw new Error(
        `${failed.length} of ${window.length} requests failed: ${failed.map((f) => `${new Date(f.at).toISOString()} ${f.error}`).join('; ')}\n` +
          `HAProxy's error counters, as last seen: ${[...lastErrors.values()].join('; ') || 'none'}\n` +
          `HAProxy's log of requests not answered 200: ${badRequests.join('\n') || 'none'}\n${lines.join('\n')}`,
      );
    }
    return window.length;
  }

  /** Each line the hook wrote: `<task> <status> <scur> <qcur>` read from HAProxy just before the kill. */
  const hookLines = (): string[] =>
    fs.existsSync(hookLog()) ? fs.readFileSync(hookLog(), 'utf8').trim().split('\n').filter(Boolean) : [];

  let lastServers: string[] = [];
  let haproxyLog: dgram.Socket | undefined;
  const badRequests: string[] = [];
  const lastErrors = new Map<string, string>();
  const outputs: string[] = [];
  let watcher: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    dir = tempDir('mlb-zdd-');
    ports = { http: await freePort(), https: await freePort(), stats: await freePort(), appid: await freePort() };
    const files = prepareDemoFiles(dir, findConfigDir(), ports);
    // HAProxy's request log to us (UDP on loopback): a request that fails is told with its server and termination state.
    haproxyLog = dgram.createSocket('udp4');
    haproxyLog.on('message', (m: Buffer) => {
      const line = m.toString().trim();
      const status = / marathon_http_in mywebservernew_10004\/\S+ \S+ (\d{3}) /.exec(line)?.[1]; // after the timers
      if (status !== undefined && status !== '200' && badRequests.length < 50) badRequests.push(line);
    });
    await new Promise<void>((resolve) => haproxyLog!.bind(0, '127.0.0.1', resolve));
    const logTo = `  log 127.0.0.1:${haproxyLog.address().port} local0\n`;
    const head = path.join(files.templatesDir, 'HAPROXY_HEAD');
    fs.writeFileSync(head, fs.readFileSync(head, 'utf8').replace(/^global\n/m, `global\n${logTo}`));
    const front = path.join(files.templatesDir, 'HAPROXY_HTTP_FRONTEND_HEAD');
    fs.writeFileSync(front, `${fs.readFileSync(front, 'utf8')}  option httplog\n`);
    // HAProxy under a name of its own, as MARATHON_LB_HAPROXY_PROCESS_NAME lets operators run it (/_haproxy_getpids lists processes so named).
    const name = `hz${randomBytes(3).toString('hex')}`;
    const bin = haproxy.bin.includes('/')
      ? haproxy.bin
      : ((process.env.PATH ?? '')
          .split(':')
          .map((d) => path.join(d, haproxy.bin))
          .find((p) => fs.existsSync(p)) ?? '/usr/sbin/haproxy');
    fs.symlinkSync(fs.realpathSync(bin), path.join(dir, name));
    fs.writeFileSync(
      path.join(dir, 'hook.mjs'),
      [
        `#!${process.execPath}`,
        'import { appendFileSync } from "node:fs";',
        'const [oldApp, tasks] = [JSON.parse(process.argv[2]), JSON.parse(process.argv[3])];',
        'const csv = await (await fetch(process.env.ZDD_STATS_URL + "/haproxy?stats;csv")).text();',
        'const rows = csv.split("\\n").map((l) => l.split(","));',
        'for (const id of tasks) {',
        '  const t = oldApp.tasks.find((x) => x.id === id);',
        '  const row = rows.find((r) => r[0] === "' +
          BACKEND +
          '" && r[1] === `${t.host.replace(/\\./g, "_")}_${t.ports[0]}`);',
        '  appendFileSync(process.env.ZDD_HOOK_LOG, `${id} ${row?.[17]} ${row?.[4]} ${row?.[2]}\\n`);',
        '}',
      ].join('\n'),
      { mode: 0o755 },
    );
    // The simulator in its own process, as the demo runs it: Marathon's clock running (a 5 s grace period lasts 0.5 s).
    simChild = spawn(
      process.execPath,
      [
        path.join(REPO_ROOT, 'dist', 'src', 'simulator', 'cli.js'),
        '--port',
        '0',
        '--serve-tasks',
        '--time-scale',
        '0.1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    simUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      simChild!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = /^(http:\/\/\S+)\n/.exec(out);
        if (line) resolve(line[1]!);
      });
      simChild!.stderr!.on('data', () => undefined); // its log: read, so it never blocks on a full pipe
      simChild!.once('exit', (code) => reject(new Error(`simulator exited (${code}) before saying its URL`)));
    });
    service = spawnService([...files.flags, '--haproxy-bin', path.join(dir, name)], {
      PATH: process.env.PATH,
      MLB_MARATHON: simUrl,
      MLB_GROUP: 'external',
      MLB_SSE: 'true',
      MLB_HEALTH_CHECK: 'true',
      MLB_SYSLOG_SOCKET: '/dev/null',
      MLB_DEBOUNCE_QUIET: '0.05',
      MLB_HARD_STOP_AFTER: '5',
      MLB_SHUTDOWN_TIMEOUT: '10',
      MLB_LOG_LEVEL: 'INFO',
      MLB_ADMIN_PORT: String(await freePort()),
      MARATHON_LB_HAPROXY_PROCESS_NAME: name,
      MARATHON_LB_PID_FILE: path.join(dir, 'marathon-lb.pid'),
    });
    await service.ready(30000);
    watcher = setInterval(() => {
      backendServers().then(
        (m) => (lastServers = [...m].map(([s, st]) => `${s} ${st}`).sort()),
        () => undefined,
      );
    }, 100);

    // The first deploy: blue, with the app's own 3 instances, nothing to swap.
    const first = await zdd(['-j', nextAppJson(), '-f']);
    expect(first.output).toContain('first deploy: /mywebservernew-blue created, nothing to swap');
    expect(first.code).toBe(0);
    await waitFor(
      'blue served by HAProxy',
      () => lastServers.length === 3 && lastServers.every((s) => s.endsWith(' UP')),
      20000,
    );
    load = steadyLoad(ports.http, 20);
  }, 60000);

  afterAll(async () => {
    if (watcher) clearInterval(watcher);
    haproxyLog?.close();
    for (const c of children) c.kill('SIGKILL');
    await load?.stop();
    await service?.stop();
    // Whatever happened to the controller, its HAProxy does not outlive the test.
    const pidFile = dir ? path.join(dir, 'haproxy.pid') : '';
    const pid =
      pidFile && fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').trim().split(/\s+/)[0]) : NaN;
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
    if (simChild && simChild.exitCode === null) {
      const exited = new Promise((r) => simChild!.once('exit', r));
      simChild.kill('SIGTERM');
      await exited;
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 45000);

  test('blue → green: 0 failed requests, old tasks drained before each kill, only green left, exit 0', async () => {
    await startFrom('blue');
    const from = Date.now();
    const run = await zdd(['-j', nextAppJson(), '-f']);
    expect(run.output).toContain(
      'deploy complete: /mywebservernew-green serves 3 instance(s), /mywebservernew-blue deleted',
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(/^\{\n[\s\S]*?\n\}$/m.exec(run.output)![0])).toMatchObject({
      id: '/mywebservernew-green',
      instances: 1,
    });
    // Every task killed was out of rotation (MAINT) with no session and nothing queued on HAProxy at that moment.
    const killed = hookLines();
    expect(killed.length).toBeGreaterThan(0);
    for (const line of killed) expect(line).toMatch(/^mywebservernew-blue\.\S+ MAINT 0 0$/);
    expect(run.output).toMatch(/about to kill the following tasks:\n.* {2}- mywebservernew-blue\.\S+\n/);
    expect(run.output).not.toContain('\\n  - '); // a line feed in one record is printed as \n
    await expectOnly('/mywebservernew-green');
    expect(expectNoFailures(from)).toBeGreaterThan(100);
  }, 160000);

  test('green → blue: the same the other way, back on the original ports', async () => {
    await startFrom('green');
    const from = Date.now();
    const run = await zdd(['-j', nextAppJson(), '-f']);
    expect(run.output).toContain(
      'deploy complete: /mywebservernew-blue serves 3 instance(s), /mywebservernew-green deleted',
    );
    expect(run.code).toBe(0);
    expect(hookLines().length).toBeGreaterThan(0);
    for (const line of hookLines()) expect(line).toMatch(/^mywebservernew-green\.\S+ MAINT 0 0$/);
    await expectOnly('/mywebservernew-blue');
    expect(expectNoFailures(from)).toBeGreaterThan(100);
  }, 160000);

  test('a deploy killed midway is refused without --resume (exit 2) and finished with --resume', async () => {
    await startFrom('blue');
    const from = Date.now();
    const json = nextAppJson();
    const killed = await zdd(['-j', json, '-f'], (out) => out.includes('Scaling new app up to 2 instances'));
    expect(killed.code).toBeNull();
    expect((await groupApps()).map((a) => a.id).sort()).toEqual(['/mywebservernew-blue', '/mywebservernew-green']);

    const refused = await zdd(['-j', json, '-f']);
    expect(refused.output).toContain('There appears to be an existing deployment in progress');
    expect(refused.code).toBe(2);

    // Killed right after a kill and before (or just after) the scale-up: marathon-lb may find nothing to
    // drain until the new app grows, so the resumed run waits --max-wait first, as zdd.py does.
    const resumed = await zdd(['-j', json, '-f', '--resume', '--max-wait', '3']);
    expect(resumed.output).toContain('Found previous deployment, resuming');
    expect(resumed.output).toContain(
      'deploy complete: /mywebservernew-green serves 3 instance(s), /mywebservernew-blue deleted',
    );
    expect(resumed.code).toBe(0);
    await expectOnly('/mywebservernew-green');
    for (const line of hookLines()) expect(line).toMatch(/ MAINT 0 0$/);
    expect(expectNoFailures(from)).toBeGreaterThan(100);
  }, 190000);

  // An audit: `printf 'y\n' | zdd …` answered the first prompt and exited 0 at the second, half deployed.
  test('answers piped in that end at the second prompt: a "no" there (exit 1, both apps left), not exit 0', async () => {
    await startFrom('blue');
    const run = await zdd(['-j', nextAppJson()], undefined, 90000, 'y\n');
    expect(run.output).toContain('Continue with deployment? [Y/n]');
    expect(run.output).toContain('not confirmed: deploy stopped');
    expect(run.code).toBe(1);
    expect((await groupApps()).map((a) => a.id).sort()).toEqual(['/mywebservernew-blue', '/mywebservernew-green']);
  }, 120000);

  test('a hybrid deploy (--new-instances 1) completed with --complete-cur, another with --complete-prev', async () => {
    await startFrom('green');
    const from = Date.now();
    // Once its share runs, marathon-lb drains nothing more: zdd.py then waits --max-wait before it looks again.
    const hybrid = await zdd(['-j', nextAppJson(), '-f', '--new-instances', '1', '--max-wait', '3']);
    expect(hybrid.output).toContain(
      'hybrid deploy in place: /mywebservernew-blue 1 instance(s), /mywebservernew-green 2 instance(s)',
    );
    expect(hybrid.code).toBe(0);
    // Both colours serve side by side.
    await waitFor(
      'both colours answering',
      () => {
        const recent = load.answers.slice(-40).map((a) => a.task ?? '');
        return (
          recent.some((t) => t.startsWith('mywebservernew-blue')) &&
          recent.some((t) => t.startsWith('mywebservernew-green'))
        );
      },
      15000,
    );

    const cur = await zdd(['-j', nextAppJson(), '-f', '--complete-cur', '--max-wait', '3']);
    expect(cur.output).toContain('Converting all instances to current config');
    expect(cur.output).toContain(
      'deploy complete: /mywebservernew-blue serves 3 instance(s), /mywebservernew-green deleted',
    );
    expect(cur.code).toBe(0);
    await expectOnly('/mywebservernew-blue');

    const hybrid2 = await zdd(['-j', nextAppJson(), '-f', '--new-instances', '1', '--max-wait', '3']);
    expect(hybrid2.output).toContain(
      'hybrid deploy in place: /mywebservernew-green 1 instance(s), /mywebservernew-blue 2 instance(s)',
    );
    const prev = await zdd(['-j', nextAppJson(), '-f', '--complete-prev', '--max-wait', '3']);
    expect(prev.output).toContain('Converting all instances to previous config');
    expect(prev.output).toContain(
      'deploy complete: /mywebservernew-blue serves 3 instance(s), /mywebservernew-green deleted',
    );
    expect(prev.code).toBe(0);
    await expectOnly('/mywebservernew-blue');
    for (const line of hookLines()) expect(line).toMatch(/ MAINT 0 0$/);
    expect(expectNoFailures(from)).toBeGreaterThan(100);
  }, 240000);
});
