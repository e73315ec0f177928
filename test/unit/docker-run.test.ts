/**
 * docker/run (the image's entrypoint) run for real with bash, outside Docker: every path it uses is
 * pointed into a temp dir, and MARATHON_LB_CMD is a stub that records the argv it gets. One run uses
 * the real built CLI in --dry mode. docker/Dockerfile is checked against the repository (no docker
 * engine here): base image, apt packages, COPY sources, entrypoint.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { parseArgs } from '../../src/cli/args';
import type { Options } from '../../src/cli/options';
import { makeTestCerts } from '../support/certs';
import { checkConfig, describeWithHaproxy } from '../support/haproxy';
import { CLI, COMPAT_CASES_DIR, REPO_ROOT } from '../support/paths';
import { cfgdiff, tempDir } from '../support/render';

const RUN = path.join(REPO_ROOT, 'docker', 'run');
const DOCKERFILE = path.join(REPO_ROOT, 'docker', 'Dockerfile');
const CASE = path.join(COMPAT_CASES_DIR, 'feat_tcp_mode__default');

interface Sandbox {
  readonly dir: string;
  readonly root: string;
  readonly ssl: string;
  /** env for docker/run: only PATH/HOME from the outside, all paths inside dir, the stub as command. */
  readonly env: Record<string, string>;
}

interface Recorded {
  readonly argv: string[];
  readonly ports: string | null;
  /** The MLB_* variables it was run with. */
  readonly env: Readonly<Record<string, string>>;
}

interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** What the stub recorded, or undefined when it was not run. */
  readonly recorded: Recorded | undefined;
}

const sandboxes: string[] = [];
afterAll(() => {
  for (const d of sandboxes) fs.rmSync(d, { recursive: true, force: true });
});

function sandbox(): Sandbox {
  const dir = tempDir('mlb-docker-run-');
  sandboxes.push(dir);
  const root = path.join(dir, 'marathon-lb');
  fs.mkdirSync(root);
  const stub = path.join(dir, 'stub.js');
  fs.writeFileSync(
    stub,
    [
      "const fs = require('fs');",
      "const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('MLB_')));",
      'fs.writeFileSync(process.env.STUB_OUT, JSON.stringify({ argv: process.argv.slice(2), ports: process.env.PORTS ?? null, env }));',
      '',
    ].join('\n'),
  );
  return {
    dir,
    root,
    ssl: path.join(dir, 'ssl'),
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      TMPDIR: dir,
      MLB_ROOT: root,
      SSL_DIR: path.join(dir, 'ssl'),
      HAPROXY_RUN_DIR: path.join(dir, 'var-run-haproxy'),
      HAPROXY_STATE_DIR: path.join(dir, 'var-state-haproxy'),
      MARATHON_LB_CMD: `${process.execPath} ${stub}`,
      STUB_OUT: path.join(dir, 'argv.json'),
    },
  };
}

function run(sb: Sandbox, args: readonly string[], env: Record<string, string | undefined> = {}): RunResult {
  const merged: Record<string, string> = { ...sb.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  const r: SpawnSyncReturns<string> = spawnSync('bash', [RUN, ...args], {
    env: merged,
    encoding: 'utf8',
    timeout: 30000,
  });
  if (r.error) throw r.error;
  const out = sb.env.STUB_OUT as string;
  const recorded = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, 'utf8')) as Recorded) : undefined;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, recorded };
}

function ok(r: RunResult): Recorded {
  if (r.status !== 0 || r.recorded === undefined) {
    throw new Error(`docker/run failed (exit ${r.status}):\n${r.stderr}`);
  }
  return r.recorded;
}

/** The value following `flag` (the last occurrence, as the CLI reads it). */
function flagValue(argv: readonly string[], flag: string): string | undefined {
  const i = argv.lastIndexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

function parsed(argv: readonly string[], env: Readonly<Record<string, string>> = {}): Options {
  const p = parseArgs(argv, env);
  if (!p.ok) throw new Error(`marathon-lb would reject ${JSON.stringify(argv)}: ${JSON.stringify(p)}`);
  return p.value;
}

function subject(pemFile: string): string {
  const r = spawnSync('openssl', ['x509', '-noout', '-subject', '-in', pemFile], { encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0) throw new Error(`openssl x509 failed on ${pemFile}: ${r.stderr}`);
  return r.stdout.trim();
}

const G = ['--group', 'external'];

describe('docker/run modes', () => {
  it('sse: runs marathon-lb with --sse and the image paths, accepted by the CLI', () => {
    const sb = sandbox();
    const rec = ok(run(sb, ['sse', ...G]));
    expect(rec.argv).toContain('--sse');
    expect(rec.argv).not.toContain('--resync-interval');
    expect(flagValue(rec.argv, '--haproxy-config')).toBe(path.join(sb.root, 'haproxy.cfg'));
    expect(flagValue(rec.argv, '--syslog-socket')).toBe('/dev/null');
    expect(flagValue(rec.argv, '--lua-dir')).toBe(path.join(sb.root, 'config', 'lua'));
    expect(flagValue(rec.argv, '--templates-dir')).toBe(path.join(sb.root, 'templates'));
    const o = parsed(rec.argv);
    expect(o.sse).toBe(true);
    expect(o.group).toEqual(['external']);
    expect(rec.ports).toBe('9090');
    expect(fs.existsSync(path.join(sb.dir, 'var-run-haproxy'))).toBe(true);
    expect(fs.existsSync(path.join(sb.dir, 'var-state-haproxy'))).toBe(true);
  });

  it('poll: no --sse, --resync-interval from POLL_INTERVAL (default 60)', () => {
    const rec = ok(run(sandbox(), ['poll', ...G], { POLL_INTERVAL: '15' }));
    expect(rec.argv).not.toContain('--sse');
    expect(flagValue(rec.argv, '--resync-interval')).toBe('15');
    const o = parsed(rec.argv);
    expect(o.sse).toBe(false);
    expect(o.resyncInterval).toBe(15);

    expect(flagValue(ok(run(sandbox(), ['poll', ...G])).argv, '--resync-interval')).toBe('60');
    // Without POLL_INTERVAL, the controller's own MLB_RESYNC_INTERVAL (the flag added here would hide it).
    const env = { MLB_RESYNC_INTERVAL: '20' };
    expect(flagValue(ok(run(sandbox(), ['poll', ...G], env)).argv, '--resync-interval')).toBe('20');
    expect(
      flagValue(ok(run(sandbox(), ['poll', ...G], { ...env, POLL_INTERVAL: '15' })).argv, '--resync-interval'),
    ).toBe('15');
  });

  it('an unknown or missing mode is a usage error (exit 1) that writes nothing', () => {
    for (const args of [['bogus', ...G], []]) {
      const sb = sandbox();
      const r = run(sb, args);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(args.length > 0 ? /unknown mode 'bogus'/ : /missing mode/);
      expect(r.stderr).toMatch(/Usage: .*sse\|poll/);
      expect(r.recorded).toBeUndefined();
      expect(fs.existsSync(sb.ssl)).toBe(false);
    }
  });

  it('--help prints the usage and exits 0', () => {
    const r = run(sandbox(), ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: .*sse\|poll/);
  });

  it('rejects a POLL_INTERVAL that is no duration sleep takes, naming the variable', () => {
    for (const value of ['soon', '0', '0m', '-5', '1w']) {
      const r = run(sandbox(), ['poll', ...G], { POLL_INTERVAL: value });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/POLL_INTERVAL must be a positive number of seconds/);
      expect(r.recorded).toBeUndefined();
    }
  });

  // Found by a migration check: upstream slept POLL_INTERVAL, so `1m` was a minute there.
  it.each([
    ['30s', '30'],
    ['1m', '60'],
    ['1.5m', '90'],
    ['2h', '7200'],
    ['1d', '86400'],
    ['2.5', '2.5'],
  ])("POLL_INTERVAL=%s is sleep's duration: --resync-interval %s", (value, seconds) => {
    expect(flagValue(ok(run(sandbox(), ['poll', ...G], { POLL_INTERVAL: value })).argv, '--resync-interval')).toBe(
      seconds,
    );
  });

  // Upstream only logged PORTS: a hand-written list with blanks or a range ran there.
  it.each(['80,443,9090', '80, 443', '10000-10100', '80;443'])('exports PORTS=%s as given', (ports) => {
    expect(ok(run(sandbox(), ['sse', ...G], { PORTS: ports })).ports).toBe(ports);
  });

  it('passes every extra argument through, in order, after its own flags', () => {
    const extra = [
      '--group',
      'internal',
      '-m',
      'http://127.0.0.1:8080',
      '--log-format',
      '%(message)s a b  "c" $HOME *',
      '--strict-mode',
      '--group',
      '*',
    ];
    const rec = ok(run(sandbox(), ['sse', ...extra]));
    expect(rec.argv.slice(-extra.length)).toEqual(extra);
    const o = parsed(rec.argv);
    expect(o.group).toEqual(['internal', '*']);
    expect(o.logFormat).toBe('%(message)s a b  "c" $HOME *');
    expect(o.strictMode).toBe(true);
  });

  it('a flag the user passes wins over the one run adds (the CLI keeps the last)', () => {
    const rec = ok(run(sandbox(), ['sse', ...G, '--haproxy-config', '/tmp/x.cfg', '--syslog-socket', '/dev/log']));
    const o = parsed(rec.argv);
    expect(o.haproxyConfig).toBe('/tmp/x.cfg');
    expect(o.syslogSocket).toBe('/dev/log');
  });

  // As --auth-credentials they were in the process's arguments, which ps shows anyone (a new-user test).
  it('MARATHON_USER/MARATHON_PASSWORD become MLB_AUTH_CREDENTIALS, never an argument nor logged', () => {
    const r = run(sandbox(), ['sse', ...G], { MARATHON_USER: 'admin', MARATHON_PASSWORD: 's3cret' });
    expect(ok(r).env['MLB_AUTH_CREDENTIALS']).toBe('admin:s3cret');
    expect(ok(r).argv.join(' ')).not.toContain('s3cret');
    expect(r.stderr).not.toContain('s3cret');
    expect(parsed(ok(r).argv, ok(r).env).authCredentials).toBe('admin:s3cret');
  });

  it('a flag passed wins over them', () => {
    const r = run(sandbox(), ['sse', ...G, '--auth-credentials', 'other:pw'], {
      MARATHON_USER: 'admin',
      MARATHON_PASSWORD: 's3cret',
    });
    expect(parsed(ok(r).argv, ok(r).env).authCredentials).toBe('other:pw');
  });

  // Found by a migration check: app definitions pass them as arguments, which ps shows anyone.
  it('secrets passed as flags reach the controller in its environment, never as arguments nor logged', () => {
    const r = run(sandbox(), [
      'sse',
      ...G,
      '--auth-credentials',
      'flaguser:flagpass-S',
      '--admin-token=tok-S',
      '--dcos-auth-credentials',
      '{"uid":"sa-S"}',
      '-m',
      'http://u:urlpass-S@127.0.0.1:8080',
    ]);
    const rec = ok(r);
    const o = parsed(rec.argv, rec.env);
    expect([o.authCredentials, o.adminToken, o.dcosAuthCredentials]).toEqual([
      'flaguser:flagpass-S',
      'tok-S',
      '{"uid":"sa-S"}',
    ]);
    expect(rec.argv.join(' ')).not.toMatch(/flagpass-S|tok-S|sa-S/);
    expect(r.stderr).not.toMatch(/flagpass-S|tok-S|sa-S|urlpass-S/);
    expect(r.stderr).toContain('-m http://***@127.0.0.1:8080');
  });

  // Found by a second audit: argparse takes a unique prefix (`--au`); after `--` nothing is a flag.
  it('so are they by a prefix, the last one given winning; after -- nothing is moved', () => {
    const r = run(sandbox(), [
      'sse',
      ...G,
      '--auth',
      'b:prefix-S',
      '--auth-credentials',
      'a:exact-S',
      '--admin-tok=t-S',
    ]);
    const o = parsed(ok(r).argv, ok(r).env);
    expect([o.authCredentials, o.adminToken]).toEqual(['a:exact-S', 't-S']);
    expect(ok(r).argv.join(' ')).not.toMatch(/-S\b/);
    // Whole words: a temporary directory named mlb-jest-S… held "t-S" (CI).
    expect(r.stderr).not.toMatch(/(?<![\w-])(?:prefix-S|exact-S|t-S)\b/);
    const sep = run(sandbox(), ['sse', ...G, '--', '--auth-credentials', 'e:sep']);
    expect(ok(sep).argv.slice(-3)).toEqual(['--', '--auth-credentials', 'e:sep']);
    expect(ok(sep).env['MLB_AUTH_CREDENTIALS']).toBeUndefined();
  });

  it('HAPROXY_RUN_DIR set outside the image holds the master socket and pid file too', () => {
    const sb = sandbox();
    const rec = ok(run(sb, ['sse', ...G]));
    const o = parsed(rec.argv, rec.env);
    expect(o.haproxyMasterSocket).toBe(path.join(sb.dir, 'var-run-haproxy', 'master.sock'));
    expect(o.haproxyPidFile).toBe(path.join(sb.dir, 'var-run-haproxy', 'haproxy.pid'));
  });
});

// Found by a migration check: upstream read the Marathon credentials from Vault; here they were ignored.
describe('docker/run Marathon credentials from Vault (VAULT_*)', () => {
  let vault: ChildProcess;
  let url = '';
  beforeAll(async () => {
    // In a process of its own: run() blocks this one while the script asks it.
    vault = spawn(process.execPath, [
      '-e',
      `require('node:http').createServer((req, res) => {
        const ok = req.headers['x-vault-token'] === 'tok3n' && req.url === '/v1/secret/mlb';
        res.writeHead(ok ? 200 : 403, { 'content-type': 'application/json' });
        res.end(ok ? JSON.stringify({ data: { user: 'vaultuser', pass: 'vau1tpass' } }) : '{"errors":["permission denied"]}');
      }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`,
    ]);
    const port = await new Promise<string>((resolve) =>
      vault.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())),
    );
    url = `http://127.0.0.1:${port}/v1/secret/mlb`;
  });
  afterAll(() => {
    vault.kill();
  });
  const VAULT = { VAULT_TOKEN: 'tok3n', VAULT_HOST: '127.0.0.1', VAULT_PORT: '8200', VAULT_PATH: 'secret/mlb' };

  it('VAULT_URL read with the token: its data.user and data.pass become MLB_AUTH_CREDENTIALS, never an argument nor logged', () => {
    const r = run(sandbox(), ['sse', ...G], { ...VAULT, VAULT_URL: url });
    expect(ok(r).env['MLB_AUTH_CREDENTIALS']).toBe('vaultuser:vau1tpass');
    expect(ok(r).argv.join(' ')).not.toContain('vau1tpass');
    expect(r.stderr).not.toContain('vau1tpass');
  });

  // Found by a migration check: Node's warning about the unchecked certificate was read as part of them.
  it('an https Vault (its certificate not checked, as upstream) gives clean credentials', async () => {
    const certs = makeTestCerts();
    const https = spawn(
      process.execPath,
      [
        '-e',
        `require('node:https').createServer({ cert: process.env.C, key: process.env.K }, (req, res) => {
          res.writeHead(req.headers['x-vault-token'] === 'tok3n' ? 200 : 403, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ data: { user: 'vaultuser', pass: 'vau1tpass' } }));
        }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });`,
      ],
      { env: { ...process.env, C: certs.serverCert, K: certs.serverKey } },
    );
    try {
      const port = await new Promise<string>((resolve) =>
        https.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())),
      );
      const r = run(sandbox(), ['sse', ...G], { ...VAULT, VAULT_URL: `https://127.0.0.1:${port}/v1/secret/mlb` });
      expect(ok(r).env['MLB_AUTH_CREDENTIALS']).toBe('vaultuser:vau1tpass');
    } finally {
      https.kill();
    }
  });

  it('a refused token, or no VAULT_URL, stops the container naming the cause', () => {
    const refused = run(sandbox(), ['sse', ...G], { ...VAULT, VAULT_TOKEN: 'wrong', VAULT_URL: url });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/cannot read the Marathon credentials from Vault at VAULT_URL: HTTP 403/);
    expect(refused.recorded).toBeUndefined();
    const none = run(sandbox(), ['sse', ...G], VAULT);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/VAULT_URL, where upstream read the credentials, is not/);
  });
});

describe('docker/run certificates', () => {
  const certs = makeTestCerts();
  const pem = `${certs.serverCert}${certs.serverKey}`.trim();

  it('HAPROXY_SSL_CERT is written to $SSL_DIR/cert.pem (mode 600) and --ssl-certs points at it', () => {
    const sb = sandbox();
    const rec = ok(run(sb, ['sse', ...G], { HAPROXY_SSL_CERT: pem }));
    const file = path.join(sb.ssl, 'cert.pem');
    expect(flagValue(rec.argv, '--ssl-certs')).toBe(file);
    expect(fs.readFileSync(file, 'utf8')).toBe(`${pem}\n`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(subject(file)).toMatch(/CN ?= ?127\.0\.0\.1/);
  });

  it('a certificate file someone left readable is written anew, mode 600', () => {
    const sb = sandbox();
    fs.mkdirSync(sb.ssl, { recursive: true });
    const file = path.join(sb.ssl, 'cert.pem');
    fs.writeFileSync(file, 'old');
    fs.chmodSync(file, 0o644);
    ok(run(sb, ['sse', ...G], { HAPROXY_SSL_CERT: pem }));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it("expands \\n escapes in a one-line HAPROXY_SSL_CERT, as upstream's echo -e", () => {
    const sb = sandbox();
    ok(run(sb, ['sse', ...G], { HAPROXY_SSL_CERT: pem.replace(/\n/g, '\\n') }));
    expect(fs.readFileSync(path.join(sb.ssl, 'cert.pem'), 'utf8')).toBe(`${pem}\n`);
  });

  it('HAPROXY_SSL_CERT0/1 are written to cert0.pem/cert1.pem and listed comma-separated', () => {
    const sb = sandbox();
    const rec = ok(run(sb, ['sse', ...G], { HAPROXY_SSL_CERT0: pem, HAPROXY_SSL_CERT1: `${pem}\n` }));
    const files = ['cert0.pem', 'cert1.pem'].map((f) => path.join(sb.ssl, f));
    expect(flagValue(rec.argv, '--ssl-certs')).toBe(files.join(','));
    for (const f of files) expect(subject(f)).toMatch(/CN ?= ?127\.0\.0\.1/);
    expect(fs.existsSync(path.join(sb.ssl, 'cert.pem'))).toBe(false);
  });

  it("orders the certificates: the user's --ssl-certs, cert.pem, cert0.pem, … and drops the user's flag", () => {
    const sb = sandbox();
    const rec = ok(
      run(sb, ['sse', '--ssl-certs', '/certs/a.pem,/certs/b.pem', ...G, '--ssl-certs=/certs/c.pem'], {
        HAPROXY_SSL_CERT: pem,
        HAPROXY_SSL_CERT0: pem,
      }),
    );
    expect(rec.argv.filter((a) => a.startsWith('--ssl-certs'))).toEqual(['--ssl-certs']);
    expect(flagValue(rec.argv, '--ssl-certs')).toBe(
      [
        '/certs/a.pem',
        '/certs/b.pem',
        '/certs/c.pem',
        path.join(sb.ssl, 'cert.pem'),
        path.join(sb.ssl, 'cert0.pem'),
      ].join(','),
    );
    expect(rec.argv.slice(-2)).toEqual(G);
  });

  it("with only the user's --ssl-certs, uses them and generates nothing", () => {
    const sb = sandbox();
    const rec = ok(run(sb, ['sse', ...G, '--ssl-certs', '/certs/site.pem']));
    expect(flagValue(rec.argv, '--ssl-certs')).toBe('/certs/site.pem');
    expect(fs.existsSync(path.join(sb.ssl, 'cert.pem'))).toBe(false);
  });

  it('without any certificate generates a self-signed one (CN=*) with its key in $SSL_DIR/cert.pem', () => {
    const sb = sandbox();
    const rec = ok(run(sb, ['sse', ...G]));
    const file = path.join(sb.ssl, 'cert.pem');
    expect(flagValue(rec.argv, '--ssl-certs')).toBe(file);
    expect(subject(file)).toMatch(/CN ?= ?\*/);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toMatch(/-----BEGIN CERTIFICATE-----/);
    expect(text).toMatch(/-----BEGIN (RSA )?PRIVATE KEY-----/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('docker/run environment features', () => {
  it('copies $MESOS_SANDBOX/templates into the templates dir and points --templates-dir at it', () => {
    const sb = sandbox();
    const sandboxTemplates = path.join(sb.dir, 'mesos-sandbox', 'templates');
    fs.mkdirSync(sandboxTemplates, { recursive: true });
    fs.writeFileSync(
      path.join(sandboxTemplates, 'HAPROXY_HTTP_FRONTEND_HEAD'),
      '\nfrontend custom_http_in\n  bind *:80\n',
    );
    fs.writeFileSync(path.join(sandboxTemplates, 'HAPROXY_BACKEND_HEAD'), '\nbackend {backend}\n');
    const rec = ok(run(sb, ['sse', ...G], { MESOS_SANDBOX: path.join(sb.dir, 'mesos-sandbox') }));
    const dir = flagValue(rec.argv, '--templates-dir') as string;
    expect(dir).toBe(path.join(sb.root, 'templates'));
    expect(fs.readdirSync(dir).sort()).toEqual(['HAPROXY_BACKEND_HEAD', 'HAPROXY_HTTP_FRONTEND_HEAD']);
    expect(fs.readFileSync(path.join(dir, 'HAPROXY_HTTP_FRONTEND_HEAD'), 'utf8')).toContain('custom_http_in');
  });

  it('a MESOS_SANDBOX without templates/ (or empty) changes nothing', () => {
    const sb = sandbox();
    fs.mkdirSync(path.join(sb.dir, 'box', 'templates'), { recursive: true });
    ok(run(sb, ['sse', ...G], { MESOS_SANDBOX: path.join(sb.dir, 'box') }));
    expect(fs.readdirSync(path.join(sb.root, 'templates'))).toEqual([]);
    const other = sandbox();
    ok(run(other, ['sse', ...G], { MESOS_SANDBOX: path.join(other.dir, 'nowhere') }));
    expect(fs.existsSync(path.join(other.root, 'templates'))).toBe(false);
  });

  it('HAPROXY_SYSLOGD starts the syslog daemon before marathon-lb', () => {
    const sb = sandbox();
    const marker = path.join(sb.dir, 'syslogd-started');
    const fake = path.join(sb.dir, 'fake-syslogd.js');
    fs.writeFileSync(
      fake,
      `require('fs').writeFileSync(${JSON.stringify(marker)}, process.argv.slice(2).join(' '));\n`,
    );
    const r = run(sb, ['sse', ...G], { HAPROXY_SYSLOGD: 'true', SYSLOGD_CMD: `${process.execPath} ${fake} -n` });
    ok(r);
    expect(r.stderr).toMatch(/started syslogd/);
    // The daemon runs in the background: give it a bounded moment to write its marker.
    const deadline = Date.now() + 10000;
    while (!fs.existsSync(marker) && Date.now() < deadline) spawnSync('sleep', ['0.05']);
    expect(fs.readFileSync(marker, 'utf8')).toBe('-n');
  });

  it('without HAPROXY_SYSLOGD no syslog daemon is started', () => {
    const sb = sandbox();
    const marker = path.join(sb.dir, 'syslogd-started');
    const r = run(sb, ['sse', ...G], { SYSLOGD_CMD: `touch ${marker}` });
    ok(r);
    expect(r.stderr).not.toMatch(/syslogd/);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('a failing HAPROXY_SYSCTL_PARAMS stops the start unless HAPROXY_SYSCTL_NONSTRICT is set', () => {
    const params = { HAPROXY_SYSCTL_PARAMS: 'marathonlb.test.no_such_key=1' };
    const strict = run(sandbox(), ['sse', ...G], params);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(
      /could not set sysctl params 'marathonlb\.test\.no_such_key=1'.*HAPROXY_SYSCTL_NONSTRICT/,
    );
    expect(strict.recorded).toBeUndefined();
    const lenient = run(sandbox(), ['sse', ...G], { ...params, HAPROXY_SYSCTL_NONSTRICT: '1' });
    expect(lenient.stderr).toMatch(/some sysctl params could not be set/);
    ok(lenient);
  });

  // Found by a migration check: what sysctl prints mixed into a --dry's config on stdout.
  it("sysctl's own output goes to stderr, beside the script's", () => {
    const sb = sandbox();
    const bin = path.join(sb.dir, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'sysctl'), '#!/bin/sh\necho "net.ipv4.tcp_tw_reuse = 1"\n', { mode: 0o755 });
    const r = run(sb, ['sse', ...G], {
      HAPROXY_SYSCTL_PARAMS: 'net.ipv4.tcp_tw_reuse=1',
      PATH: `${bin}:${sb.env.PATH}`,
    });
    ok(r);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('net.ipv4.tcp_tw_reuse = 1');
  });

  it('HAPROXY_RELOAD_SIGTERM_DELAY, which old images used, is named as unused', () => {
    const r = run(sandbox(), ['sse', ...G], { HAPROXY_RELOAD_SIGTERM_DELAY: '5m' });
    ok(r);
    expect(r.stderr).toMatch(/HAPROXY_RELOAD_SIGTERM_DELAY is not used: .*--hard-stop-after/);
  });
});

describe('docker/run with the real CLI (MARATHON_LB_CMD unset, MLB_ROOT = this repository)', () => {
  const appsFile = path.join(CASE, 'apps.json');
  const realEnv = (sb: Sandbox): Record<string, string | undefined> => ({
    MLB_ROOT: REPO_ROOT,
    MARATHON_LB_CMD: undefined,
    HAPROXY_CONFIG: path.join(sb.dir, 'haproxy.cfg'),
  });

  beforeAll(() => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    if (!fs.existsSync(appsFile)) throw new Error(`compat case not found: ${appsFile}`);
  });

  it("poll --dry --apps-file prints the config, with the generated certificate and the repo's Lua files", () => {
    const sb = sandbox();
    const r = run(sb, ['poll', ...G, '--dry', '--apps-file', appsFile], realEnv(sb));
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^frontend marathon_http_in$/m);
    expect(r.stdout).toMatch(/^frontend tcp-db_10010$/m);
    expect(r.stdout).toContain(`bind *:443 ssl crt ${path.join(sb.ssl, 'cert.pem')}`);
    expect(r.stdout).toContain(`lua-load ${path.join(REPO_ROOT, 'config', 'lua', 'getpids.lua')}`);
    expect(subject(path.join(sb.ssl, 'cert.pem'))).toMatch(/CN ?= ?\*/);
    expect(fs.existsSync(path.join(sb.dir, 'haproxy.cfg'))).toBe(false); // --dry writes nothing
  });

  it("with the image's paths passed back in, the output equals marathon-lb's expected config", () => {
    const sb = sandbox();
    const r = run(
      sb,
      ['sse', ...G, '--dry', '--apps-file', appsFile, '--lua-dir', '/marathon-lb', '--ssl-certs', '/etc/ssl/cert.pem'],
      realEnv(sb),
    );
    expect(r.status).toBe(0);
    const actual = path.join(sb.dir, 'actual.cfg');
    fs.writeFileSync(actual, r.stdout);
    expect(cfgdiff(path.join(CASE, 'expected.cfg'), actual)).toBe('');
  });

  describeWithHaproxy('haproxy accepts what the entrypoint produces', () => {
    it('haproxy -c: the self-signed certificate and the Lua files load', async () => {
      const sb = sandbox();
      const r = run(sb, ['poll', ...G, '--dry', '--apps-file', appsFile], realEnv(sb));
      expect(r.status).toBe(0);
      const cfg = path.join(sb.dir, 'check.cfg');
      fs.writeFileSync(cfg, r.stdout);
      const check = await checkConfig(cfg);
      expect(check.output).not.toMatch(/\[ALERT\]/);
      expect(check.ok).toBe(true);
    });
  });
});

// ---- docker/Dockerfile, parsed -------------------------------------------------------------------------

interface Instruction {
  readonly op: string;
  readonly args: string;
  /** Index of the FROM this instruction belongs to. */
  readonly stage: number;
}

function parseDockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const out: Instruction[] = [];
  let stage = -1;
  for (const raw of joined.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = (m[1] as string).toUpperCase();
    if (op === 'FROM') stage += 1;
    out.push({ op, args: (m[2] as string).replace(/\s+/g, ' ').trim(), stage });
  }
  return out;
}

describe('docker/Dockerfile', () => {
  const ins = parseDockerfile(fs.readFileSync(DOCKERFILE, 'utf8'));
  const froms = ins.filter((i) => i.op === 'FROM');
  const last = froms.length - 1;
  const runtime = ins.filter((i) => i.stage === last);
  const aptPackages = runtime
    .filter((i) => i.op === 'RUN' && /apt-get install/.test(i.args))
    .flatMap((i) => (/apt-get install (.*?)(&&|$)/.exec(i.args)?.[1] ?? '').split(' '))
    .filter((w) => w !== '' && !w.startsWith('-'));
  const jsonArg = (op: string): string[] => {
    const i = runtime.find((x) => x.op === op);
    if (!i) throw new Error(`no ${op} in the runtime stage`);
    return JSON.parse(i.args) as string[];
  };

  it('builds on Debian bookworm with a maintained node (22 LTS; 20 ended in April 2026) in every stage', () => {
    expect(froms.length).toBeGreaterThanOrEqual(1);
    for (const f of froms) expect(f.args).toMatch(/^node:22(\.\d+)*-bookworm(-slim)?(@sha256:[0-9a-f]+)?( AS \S+)?$/i);
  });

  it("checks its health at HAProxy's own endpoint, which the default HAPROXY_HEAD serves", () => {
    const health = runtime.find((x) => x.op === 'HEALTHCHECK');
    expect(health?.args).toMatch(/fetch\('http:\/\/127\.0\.0\.1:9090\/_haproxy_health_check'\)/);
    const head = fs.readFileSync(path.join(REPO_ROOT, 'config', 'templates', 'HAPROXY_HEAD.mustache'), 'utf8');
    expect(head).toMatch(/bind 0\.0\.0\.0:9090[\s\S]*monitor-uri \/_haproxy_health_check/);
  });

  it('installs what CI installs (.ci/run) and every tool docker/run calls', () => {
    const ci = fs.readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8');
    const ciPackages = [...ci.matchAll(/need_apt\+=\(([a-z0-9.+-]+)\)/g)].map((m) => m[1] as string); // runtime packages; test-only ones go to test_apt
    expect(ciPackages).toEqual(expect.arrayContaining(['haproxy', 'openssl']));
    expect(aptPackages).toEqual(expect.arrayContaining(ciPackages));
    const runScript = fs.readFileSync(RUN, 'utf8');
    // command used by docker/run (or the entrypoint) → the Debian package that provides it
    const tools: Record<string, string> = {
      openssl: 'openssl',
      sysctl: 'procps',
      syslogd: 'inetutils-syslogd',
      tini: 'tini',
    };
    for (const [tool, pkg] of Object.entries(tools)) {
      if (tool !== 'tini') expect(runScript).toMatch(new RegExp(`\\b${tool} `));
      expect(aptPackages).toContain(pkg);
    }
  });

  it('builds the TypeScript in a build stage and installs production dependencies only at runtime', () => {
    const build = ins.filter((i) => i.stage < last);
    expect(build.some((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args))).toBe(true);
    expect(build.some((i) => i.op === 'RUN' && /\bnpm run build\b/.test(i.args))).toBe(true);
    expect(runtime.some((i) => i.op === 'RUN' && /\bnpm ci --omit=dev\b/.test(i.args))).toBe(true);
    expect(runtime.some((i) => i.op === 'COPY' && /^--from=\S+ \S*dist \.?\/?(marathon-lb\/)?dist$/.test(i.args))).toBe(
      true,
    );
    // the build stage copies everything tsconfig.build.json compiles
    const tsBuild = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    const copiedInBuild = build.filter((i) => i.op === 'COPY').flatMap((i) => i.args.split(' ').slice(0, -1));
    for (const dir of tsBuild.include) expect(copiedInBuild).toContain(dir);
    // docker/run's default command is the package's bin
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(fs.readFileSync(RUN, 'utf8')).toContain(`$MLB_ROOT/${pkg.bin['marathon-lb']}`);
  });

  it('copies only files that exist in the repository, and the Lua files to /marathon-lb/', () => {
    const copies = ins.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'));
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) {
      for (const src of c.args.split(' ').slice(0, -1)) expect(fs.existsSync(path.join(REPO_ROOT, src))).toBe(true);
    }
    expect(runtime.some((i) => i.op === 'WORKDIR' && i.args === '/marathon-lb')).toBe(true);
    expect(copies.some((c) => c.args === 'config/lua/ /marathon-lb/')).toBe(true);
    expect(copies.some((c) => c.args === 'config ./config')).toBe(true); // templates + catalog, found from dist/
    // every lua-load of the built-in HAPROXY_HEAD names a file that is copied
    const head = fs.readFileSync(path.join(REPO_ROOT, 'config', 'templates', 'HAPROXY_HEAD.mustache'), 'utf8');
    const loads = [...head.matchAll(/lua-load \{\{luaDir\}\}\/(\S+)/g)].map((m) => m[1] as string);
    expect(loads.sort()).toEqual(['getconfig.lua', 'getmaps.lua', 'getpids.lua', 'signalmlb.lua']);
    for (const f of loads) expect(fs.existsSync(path.join(REPO_ROOT, 'config', 'lua', f))).toBe(true);
  });

  it("runs /marathon-lb/run (docker/run, executable bash) with upstream's default command", () => {
    const entry = jsonArg('ENTRYPOINT');
    expect(entry[entry.length - 1]).toBe('/marathon-lb/run');
    expect(entry[0]).toBe('/usr/bin/tini');
    expect(ins.some((i) => i.op === 'COPY' && i.args === 'docker/run /marathon-lb/run')).toBe(true);
    expect(fs.statSync(RUN).mode & 0o111).toBe(0o111);
    const script = fs.readFileSync(RUN, 'utf8');
    expect(script.split('\n')[0]).toMatch(/^#!\/(usr\/)?bin\/(env )?bash$/);
    expect(script).toMatch(/^set -euo pipefail$/m);
    expect(spawnSync('bash', ['-n', RUN]).status).toBe(0);

    const cmd = jsonArg('CMD');
    expect(cmd).toEqual(['sse', '--health-check', '--group', 'external']);
    const o = parsed(cmd.slice(1));
    expect(o.healthCheck).toBe(true);
    expect(o.group).toEqual(['external']);
  });

  it('exposes 80 443 9090 9091', () => {
    const exposed = runtime.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(' '));
    expect(exposed.sort()).toEqual(['443', '80', '9090', '9091']);
  });
});
