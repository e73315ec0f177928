/**
 * Test support for suites that need a real HAProxy.
 *
 * - findHaproxy(): the binary ($HAPROXY_BIN, else `haproxy` on PATH, /usr/sbin, /usr/local/sbin).
 * - describeWithHaproxy(): runs the suite when HAProxy is there; fails under CI; skips loudly on a
 *   developer box without it.
 * - checkConfig(): `haproxy -c -f <file>`.
 * - startHaproxy(): a real HAProxy process from a config text in a temp dir, ready
 *   when it says so (and, if asked, when a loopback port accepts), always killed by stop().
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HaproxyProcess } from '../../src/haproxy/process';
import { describeWithTool, type RequiredTool } from './requiredTool';
import { dryRun, tempDir } from './render';

export interface HaproxyInfo {
  readonly bin: string;
  readonly version: string;
}

const CANDIDATES = ['haproxy', '/usr/sbin/haproxy', '/usr/local/sbin/haproxy'];
const MAX_OUTPUT = 64 * 1024;

function probe(bin: string): HaproxyInfo | undefined {
  const r = spawnSync(bin, ['-v'], { encoding: 'utf8', timeout: 5000 });
  if (r.error || r.status !== 0) return undefined;
  const m = /HA-?Proxy version (\S+)/.exec(`${r.stdout}${r.stderr}`);
  return m ? { bin, version: m[1] as string } : undefined;
}

/** The HAProxy to test against. An explicit $HAPROXY_BIN is the only one tried when it is set. */
export function findHaproxy(): HaproxyInfo | undefined {
  const explicit = process.env.HAPROXY_BIN;
  if (explicit) return probe(explicit);
  for (const bin of CANDIDATES) {
    const found = probe(bin);
    if (found) return found;
  }
  return undefined;
}

const HAPROXY: RequiredTool<HaproxyInfo> = {
  tool: 'haproxy',
  aptPackage: 'haproxy',
  envVar: 'HAPROXY_BIN',
  find: findHaproxy,
};

/**
 * describe() for suites that need haproxy. `fn` gets the binary found. Without it the suite fails
 * when $CI is set (and not "false"/"0"), else it is skipped with a console warning.
 */
export function describeWithHaproxy(name: string, fn: (haproxy: HaproxyInfo) => void): void {
  describeWithTool(HAPROXY, name, fn);
}

export interface CheckResult {
  readonly ok: boolean;
  readonly output: string;
}

/** `haproxy -c -f cfgPath`: ok when it exits 0; output is stdout + stderr. Bounded to 15 s. */
export function checkConfig(cfgPath: string, bin?: string): Promise<CheckResult> {
  const haproxy = bin ?? findHaproxy()?.bin;
  if (!haproxy) return Promise.resolve({ ok: false, output: 'haproxy not found' });
  return new Promise((resolve) => {
    const child = spawn(haproxy, ['-c', '-f', cfgPath], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 15000 });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', (err) => resolve({ ok: false, output: `${output}${err.message}` }));
    child.once('close', (code, signal) =>
      resolve({ ok: code === 0, output: signal ? `${output}killed by ${signal}` : output }),
    );
  });
}

/**
 * That `--dry` served what it rendered exactly when `haproxy -c` takes `lines` (the lines it prints,
 * in a frontend `f` and a backend `b` of a config of their own, written into `dir`). On a
 * disagreement, HAProxy's own words are the failure's message.
 */
export async function expectServedAsHaproxyTakes(
  dir: string,
  served: boolean,
  lines: { readonly frontend?: string; readonly backend?: string },
): Promise<void> {
  const cfg = join(dir, 'haproxy.cfg');
  await writeFile(
    cfg,
    'defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n' +
      `frontend f\n  bind 127.0.0.1:1\n  default_backend b\n${lines.frontend ?? ''}` +
      `backend b\n${lines.backend ?? ''}  server s 127.0.0.1:1 check\n`,
  );
  const check = await checkConfig(cfg);
  if (served !== check.ok)
    expect(check.output).toBe(`haproxy -c ${check.ok ? 'takes' : 'refuses'}: --dry ${served ? 'served' : 'left out'}`);
}

export interface StartOptions {
  /** Config text, or a function of the directory the config file is written to. */
  readonly config: string | ((dir: string) => string);
  /** Directory for the config file. Default: a fresh temp dir, removed by stop(). */
  readonly dir?: string;
  /** File name of the config inside dir. Default haproxy.cfg. */
  readonly configName?: string;
  /** Merged over process.env; an undefined value removes that variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Master-worker mode (-W), as marathon-lb runs HAProxy. Default true. */
  readonly masterWorker?: boolean;
  /** Also wait until 127.0.0.1:<port> accepts a connection. */
  readonly waitForPort?: number;
  /** How long HAProxy may take to become ready. Default 10 s. */
  readonly timeoutMs?: number;
  readonly bin?: string;
}

export interface RunningHaproxy {
  /** Pid of the process started: the master in master-worker mode. */
  readonly pid: number;
  readonly dir: string;
  readonly configPath: string;
  /** What HAProxy printed so far (last 64 KiB). */
  output(): string;
  /** Ends HAProxy (SIGTERM, SIGKILL after 3 s) and removes the temp dir it made. Idempotent. */
  stop(): Promise<void>;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(exited(child)), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Starts a real HAProxy. Rejects (with its output) if it exits or is not ready in time. */
export async function startHaproxy(opts: StartOptions): Promise<RunningHaproxy> {
  const bin = opts.bin ?? findHaproxy()?.bin;
  if (!bin) throw new Error('haproxy not found');
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'mlb-haproxy-')));
  const configPath = join(dir, opts.configName ?? 'haproxy.cfg');
  const removeDir = () => (ownDir ? rm(dir, { recursive: true, force: true }) : Promise.resolve());
  await writeFile(configPath, typeof opts.config === 'function' ? opts.config(dir) : opts.config);

  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const masterWorker = opts.masterWorker ?? true;
  const args = [...(masterWorker ? ['-W'] : []), '-db', '-f', configPath];
  const child = spawn(bin, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const append = (d: Buffer) => {
    out = (out + d.toString()).slice(-MAX_OUTPUT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  // Last resort if the test process ends without stop(): never leave HAProxy behind.
  const onExit = () => {
    if (!exited(child)) child.kill('SIGKILL');
  };
  process.once('exit', onExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited(child)) {
        child.kill('SIGTERM');
        if (!(await waitExit(child, 3000))) {
          child.kill('SIGKILL');
          await waitExit(child, 2000);
        }
      }
      process.removeListener('exit', onExit);
      await removeDir();
    })();
    return stopping;
  };

  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const pid = child.pid;
  if (pid === undefined) {
    const err = await spawnError;
    await stop();
    throw new Error(`cannot start ${bin}: ${err.message}`);
  }

  const deadline = Date.now() + (opts.timeoutMs ?? 10000);
  for (;;) {
    if (exited(child)) {
      await stop();
      throw new Error(
        `haproxy exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready:\n${out}`,
      );
    }
    const logged = !masterWorker || out.includes('Loading success.');
    if (logged && (opts.waitForPort === undefined || (await portAccepts(opts.waitForPort)))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`haproxy was not ready within ${opts.timeoutMs ?? 10000} ms:\n${out}`);
    }
    await sleep(50);
  }

  return { pid, dir, configPath, output: () => out, stop };
}

/**
 * `--dry` of `apps` (and `flags`) with the bundled Lua and `pem` as the operator's certificate, then `haproxy -c` of
 * what it printed: it must exit 0 and HAProxy raise no alert (one app's labels never break the rest).
 */
export async function dryCheckedByHaproxy(
  apps: readonly unknown[],
  pem: string,
  flags: readonly string[] = [],
): Promise<{ readonly stderr: string; readonly config: string; readonly check: string }> {
  const dir = tempDir();
  try {
    const file = join(dir, 'apps.json');
    await writeFile(file, JSON.stringify({ apps }));
    const certFile = join(dir, 'cert.pem');
    await writeFile(certFile, pem);
    const luaDir = join(__dirname, '..', '..', 'config', 'lua');
    const dry = await dryRun([
      '--apps-file',
      file,
      '--group',
      'external',
      '--lua-dir',
      luaDir,
      '--ssl-certs',
      certFile,
      ...flags,
    ]);
    expect(dry.code).toBe(0);
    const cfg = join(dir, 'haproxy.cfg');
    await writeFile(cfg, dry.stdout);
    const check = await checkConfig(cfg);
    expect(check.output).not.toMatch(/ALERT/);
    return { stderr: dry.stderr, config: dry.stdout, check: check.output };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * An HAProxy master the tests own, started on `dir/haproxy.cfg` (written by the caller) with its
 * master socket and pid file beside it, logging nowhere: for tests that drive the runtime API.
 */
export async function startedHaproxyProcess(bin: string, dir: string): Promise<HaproxyProcess> {
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
  const hp = new HaproxyProcess({
    bin,
    configPath: join(dir, 'haproxy.cfg'),
    masterSocketPath: join(dir, 'master.sock'),
    pidFile: join(dir, 'haproxy.pid'),
    logger: quiet,
    stopWaitsMs: { soft: 3000, term: 2000, kill: 2000 },
  });
  const start = await hp.start();
  if (!start.ok) throw new Error(start.error.message);
  return hp;
}
