import * as fs from 'fs';
import * as path from 'path';
import { parseArgs, ParseResult, unknownSettings } from '../../src/cli/args';
import { findConfigDir, mustacheToPythonFormat } from '../../src/cli/longhelp';
import { DEFAULT_OPTIONS, envName, FLAGS, MAX_TIMER_SECONDS, Options } from '../../src/cli/options';
import { modelOptions, renderOptions } from '../../src/wiring/parts';

const CONFIG_DIR = path.resolve(__dirname, '../../config');

function ok(argv: readonly string[], env: Record<string, string | undefined> = {}): Options {
  const r = parseArgs(argv, env);
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r).slice(0, 300)}`);
  return r.value;
}

function error(argv: readonly string[], env: Record<string, string | undefined> = {}): string {
  const r = parseArgs(argv, env);
  if (r.ok || r.error.kind !== 'error') throw new Error(`expected error, got ${JSON.stringify(r).slice(0, 300)}`);
  expect(r.error.message).not.toContain('\n');
  return r.error.message;
}

function help(argv: readonly string[], env: Record<string, string | undefined> = {}): string {
  const r: ParseResult = parseArgs(argv, env);
  if (r.ok || r.error.kind !== 'help') throw new Error(`expected help, got ${JSON.stringify(r).slice(0, 300)}`);
  return r.error.text;
}

const G = ['--group', 'external'];

describe('defaults', () => {
  it('equal upstream marathon_lb.py v1.15 defaults', () => {
    const o = ok(G);
    expect(o.marathon).toEqual(['http://master.mesos:8080']);
    expect(o.haproxyConfig).toBe('/etc/haproxy/haproxy.cfg');
    expect(o.group).toEqual(['external']);
    expect(o.command).toBeUndefined();
    expect(o.maxReloadRetries).toBe(10);
    expect(o.reloadInterval).toBe(10);
    expect(o.archiveVersions).toBe(5);
    expect(o.lruCacheCapacity).toBe(1000);
    expect(o.sslCerts).toBe('/etc/ssl/cert.pem');
    expect(o.minServPortIpPerTask).toBe(10050);
    expect(o.maxServPortIpPerTask).toBe(10100);
    expect(o.maxBackoff).toBe(300);
    expect(o.syslogSocket).toBe(process.platform === 'darwin' ? '/var/run/syslog' : '/dev/log');
    expect(o.logFormat).toBe('%(asctime)-15s %(name)s: %(message)s');
    expect(o.logLevel).toBe('DEBUG');
    for (const k of [
      'strictMode',
      'sse',
      'healthCheck',
      'haproxyMap',
      'dontBindHttpHttps',
      'groupHttpsByVhost',
      'skipValidation',
      'skipConfigCleanup',
      'dry',
    ] as const) {
      expect(o[k]).toBe(false);
    }
    for (const k of [
      'marathonAuthCredentialFile',
      'authCredentials',
      'dcosAuthCredentials',
      'marathonCaCert',
    ] as const) {
      expect(o[k]).toBeUndefined();
    }
  });

  it('has the documented defaults for the new flags', () => {
    const o = ok(G);
    expect(o).toMatchObject({
      appsFile: undefined,
      luaDir: '/marathon-lb',
      templatesDir: 'templates',
      sseIdleTimeout: 60,
      debounceQuiet: 0.5,
      debounceMaxWait: 5,
      resyncInterval: 300,
      requestTimeout: 46,
      connectTimeout: 3.05,
      marathonInsecure: false,
      haproxyBin: 'haproxy',
      haproxyMasterSocket: '/var/run/haproxy/master.sock',
      haproxyPidFile: '/var/run/haproxy.pid',
      haproxyAttach: false,
      hardStopAfter: undefined,
      maxOldWorkers: 10,
      adminBind: '127.0.0.1',
      adminPort: 9191,
      adminToken: undefined,
    });
    expect(o).toEqual({ ...DEFAULT_OPTIONS, group: ['external'] });
  });

  it('has exactly one flag per Options field, named in kebab-case', () => {
    const keys = FLAGS.map((f) => f.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual(Object.keys(DEFAULT_OPTIONS).sort());
    for (const f of FLAGS) expect(f.key).toBe(f.flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()));
  });

  it('returns frozen options', () => {
    const o = ok(G);
    expect(Object.isFrozen(o)).toBe(true);
    expect(Object.isFrozen(o.group)).toBe(true);
  });
});

describe('flags', () => {
  it('accepts every short flag', () => {
    const o = ok([...G, '-m', 'http://a:8080', 'http://b:8080', '-c', 'systemctl reload haproxy', '-s', '-H', '-d']);
    expect(o.marathon).toEqual(['http://a:8080', 'http://b:8080']);
    expect(o.command).toBe('systemctl reload haproxy');
    expect(o).toMatchObject({ sse: true, healthCheck: true, dry: true });
  });

  it('accepts grouped short booleans', () => {
    expect(ok([...G, '-sHd'])).toMatchObject({ sse: true, healthCheck: true, dry: true });
  });

  it('accepts the long forms', () => {
    const o = ok([
      ...G,
      '--marathon',
      'https://m:8443',
      '--command',
      'x',
      '--sse',
      '--health-check',
      '--dry',
      '--strict-mode',
      '--haproxy-map',
      '--dont-bind-http-https',
      '--group-https-by-vhost',
      '--skip-validation',
      '--skip-config-cleanup',
      '--marathon-insecure',
      '--max-reload-retries',
      '-1',
      '--reload-interval',
      '0',
      '--archive-versions',
      '0',
      '--lru-cache-capacity',
      '5',
      '--max-backoff',
      '60',
      '--ssl-certs',
      '/a.pem,/b.pem',
      '--log-level',
      'warning',
      '--log-format',
      'json',
      '--syslog-socket',
      '/dev/null',
      '--debounce-quiet',
      '0',
      '--debounce-max-wait',
      '2.5',
      '--resync-interval',
      '0',
      '--hard-stop-after',
      '5',
      '--admin-port',
      '0',
      '--admin-bind',
      '::1',
      '--admin-token',
      's3cret',
      '--lua-dir',
      '/usr/share/mlb',
      '--templates-dir',
      '/etc/mlb/templates',
      '--haproxy-bin',
      '/usr/sbin/haproxy',
      '--apps-file',
      'apps.json',
    ]);
    expect(o).toMatchObject({
      marathon: ['https://m:8443'],
      command: 'x',
      sse: true,
      healthCheck: true,
      dry: true,
      strictMode: true,
      haproxyMap: true,
      dontBindHttpHttps: true,
      groupHttpsByVhost: true,
      skipValidation: true,
      skipConfigCleanup: true,
      marathonInsecure: true,
      haproxyAttach: false, // with --command it is refused (below)
      maxReloadRetries: -1,
      reloadInterval: 0,
      archiveVersions: 0,
      lruCacheCapacity: 5,
      maxBackoff: 60,
      sslCerts: '/a.pem,/b.pem',
      logLevel: 'WARNING',
      logFormat: 'json',
      syslogSocket: '/dev/null',
      debounceQuiet: 0,
      debounceMaxWait: 2.5,
      resyncInterval: 0,
      hardStopAfter: 5,
      adminPort: 0,
      adminBind: '::1',
      adminToken: 's3cret',
      luaDir: '/usr/share/mlb',
      templatesDir: '/etc/mlb/templates',
      haproxyBin: '/usr/sbin/haproxy',
      appsFile: 'apps.json',
    });
  });

  it('appends repeated --group (and does not split it)', () => {
    expect(ok(['--group', 'external', '--group', 'internal', '--group', '*']).group).toEqual([
      'external',
      'internal',
      '*',
    ]);
    expect(ok(['--group', 'a,b']).group).toEqual(['a,b']);
    expect(ok(['--group=x']).group).toEqual(['x']);
  });

  it('takes "-" for --apps-file (stdin) with --dry', () => {
    expect(ok([...G, '--dry', '--apps-file', '-']).appsFile).toBe('-');
  });

  it('lets the last value of a scalar flag win, like argparse', () => {
    expect(ok([...G, '--haproxy-config', '/a', '--haproxy-config', '/b']).haproxyConfig).toBe('/b');
  });

  it('accepts both serv-port bounds at zero (auto assignment off)', () => {
    const o = ok([...G, '--min-serv-port-ip-per-task', '0', '--max-serv-port-ip-per-task', '0']);
    expect([o.minServPortIpPerTask, o.maxServPortIpPerTask]).toEqual([0, 0]);
  });
});

describe('environment', () => {
  it('maps MLB_* variables, splitting lists on commas and whitespace', () => {
    const o = ok([], {
      MLB_GROUP: 'external, internal  other',
      MLB_MARATHON: 'http://m1:8080,http://m2:8080',
      MLB_HAPROXY_CONFIG: '/tmp/haproxy.cfg',
      MLB_STRICT_MODE: 'true',
      MLB_SSE: '1',
      MLB_DRY: 'no',
      MLB_HEALTH_CHECK: 'YES',
      MLB_MAX_RELOAD_RETRIES: '-1',
      MLB_DEBOUNCE_QUIET: '0.25',
      MLB_LOG_LEVEL: 'info',
      MLB_COMMAND: 'reload it',
    });
    expect(o).toMatchObject({
      group: ['external', 'internal', 'other'],
      marathon: ['http://m1:8080', 'http://m2:8080'],
      haproxyConfig: '/tmp/haproxy.cfg',
      strictMode: true,
      sse: true,
      dry: false,
      healthCheck: true,
      maxReloadRetries: -1,
      debounceQuiet: 0.25,
      logLevel: 'INFO',
      command: 'reload it',
    });
  });

  it('has an MLB_<FLAG> variable for every flag', () => {
    const sample = (kind: string): [string, unknown] => {
      switch (kind) {
        case 'boolean':
          return ['true', true];
        case 'list':
          return ['http://x:1 http://y:2', ['http://x:1', 'http://y:2']];
        case 'append':
          return ['a,b', ['a', 'b']];
        case 'integer':
          return ['7', 7];
        case 'number':
          return ['7', 7];
        case 'logLevel':
          return ['error', 'ERROR'];
        case 'logFormat':
          return ['[%(process)d] %(message)s', '[%(process)d] %(message)s'];
        default:
          return ['some value', 'some value'];
      }
    };
    for (const f of FLAGS) {
      const [text, value] = sample(f.kind);
      const env: Record<string, string> = { MLB_GROUP: 'g', [envName(f.flag)]: text };
      if (f.key === 'minServPortIpPerTask') env['MLB_MAX_SERV_PORT_IP_PER_TASK'] = '7';
      if (f.key === 'maxServPortIpPerTask') env['MLB_MIN_SERV_PORT_IP_PER_TASK'] = '7';
      if (f.key === 'debounceQuiet') env['MLB_DEBOUNCE_MAX_WAIT'] = '7';
      if (f.key === 'appsFile') env['MLB_DRY'] = 'true';
      if (f.key === 'authCredentials') {
        env[envName(f.flag)] = 'u:p';
      }
      if (f.key === 'haproxyVersion') {
        env[envName(f.flag)] = '2.0';
      }
      if (f.key === 'adminToken') env[envName(f.flag)] = 'some-value'; // one word: a header carries it
      const o = ok([], env) as unknown as Record<string, unknown>;
      expect([f.flag, o[f.key]]).toEqual([
        f.flag,
        f.key === 'authCredentials'
          ? 'u:p'
          : f.key === 'haproxyVersion'
            ? '2.0'
            : f.key === 'adminToken'
              ? 'some-value'
              : value,
      ]);
    }
  });

  it('takes --haproxy-version as MAJOR.MINOR (flag or MLB_HAPROXY_VERSION) and refuses anything else', () => {
    expect(ok([...G, '--haproxy-version', '2.0']).haproxyVersion).toBe('2.0');
    expect(ok(G, { MLB_HAPROXY_VERSION: '2.6.12' }).haproxyVersion).toBe('2.6.12');
    expect(ok(G).haproxyVersion).toBeUndefined();
    const r = parseArgs([...G, '--haproxy-version', 'latest'], {});
    expect(r).toEqual({
      ok: false,
      error: { kind: 'error', message: "argument --haproxy-version: expected MAJOR.MINOR (e.g. 2.6), got 'latest'" },
    });
  });

  it('refuses an empty --group and --haproxy-attach with --command', () => {
    expect(error(['--group', ''])).toBe('argument --group is required: please specify at least one group name');
    expect(ok([...G, '--haproxy-attach']).haproxyAttach).toBe(true);
    expect(error([...G, '--haproxy-attach', '--command', 'true'])).toMatch(
      /^--haproxy-attach and --command cannot be used together/,
    );
  });

  it('refuses a blank admin token, by flag or variable (a secret that failed to render); unset means none', () => {
    const why = /admin-token\)?: is blank; give the token, or leave it unset/;
    expect(error([...G, '--admin-token', ''])).toMatch(why);
    expect(error([...G, '--admin-token', '  '])).toMatch(why);
    expect(error(G, { MLB_ADMIN_TOKEN: '' })).toMatch(/^MLB_ADMIN_TOKEN \(--admin-token\): is blank/);
    expect(error(G, { MLB_ADMIN_TOKEN: ' \t' })).toMatch(why);
    expect(ok(G).adminToken).toBeUndefined();
    expect(ok(G, { MLB_ADMIN_TOKEN: 's3cret' }).adminToken).toBe('s3cret');
  });

  // Found by an audit: `tok\n` (a secret made of a file) started, and no request could ever send it.
  it('refuses an admin token holding a blank or a line break, which no Authorization header can carry', () => {
    const why = /admin-token\)?: holds a blank or a line break/;
    expect(error(G, { MLB_ADMIN_TOKEN: 'tok123\n' })).toMatch(/^MLB_ADMIN_TOKEN \(--admin-token\): holds a blank/);
    expect(error([...G, '--admin-token', 'my token'])).toMatch(why);
    expect(ok([...G, '--admin-token', 'Ab+Cd/Ef=='], { MLB_ADMIN_TOKEN: 'ignored x' }).adminToken).toBe('Ab+Cd/Ef==');
  });

  // Found by an audit: "pässwort" started, and no UTF-8 client (curl, Prometheus, a browser) could send it.
  it('refuses an admin token with a character other than printable ASCII', () => {
    const why = /admin-token\)?: holds a character other than printable ASCII/;
    expect(error(G, { MLB_ADMIN_TOKEN: 'pässwort' })).toMatch(/^MLB_ADMIN_TOKEN \(--admin-token\): holds a character/);
    expect(error([...G, '--admin-token', 'tok€n'])).toMatch(why);
    expect(error([...G, '--admin-token', 'tok\u0000n'])).toMatch(why);
    expect(ok([...G, '--admin-token', '~!@#$%^&*()_+{}|:<>?`-=[]\\;,./"\'']).adminToken).toBe(
      '~!@#$%^&*()_+{}|:<>?`-=[]\\;,./"\'',
    );
  });

  it('shows a Marathon URL written without its scheme without its password', () => {
    expect(error([...G, '--marathon', 'mlbuser:Pw4Secret@127.0.0.1:46101'])).toBe(
      "argument --marathon/-m: '127.0.0.1:46101' is not an http:// or https:// URL",
    );
    expect(error([...G, '--marathon', 'ftp://u:Pw4Secret@h/x@y'])).not.toContain('Pw4Secret');
  });

  // Found by an attack: `%zz` in a password ended the command with only "URI malformed".
  it('refuses a Marathon URL whose user or password holds a % that starts no escape, naming the flag, not the password', () => {
    const why = error([...G, '--marathon', 'http://alice:S3cret%zzPw@127.0.0.1:25530']);
    expect(why).toBe(
      "argument --marathon/-m: 'http://127.0.0.1:25530' has a user or password with a % that starts no escape (write a % itself as %25)",
    );
    expect(ok([...G, '--marathon', 'http://alice:S3cret%25zzPw@127.0.0.1:25530']).marathon).toHaveLength(1);
  });

  // Found by an audit: the list is split on commas and blanks first, so the piece shown held the start of the password.
  it('shows no part of a password that a comma or a blank in it cut, and says how to write it', () => {
    for (const MLB_MARATHON of ['http://urluser:UrlPa,ssAAA111@127.0.0.1:22006', 'http://urluser:UrlPa ssAAA111@h:1'])
      expect(error(G, { MLB_MARATHON })).toBe(
        "argument --marathon/-m: 'http://urluser:***' is not an http:// or https:// URL (what follows ':' is no port; a password with a comma or a blank in it, which split the list of URLs, is written percent-encoded: %2C, %20)",
      );
    // A port, or an IPv6 host, is no password: shown as written.
    expect(error([...G, '--marathon', 'http://host:80800x'])).toContain("'http://host:***'");
    expect(error([...G, '--marathon', 'htp://[::1]:8080'])).toBe(
      "argument --marathon/-m: 'htp://[::1]:8080' is not an http:// or https:// URL",
    );
    expect(error([...G, '--marathon', 'http://host:99999'])).toBe(
      "argument --marathon/-m: 'http://host:99999' is not an http:// or https:// URL",
    );
  });

  // Found by a flags audit: yargs read `-mhttp://…` as `-m -h -t …` and printed the help (exit 0).
  it('reads short flags as argparse does: a value attached to its flag, several flags in one token', () => {
    expect(ok([...G, '-mhttp://127.0.0.1:8080'])).toMatchObject({ marathon: ['http://127.0.0.1:8080'] });
    expect(ok([...G, '-m=http://127.0.0.1:8080'])).toMatchObject({ marathon: ['http://127.0.0.1:8080'] });
    expect(ok([...G, '-csv'])).toMatchObject({ command: 'sv' });
    expect(ok([...G, '-sHd'])).toMatchObject({ sse: true, healthCheck: true, dry: true });
    expect(ok([...G, '-sdmhttp://a:8080', 'http://b:8080'])).toMatchObject({
      sse: true,
      dry: true,
      marathon: ['http://a:8080', 'http://b:8080'],
    });
    expect(ok([...G, '-sm', 'http://a:8080'])).toMatchObject({ sse: true, marathon: ['http://a:8080'] });
    expect(error([...G, '-sx'])).toMatch(/unrecognized arguments: .*x/);
  });

  // Found by an audit: yargs took --no-<flag> for any flag (`crt false`, a reload command `false`),
  // and dropped what followed `--` without a word; argparse refuses both.
  it('refuses --no-<flag> for a flag that takes a value, and operands after --', () => {
    for (const flag of ['--no-ssl-certs', '--no-command', '--no-apps-file', '--no-haproxy-config=x'])
      expect(error([...G, flag])).toBe(`unrecognized arguments: ${flag}`);
    expect(error([...G, '--', '--strict-mode', 'x'])).toBe('unrecognized arguments: --strict-mode x');
    expect(error([...G, '-m', 'http://a:8080,http://b:8080'])).toBe(
      "argument --marathon/-m: 'http://a:8080,http://b:8080' is not an http:// or https:// URL (several URLs are separate arguments: -m URL URL, as in marathon-lb)",
    );
    // Each shown without its credentials.
    expect(error([...G, '-m', 'http://u:s3cret@a:8080,http://b:8080'])).toMatch(
      /^argument --marathon\/-m: 'http:\/\/a:8080,http:\/\/b:8080' is not/,
    );
    expect(ok([...G, '--no-sse', '--no-fast-path'])).toMatchObject({ sse: false, fastPath: false });
    expect(ok([...G, '--no-group'])).toMatchObject({ groupHttpsByVhost: false }); // a prefix of --no-group-https-by-vhost
  });

  it('names variables MLB_ + upper-case flag with underscores', () => {
    expect(envName('haproxy-config')).toBe('MLB_HAPROXY_CONFIG');
    expect(envName('min-serv-port-ip-per-task')).toBe('MLB_MIN_SERV_PORT_IP_PER_TASK');
  });

  it('treats empty variables as unset', () => {
    expect(ok(G, { MLB_HAPROXY_CONFIG: '', MLB_STRICT_MODE: ' ' })).toMatchObject({
      haproxyConfig: '/etc/haproxy/haproxy.cfg',
      strictMode: false,
    });
  });

  it('falls back to DCOS_SERVICE_ACCOUNT_CREDENTIAL like upstream', () => {
    expect(ok(G, { DCOS_SERVICE_ACCOUNT_CREDENTIAL: '{"uid":"u"}' }).dcosAuthCredentials).toBe('{"uid":"u"}');
    expect(ok(G, { DCOS_SERVICE_ACCOUNT_CREDENTIAL: 'a', MLB_DCOS_AUTH_CREDENTIALS: 'b' }).dcosAuthCredentials).toBe(
      'b',
    );
  });

  it('ignores process.env', () => {
    process.env['MLB_HAPROXY_CONFIG'] = '/from/process/env';
    try {
      expect(ok(G, {}).haproxyConfig).toBe('/etc/haproxy/haproxy.cfg');
    } finally {
      delete process.env['MLB_HAPROXY_CONFIG'];
    }
  });

  it('loses to command-line flags', () => {
    const env = {
      MLB_HAPROXY_CONFIG: '/env.cfg',
      MLB_GROUP: 'from-env',
      MLB_MARATHON: 'http://env:8080',
      MLB_STRICT_MODE: 'true',
      MLB_MAX_BACKOFF: '5',
      MLB_DRY: 'false',
    };
    const o = ok(
      [
        '--haproxy-config',
        '/cli.cfg',
        '--group',
        'cli',
        '-m',
        'http://cli:8080',
        '--no-strict-mode',
        '--max-backoff',
        '9',
        '-d',
      ],
      env,
    );
    expect(o).toMatchObject({
      haproxyConfig: '/cli.cfg',
      group: ['cli'],
      marathon: ['http://cli:8080'],
      strictMode: false,
      maxBackoff: 9,
      dry: true,
    });
    expect(ok([], env)).toMatchObject({ haproxyConfig: '/env.cfg', group: ['from-env'], strictMode: true });
  });
});

describe('validation', () => {
  it('requires --group', () => {
    expect(error([])).toMatch(/--group is required/);
    expect(error(['-m', 'http://m:8080'])).toMatch(/--group/);
  });

  it('wants both serv-port bounds or neither', () => {
    expect(error([...G, '--min-serv-port-ip-per-task', '0'])).toMatch(
      /both --min-serv-port-ip-per-task and --max-serv-port-ip-per-task or neither/,
    );
    expect(error([...G, '--max-serv-port-ip-per-task', '0'])).toMatch(/--min-serv-port-ip-per-task/);
  });

  it('wants min serv port ≤ max serv port', () => {
    expect(error([...G, '--min-serv-port-ip-per-task', '20000', '--max-serv-port-ip-per-task', '10000'])).toMatch(
      /cannot set --min-serv-port-ip-per-task to a higher value than --max-serv-port-ip-per-task/,
    );
    expect(error([...G, '--max-serv-port-ip-per-task', '70000'])).toMatch(/--max-serv-port-ip-per-task.*65535/);
  });

  // Each as /usr/bin/python3's logging takes it.
  it.each([
    '%(process)ld %(message)s',
    '%%(message)s',
    '%(asctime)s %(levelname)-8s %(message)r',
    '%(msecs)03d %(msg)s',
  ])('takes --log-format %s, as Python does', (format) => {
    expect(ok([...G, '--log-format', format]).logFormat).toBe(format);
  });

  it.each([
    ['--max-reload-retries', 'abc', /argument --max-reload-retries: expected an integer, got 'abc'/],
    ['--archive-versions', '1.5', /--archive-versions: expected an integer/],
    ['--reload-interval', '-1', /--reload-interval: must be at least 0/],
    ['--max-reload-retries', '-2', /--max-reload-retries: must be at least -1/],
    ['--lru-cache-capacity', '0', /--lru-cache-capacity: must be greater than 0/],
    ['--max-backoff', '0', /--max-backoff: must be greater than 0/],
    ['--admin-port', '70000', /--admin-port: must be between 0 and 65535/],
    ['--sse-idle-timeout', '0', /--sse-idle-timeout: must be greater than 0/],
    ['--request-timeout', 'soon', /--request-timeout: expected a number, got 'soon'/],
    ['--hard-stop-after', '-5', /--hard-stop-after/],
    ['--debounce-quiet', '-0.1', /--debounce-quiet: must be at least 0/],
    ['--log-level', 'loud', /--log-level: invalid log level 'loud'/],
    // Python's logging refuses these at the start (no field) or fails every record (a traceback).
    ['--log-format', '%(message)', /--log-format: '%' at offset 0 starts no conversion/],
    ['--log-format', '%(asctime)s 100% %(message)s', /--log-format: '% %' at offset 15 is no conversion/],
    ['--log-format', '%(asctime)s 100%d %(message)s', /--log-format: '%d' at offset 15 is no conversion/],
    ['--log-format', 'plain text', /--log-format: no %\(field\) in it/],
    ['--log-format', '%(mesage)s', /--log-format: %\(mesage\) is not a field of a log record/],
    ['--log-format', '%(message)s %s', /--log-format: '%s' at offset 12 is no conversion/],
    ['--log-format', '%(funcName)d %(message)s', /--log-format: '%\(funcName\)d': %\(funcName\) is text/],
    ['--auth-credentials', 'nocolon', /--auth-credentials: expected 'user:pass'/],
    ['--marathon', 'master.mesos:8080', /--marathon\/-m: 'master.mesos:8080' is not an http/],
    ['--marathon', 'http://[::1', /--marathon\/-m: 'http:\/\/\[::1' is not an http/],
    // What follows the colon may be a password cut at a comma: not shown (see above).
    ['--marathon', 'http://master:80a', /--marathon\/-m: 'http:\/\/master:\*\*\*' is not an http.* is no port/],
  ])('rejects %s %s', (flag, value, message) => {
    expect(error([...G, flag, value])).toMatch(message);
  });

  it.each([
    'ftp://ops:s3cret@master',
    'http://ops:s3cret@[::1',
    'https://ops:s3cret@master:99999',
    'http://ops:s3/cret@master',
    'http://ops:s3@cret@master:8080a',
  ])('a --marathon URL it refuses is named without its credentials: %s', (url) => {
    const message = error([...G, '--marathon', url]);
    expect(message).toMatch(/--marathon\/-m: '\w+:\/\/(master|\[::1).*' is not an http/);
    expect(message).not.toContain('s3cret');
    expect(message).not.toContain('ops');
  });

  describe('durations are bounded by the longest a timer waits (Node fires a longer one after 1 ms)', () => {
    const seconds = FLAGS.filter((f) => f.seconds === true);

    it('every number flag is a duration in seconds, and so are the integer ones named in seconds', () => {
      expect(FLAGS.filter((f) => f.kind === 'number' && f.seconds !== true).map((f) => f.flag)).toEqual([]);
      expect(seconds.map((f) => f.flag)).toEqual(expect.arrayContaining(['reload-interval', 'max-backoff']));
    });

    it.each(seconds.map((f) => [f.flag]))('--%s of more than 24.8 days is refused, naming the bound', (flag) => {
      expect(error([...G, `--${flag}`, String(MAX_TIMER_SECONDS + 1)])).toBe(
        `argument --${flag}: must be at most 2147483 seconds (about 24.8 days, the longest a timer waits), got 2147484`,
      );
    });

    it('the bound itself is taken, from flags and from the environment', () => {
      const o = ok([...G, ...seconds.flatMap((f) => [`--${f.flag}`, String(MAX_TIMER_SECONDS)])]);
      expect(o.resyncInterval).toBe(MAX_TIMER_SECONDS);
      expect(o.debounceQuiet).toBe(MAX_TIMER_SECONDS);
      expect(error(G, { MLB_RESYNC_INTERVAL: '3000000' })).toMatch(
        /^MLB_RESYNC_INTERVAL \(--resync-interval\): must be at most 2147483 seconds/,
      );
    });

    it('a number too big to be finite is refused', () => {
      expect(error([...G, '--debounce-quiet', '1e309', '--debounce-max-wait', '1e309'])).toBe(
        "argument --debounce-quiet: expected a finite number, got '1e309'",
      );
    });
  });

  it('rejects bad environment values, naming the variable and the flag', () => {
    expect(error(G, { MLB_STRICT_MODE: 'maybe' })).toBe(
      "MLB_STRICT_MODE (--strict-mode): expected true or false, got 'maybe'",
    );
    expect(error(G, { MLB_MAX_BACKOFF: 'lots' })).toMatch(/^MLB_MAX_BACKOFF \(--max-backoff\): expected an integer/);
  });

  it('wants --dry with --apps-file', () => {
    expect(error([...G, '--apps-file', 'apps.json'])).toBe('--apps-file requires --dry');
    expect(error(G, { MLB_APPS_FILE: '-' })).toBe('--apps-file requires --dry');
  });

  it('wants --debounce-max-wait ≥ --debounce-quiet', () => {
    expect(error([...G, '--debounce-quiet', '10'])).toMatch(
      /--debounce-max-wait \(5\) must not be shorter than --debounce-quiet \(10\)/,
    );
  });

  it('rejects a flag without its value', () => {
    expect(error([...G, '--haproxy-config'])).toBe('argument --haproxy-config: expected one argument');
    expect(error([...G, '--command'])).toBe('argument --command/-c: expected one argument');
    expect(error([...G, '-m'])).toBe('argument --marathon/-m: expected at least one argument');
  });

  it('rejects unknown flags and stray arguments', () => {
    expect(error([...G, '--haproxy-cfg', 'x'])).toMatch(/unrecognized arguments: .*--haproxy-cfg/);
    expect(error(['--group', 'a', 'b'])).toBe('unrecognized arguments: b');
    // yargs' camelCase twin of the name was printed beside it (a new-user test).
    expect(error([...G, '--bogus-flag'])).toBe('unrecognized arguments: --bogus-flag');
    expect(error([...G, '--bogus-flag', '--other-one=1'])).toBe('unrecognized arguments: --bogus-flag --other-one');
  });
});

describe('--help', () => {
  it('is grouped and shows defaults and env var names', () => {
    const text = help(['--help']);
    for (const g of [
      'Marathon',
      'HAProxy',
      'Routing',
      'Service behaviour',
      'Logging',
      'Authentication',
      'Admin',
      'Rendering without Marathon',
    ]) {
      expect(text).toContain(`\n${g}:\n`);
    }
    for (const f of FLAGS) {
      expect(text).toContain(`--${f.flag}`);
      expect(text.replace(/\s+/g, ' ')).toContain(`env: ${envName(f.flag)}`);
    }
    expect(text).toContain('[default: "/etc/haproxy/haproxy.cfg"]');
    expect(text).toContain('[default: 10050]');
    expect(text).toContain('-H, --health-check');
    expect(text).toMatch(/^Usage: marathon-lb /);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('needs no --group and also answers to -h', () => {
    expect(help(['-h'])).toBe(help(['--help']));
  });

  it('prints nothing itself', () => {
    const out = jest.spyOn(process.stdout, 'write');
    const err = jest.spyOn(process.stderr, 'write');
    const log = jest.spyOn(console, 'log');
    const cerr = jest.spyOn(console, 'error');
    try {
      parseArgs(['--help'], {});
      parseArgs(['--nope'], {});
      parseArgs([], {});
      expect(out).not.toHaveBeenCalled();
      expect(err).not.toHaveBeenCalled();
      expect(log).not.toHaveBeenCalled();
      expect(cerr).not.toHaveBeenCalled();
    } finally {
      jest.restoreAllMocks();
    }
  });
});

describe('--longhelp', () => {
  const catalog = JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, 'templates', 'catalog.json'), 'utf8')) as {
    name: string;
    overridable: boolean;
  }[];
  const labels = JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, 'labels.json'), 'utf8')) as {
    name: string;
    perServicePort: boolean;
  }[];
  const text = help(['--longhelp']);

  it('needs no --group and includes the overview and usage', () => {
    expect(text).toMatch(/^# marathon-lb\n### Overview\n/);
    expect(text).toContain('```\nUsage: marathon-lb --group NAME [options]');
    expect(text).toContain('## Templates');
    expect(text).toContain('## Other Labels');
  });

  it('documents every template in catalog.json', () => {
    expect(catalog.length).toBeGreaterThan(50);
    for (const t of catalog) {
      expect(text).toContain(`## \`HAPROXY_${t.name}\`\n  *${t.overridable ? 'Overridable per app' : 'Global'}*`);
      expect(text).toContain(`**Default template for \`HAPROXY_${t.name}\`:**`);
      if (t.overridable) expect(text).toContain(`"HAPROXY_0_${t.name}": "`);
    }
  });

  it('documents every label in labels.json', () => {
    for (const l of labels) {
      const name = l.perServicePort ? `HAPROXY_{n}_${l.name}` : `HAPROXY_${l.name}`;
      expect(text).toContain(catalog.some((t) => t.name === l.name) ? `HAPROXY_{n}_${l.name}` : `## \`${name}\``);
    }
    expect(text).toContain('Specified as `HAPROXY_{n}_GROUP` or `HAPROXY_GROUP`.');
    expect(text).toContain('## `HAPROXY_DEPLOYMENT_GROUP`\n  *per app*');
  });

  it('shows defaults as the Python {x} text users write', () => {
    expect(text).toContain('```\n  use_backend {backend} if {{ ssl_fc_sni {hostname} }}\n```');
    expect(text).toContain('"HAPROXY_0_BACKEND_HEAD": "\\nbackend {backend}\\n  balance {balance}\\n  mode {mode}\\n"');
    // HAPROXY_HEAD: literal braces kept (not a formatted template), options and lua dir filled in.
    expect(text).toContain(
      '  timeout tarpit          60s\n  option            dontlognull\n' +
        '  option            http-server-close\n  option            redispatch\nlisten stats\n',
    );
    expect(text).toContain('  lua-load /marathon-lb/getpids.lua\n');
    expect(text).toContain('http-request use-service prometheus-exporter if { path /metrics }');
    expect(text).not.toMatch(/\{\{(backend|luaDir|globalDefaultOptions)\}\}/);
  });

  it('is also reachable through MLB_LONGHELP', () => {
    expect(help([], { MLB_LONGHELP: 'true' })).toBe(text);
  });

  it('finds config/ from the source tree', () => {
    expect(findConfigDir(path.resolve(__dirname, '../../src/cli'))).toBe(CONFIG_DIR);
    expect(findConfigDir(path.resolve(__dirname, '../../dist/src/cli'))).toBe(CONFIG_DIR);
  });

  it('converts mustache to Python format text', () => {
    expect(mustacheToPythonFormat('a {{x}} { b } {{ y }}')).toBe('a {x} {{ b }} {y}');
  });
});

describe('--ssl-certs as a list', () => {
  test.each([
    [['--ssl-certs', '/a.pem,/b.pem'], {}],
    [['--ssl-certs', '/a.pem /b.pem'], {}],
    [['--ssl-certs', ' /a.pem , /b.pem,'], {}],
    [[], { MLB_SSL_CERTS: '/a.pem /b.pem' }],
    [[], { MLB_SSL_CERTS: '/a.pem,\n/b.pem' }],
  ])('%j %j: each certificate its own crt', (argv, env) => {
    const parsed = parseArgs(['--group', 'external', '--haproxy-version', '2.6', ...argv], env);
    if (!parsed.ok) throw new Error('not parsed');
    expect(renderOptions(parsed.value, env).sslCerts).toEqual(['/a.pem', '/b.pem']);
    expect(modelOptions(parsed.value, env).operatorCerts).toEqual(['/a.pem', '/b.pem']);
  });
  test('none given: the default certificate', () => {
    const parsed = parseArgs(['--group', 'external', '--haproxy-version', '2.6', '--ssl-certs', ' , '], {});
    if (!parsed.ok) throw new Error('not parsed');
    expect(renderOptions(parsed.value, {}).sslCerts).toEqual(['/etc/ssl/cert.pem']);
  });
});

describe('MLB_* variables no flag reads', () => {
  // A misspelled setting was ignored without a word: strict mode off, the default Marathon asked.
  test('each is named, with the flag variables it is near', () => {
    expect(
      unknownSettings({ MLB_STRICT: 'true', MLB_MARATHON_URL: 'http://m:8080', MLB_GROUP: 'external', PATH: '/bin' }),
    ).toEqual([
      "MLB_MARATHON_URL is not a setting of marathon-lb and is ignored (did you mean MLB_MARATHON?); each flag's variable is MLB_ and its name (--help lists them)",
      "MLB_STRICT is not a setting of marathon-lb and is ignored (did you mean MLB_STRICT_MODE?); each flag's variable is MLB_ and its name (--help lists them)",
    ]);
  });
  test("the flags' own variables and the image's MLB_ROOT are not", () => {
    expect(unknownSettings({ MLB_ROOT: '/marathon-lb', MLB_STRICT_MODE: 'true', MLB_HAPROXY_CONFIG: '/x' })).toEqual(
      [],
    );
  });
});
