import { readCaCertFlag, readFlagFile } from '../flagFile';
import { execFile } from 'node:child_process';
import * as dns from 'node:dns/promises';
import * as net from 'node:net';
import * as readline from 'node:readline';
import { basicAuth, dcosAuth, parseDcosCredentials, type AuthProvider } from '../marathon/auth';
import { chosenCredentials } from '../marathon/credentials';
import { MarathonClient } from '../marathon/client';
import { requestHttp, tlsTrust } from '../marathon/http';
import { err, ok, type Result } from '../result';
import { marathonWrites, type MarathonWrites } from '../marathon/writes';
import type { Logger } from '../log';
import { parseApp, type ZddApp } from './app';
import type { ZddArgs } from './args';
import { ZddError, type ZddErrorKind } from './errors';
import type { ZddIo } from './io';

/** zdd.py talks to Marathon without timeouts; these are marathon-lb's (connect 3.05 s, read 46 s). */
const CONNECT_MS = 3050;
const READ_MS = 46_000;
/**
 * The most one Marathon request of zdd may take in all, however its bytes come: a deploy has its
 * --max-wait to keep, and an answer trickling a byte a second held zdd, silent, for good (an audit).
 */
const WHOLE_MS = 120_000;
/** One look at marathon-lb's :9090 must not hold a step for long, silent or trickling. */
const STATS_MS = 10_000;

const why = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Marathon client from zdd's flags; credentials in zdd.py's order: file, --auth-credentials, DC/OS. */
export function zddMarathonClient(a: ZddArgs, logger: Logger): Result<MarathonClient> {
  let caCert: string | undefined;
  if (a.marathonCaCert !== undefined) {
    const read = readCaCertFlag(a.marathonCaCert);
    if (!read.ok) return read;
    caCert = read.value;
  }
  const chosen = chosenCredentials(
    { file: a.marathonAuthCredentialFile, basic: a.authCredentials, dcos: a.dcosAuthCredentials },
    (file) => readFlagFile('--marathon-auth-credential-file', file),
  );
  if (!chosen.ok)
    return chosen.error.endsWith('expected credentials as user:pass')
      ? err('Please provide marathon credentials in user:pass format')
      : chosen;
  let auth: AuthProvider | undefined;
  if (chosen.value.kind === 'basic') auth = basicAuth(chosen.value.credentials);
  else if (chosen.value.kind === 'dcos') {
    const creds = parseDcosCredentials(chosen.value.text);
    if (!creds.ok) return err(creds.error);
    auth = dcosAuth({ credentials: creds.value, caCert, timeoutMs: READ_MS, connectTimeoutMs: CONNECT_MS, logger });
  }
  try {
    return ok(
      new MarathonClient({
        urls: a.marathon,
        auth,
        caCert,
        timeoutMs: READ_MS,
        connectTimeoutMs: CONNECT_MS,
        totalTimeoutMs: WHOLE_MS,
        logger,
      }),
    );
  } catch (e) {
    return err(why(e));
  }
}

/** Runs `what`; a failure becomes a ZddError of `kind` naming the request. */
async function as<T>(kind: ZddErrorKind, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw new ZddError({ kind, message: `${what}: ${why(e)}` });
  }
}

function appOf(body: unknown, where: string): ZddApp {
  const parsed = parseApp((body as { app?: unknown } | undefined)?.app, where);
  if (!parsed.ok) throw new ZddError(parsed.error);
  return parsed.value;
}

async function httpText(url: string): Promise<string> {
  const res = await requestHttp({
    method: 'GET',
    url,
    headers: { 'User-Agent': 'marathon-lb-zdd' },
    timeoutMs: STATS_MS,
    totalTimeoutMs: STATS_MS,
    trust: tlsTrust(undefined, false),
  });
  if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status}`);
  return res.body.toString('utf8');
}

/**
 * The lines of standard input, for every prompt of a run: one reader, paused between prompts (so
 * that it holds no run open). A second reader on an input that had ended never heard of the end:
 * `printf 'y\n' | zdd …` answered the first prompt, then exited 0 at the second, half deployed.
 */
class AnswerLines {
  private rl: readline.Interface | undefined;
  private readonly lines: string[] = [];
  private ended = false;
  private waiting: ((line: string | null) => void) | undefined;

  /** The next line, or null once the input has ended. */
  next(): Promise<string | null> {
    const rl = (this.rl ??= this.open());
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.resolve(null);
    rl.resume();
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private open(): readline.Interface {
    const rl = readline.createInterface({ input: process.stdin, terminal: false });
    rl.on('line', (line) => {
      rl.pause();
      const waiting = this.take();
      if (waiting === undefined) this.lines.push(line);
      else waiting(line);
    });
    rl.on('close', () => {
      this.ended = true;
      this.take()?.(null);
    });
    return rl;
  }

  private take(): ((line: string | null) => void) | undefined {
    const waiting = this.waiting;
    this.waiting = undefined;
    return waiting;
  }
}

/** zdd.py's query_yes_no on the terminal: empty means yes; end of input means no. */
async function askYesNo(question: string, input: AnswerLines): Promise<boolean> {
  const answers: Record<string, boolean> = { yes: true, y: true, ye: true, no: false, n: false };
  for (;;) {
    process.stdout.write(`${question} [Y/n] `);
    const line = await input.next();
    if (line === null) return false;
    const choice = line.trim().toLowerCase();
    if (choice === '') return true;
    if (choice in answers) return answers[choice]!;
    process.stdout.write("Please respond with 'yes' or 'no' (or 'y' or 'n').\n");
  }
}

export function liveIo(a: ZddArgs, client: MarathonClient, logger: Logger): ZddIo {
  const m: MarathonWrites = marathonWrites(client);
  const answers = new AnswerLines();
  return {
    log: logger,
    out: (text) => process.stdout.write(text),
    listApps: () =>
      as('marathon-endpoint', 'Error while querying marathon (GET /v2/apps)', async () => {
        const body = (await m.listApps()) as { apps?: unknown };
        if (!Array.isArray(body?.apps)) throw new Error('no "apps" list in the answer');
        return (body.apps as unknown[]).map((x, i) => appOf({ app: x }, `/v2/apps item ${i}`));
      }),
    getApp: (id) =>
      as('marathon-endpoint', `Error while querying marathon (GET /v2/apps${id})`, async () =>
        appOf(await m.getApp(id), `/v2/apps${id}`),
      ),
    createApp: (d) =>
      as('app-create', `Error while creating the app ${String(d['id'])}`, async () => void (await m.createApp(d))),
    scaleApp: (id, n) =>
      as('app-scale', `Error while scaling the app ${id} to ${n}`, async () => void (await m.scaleApp(id, n))),
    killTasks: (ids) =>
      as(
        'app-scale',
        `Error while scaling the app down (killing ${ids.join(', ')})`,
        async () => void (await m.killTasksAndScale(ids)),
      ),
    deleteApp: (id) => as('app-delete', `Error while deleting the app ${id}`, async () => void (await m.deleteApp(id))),
    marathonLbUrls: () =>
      as('marathon-lb-endpoint', `Error while resolving --marathon-lb ${a.marathonLb}`, async () => {
        const url = new URL(a.marathonLb);
        const host = url.hostname.replace(/^\[|\]$/g, '');
        const addrs = net.isIP(host)
          ? [host]
          : [...new Set((await dns.lookup(host, { all: true, family: 4 })).map((x) => x.address))];
        return addrs.map((addr) => {
          const u = new URL(url.href);
          u.hostname = addr.includes(':') ? `[${addr}]` : addr;
          return u.href.replace(/\/+$/, '');
        });
      }),
    haproxyStats: (url) => httpText(`${url}/haproxy?stats;csv`),
    haproxyPids: (url) => httpText(`${url}/_haproxy_getpids`),
    resolveHosts: async (hosts) => {
      const out = new Map<string, string>();
      for (const h of new Set(hosts)) {
        if (h === '') continue;
        if (net.isIPv4(h)) out.set(h, h);
        else
          await dns.lookup(h, { family: 4 }).then(
            (r) => out.set(h, r.address),
            () => logger.warn(`Could not resolve ip for host ${h}, ignoring`),
          );
      }
      return out;
    },
    runHook: (path, args) =>
      new Promise((resolve, reject) => {
        const child = execFile(path, [...args], { maxBuffer: 16 * 1024 * 1024 }, (failure) => {
          if (!failure) return resolve();
          const code = (failure as { code?: unknown }).code;
          reject(
            new ZddError({
              kind: 'other',
              message: `pre-kill hook '${path}' ${typeof code === 'number' ? `exited with status ${code}` : `failed: ${failure.message}`}: deploy stopped, an operator must intervene`,
            }),
          );
        });
        child.stdout?.on('data', (d: Buffer) => process.stderr.write(d));
        child.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
      }),
    confirm: (question) => askYesNo(question, answers),
    sleep: (s) => new Promise((r) => setTimeout(r, s * 1000)),
    now: () => new Date(),
  };
}
