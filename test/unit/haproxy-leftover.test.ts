import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from '../../src/cli/args';
import { haproxyEnvironment } from '../../src/haproxy/env';
import { serviceSettings } from '../../src/wiring/parts';
import {
  environmentDifference,
  findMasters,
  isOurHaproxy,
  type ProcessInfo,
  type ProcessTable,
} from '../../src/haproxy/leftover';

describe('haproxyEnvironment: HAProxy gets no secret of the controller', () => {
  const env = {
    PATH: '/usr/bin',
    HOST: '10.0.0.5',
    PORT0: '10000',
    MY_BACKEND_NAME: 'blue',
    HAPROXY_HEAD: 'global\\n',
    MARATHON_LB_PID_FILE: '/run/mlb.pid',
    MLB_GROUP: 'external',
    MLB_SSE: 'true',
    MLB_SSL_CERTS: '/etc/ssl/cert.pem',
    MLB_ADMIN_TOKEN: 'tok',
    MLB_AUTH_CREDENTIALS: 'user:pass',
    MLB_DCOS_AUTH_CREDENTIALS: '{}',
    MLB_MARATHON_AUTH_CREDENTIAL_FILE: '/secret/file',
    DCOS_SERVICE_ACCOUNT_CREDENTIAL: '{"uid":"x"}',
    MARATHON_USER: 'u',
    MARATHON_PASSWORD: 'p',
    HAPROXY_SSL_CERT: 'pem',
    HAPROXY_SSL_CERT7: 'pem',
    AWS_SECRET_ACCESS_KEY: 's',
    GITHUB_TOKEN: 't',
    DB_PASSWORD: 'p',
    SIGNING_KEY: 'k',
    INNOCENT_LOOKING: '-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n',
    ALIAS_OF_CREDS: 'marathon:hunter22',
    UNSET: undefined,
  };

  it('drops MLB_* values (among them the auth-related ones), DC/OS and image secrets, secret-named variables, private keys and held secrets', () => {
    const r = haproxyEnvironment(env, ['marathon:hunter22\n', undefined, 'abc']);
    expect(r.env).toEqual({
      PATH: '/usr/bin',
      HOST: '10.0.0.5',
      PORT0: '10000',
      MY_BACKEND_NAME: 'blue',
      HAPROXY_HEAD: 'global\\n',
      MARATHON_LB_PID_FILE: '/run/mlb.pid',
    });
    expect(r.dropped).toEqual([
      'ALIAS_OF_CREDS',
      'AWS_SECRET_ACCESS_KEY',
      'DB_PASSWORD',
      'DCOS_SERVICE_ACCOUNT_CREDENTIAL',
      'GITHUB_TOKEN',
      'HAPROXY_SSL_CERT',
      'HAPROXY_SSL_CERT7',
      'INNOCENT_LOOKING',
      'MARATHON_PASSWORD',
      'MARATHON_USER',
      'MLB_ADMIN_TOKEN',
      'MLB_AUTH_CREDENTIALS',
      'MLB_DCOS_AUTH_CREDENTIALS',
      'MLB_GROUP',
      'MLB_MARATHON_AUTH_CREDENTIAL_FILE',
      'MLB_SSE',
      'MLB_SSL_CERTS',
      'SIGNING_KEY',
    ]);
  });

  it('a held secret shorter than 4 characters does not blank common values', () => {
    expect(haproxyEnvironment({ A: '1', B: 'on' }, ['1', 'on']).env).toEqual({ A: '1', B: 'on' });
  });

  // Found by an audit: only whole secret values were matched; a password alone, or a URL, reached HAProxy.
  it('the parts of the secrets a variable may hold alone: a password, a URL with credentials, a long secret inside a value', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlb-secret-parts-'));
    try {
      const file = path.join(dir, 'creds');
      fs.writeFileSync(file, 'fileuser:FilePassDDD444\n');
      const parsed = parseArgs(
        [
          '--group',
          'external',
          '-m',
          'http://u:Url%2CPassAAA111@10.0.0.1:8080',
          '--auth-credentials',
          'admin:FlagPassBBB222',
          '--marathon-auth-credential-file',
          file,
        ],
        {},
      );
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
      const { secrets } = serviceSettings(parsed.value, {});
      const r = haproxyEnvironment(
        {
          FLAG_PASS: 'FlagPassBBB222',
          FILE_PASS: 'FilePassDDD444',
          URL_PASS: 'Url,PassAAA111',
          MARATHON_URL: 'http://u:Url%2CPassAAA111@10.0.0.1:8080',
          OTHER_URL: 'https://someone:elsewhere@example.com/x', // not ours, yet a password in a URL
          INSIDE: 'opts=--pw FlagPassBBB222 --x',
          PLAIN_URL: 'http://10.0.0.1:8080',
          USER_ONLY: 'http://user@example.com/',
          SHORT_INSIDE: 'admin-panel', // "admin" is a user name, not held; short secrets count whole only
        },
        secrets,
      );
      expect(r.env).toEqual({
        PLAIN_URL: 'http://10.0.0.1:8080',
        USER_ONLY: 'http://user@example.com/',
        SHORT_INSIDE: 'admin-panel',
      });
      expect(haproxyEnvironment({ A: 'x-pass1-y', B: 'pass1' }, ['pass1']).env).toEqual({ A: 'x-pass1-y' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('leftover HAProxy masters', () => {
  const id = {
    configPath: '/run/mlb/haproxy.cfg',
    masterSocketPath: '/run/mlb/master.sock',
    pidFile: '/run/mlb/haproxy.pid',
  };
  const ours = [
    '/usr/sbin/haproxy',
    '-W',
    '-S',
    '/run/mlb/master.sock,mode,600',
    '-f',
    '/run/mlb/haproxy.cfg',
    '-p',
    '/run/mlb/haproxy.pid',
  ];

  it('isOurHaproxy: an HAProxy in master-worker mode with our socket or our config', () => {
    expect(isOurHaproxy({ argv: ours }, id)).toBe(true);
    expect(
      isOurHaproxy({ argv: ['haproxy', '-W', '-f', '/run/mlb/../mlb/haproxy.cfg', '-p', '/run/mlb/haproxy.pid'] }, id),
    ).toBe(true);
    // The distribution's own HAProxy on the same config file: not ours.
    expect(
      isOurHaproxy(
        {
          argv: [
            '/usr/sbin/haproxy',
            '-Ws',
            '-f',
            '/run/mlb/haproxy.cfg',
            '-p',
            '/run/haproxy.pid',
            '-S',
            '/run/haproxy-master.sock',
          ],
        },
        id,
      ),
    ).toBe(false);
    expect(isOurHaproxy({ argv: ['haproxy', '-Ws', '-S', '/run/mlb/master.sock'] }, id)).toBe(true);
    expect(isOurHaproxy({ argv: ['haproxy', '-f', '/run/mlb/haproxy.cfg'] }, id)).toBe(false); // not master-worker
    expect(
      isOurHaproxy({ argv: ['/usr/sbin/haproxy', '-W', '-S', '/other/master.sock', '-f', '/other.cfg'] }, id),
    ).toBe(false);
    expect(isOurHaproxy({ argv: ['/bin/sleep', '-W', '-f', '/run/mlb/haproxy.cfg'] }, id)).toBe(false);
    expect(isOurHaproxy({ argv: [] }, id)).toBe(false);
  });

  it('isOurHaproxy: an HAProxy under another name, known by the file it runs or as our --haproxy-bin', () => {
    const renamed = ['/opt/lb/proxy', ...ours.slice(1)];
    // A symlink (or an HAProxy that was upgraded since it started): /proc/<pid>/exe names the file.
    expect(isOurHaproxy({ argv: renamed, exe: '/usr/sbin/haproxy' }, id)).toBe(true);
    expect(isOurHaproxy({ argv: renamed, exe: '/usr/sbin/haproxy (deleted)' }, id)).toBe(true);
    // A copy under another name, while it is the controller's --haproxy-bin.
    expect(isOurHaproxy({ argv: renamed, exe: '/opt/lb/proxy' }, { ...id, binary: '/opt/lb/proxy' })).toBe(true);
    expect(isOurHaproxy({ argv: renamed }, { ...id, binary: '/opt/lb/proxy' })).toBe(true);
    // Not an HAProxy by any of these: left alone, whatever its flags.
    expect(isOurHaproxy({ argv: renamed, exe: '/opt/lb/proxy' }, id)).toBe(false);
    expect(isOurHaproxy({ argv: ['/bin/sleep', ...ours.slice(1)], exe: '/usr/bin/sleep' }, id)).toBe(false);
  });

  const table = (procs: ProcessInfo[], environ: Record<number, Record<string, string>> = {}): ProcessTable => ({
    pids: async () => procs.map((p) => p.pid),
    info: async (pid) => procs.find((p) => p.pid === pid),
    environ: async (pid) => environ[pid] ?? {},
  });

  it('finds masters (not their workers), never the pid of an unrelated process, zombies not counted', async () => {
    const t = table([
      { pid: 100, ppid: 1, state: 'S', argv: ours },
      { pid: 101, ppid: 100, state: 'S', argv: ours }, // its worker
      { pid: 200, ppid: 1, state: 'S', argv: ours }, // a second, orphaned master (pid file gone)
      { pid: 300, ppid: 1, state: 'S', argv: ['/usr/bin/postgres', '-D', '/var/lib/pg'] }, // what a stale pid file names
      { pid: 400, ppid: 1, state: 'Z', argv: ours },
      { pid: 500, ppid: 1, state: 'S', argv: ['/usr/sbin/haproxy', '-W', '-f', '/elsewhere.cfg'] },
      {
        pid: 600,
        ppid: 1,
        state: 'S',
        argv: ['/usr/sbin/haproxy', '-Ws', '-f', '/run/mlb/haproxy.cfg', '-p', '/run/haproxy.pid'],
      }, // systemd's
      {
        pid: 601,
        ppid: 600,
        state: 'S',
        argv: ['/usr/sbin/haproxy', '-Ws', '-f', '/run/mlb/haproxy.cfg', '-p', '/run/haproxy.pid'],
      },
    ]);
    const found = await findMasters(t, id, { pidFilePid: 300, socketMasterPid: 100 });
    expect(found.masters).toEqual([100, 200]);
    expect(found.rejected).toEqual([
      'pid file names pid 300, which is not an HAProxy master of this controller (/usr/bin/postgres -D /var/lib/pg): left alone',
    ]);
    // Not ours to stop, nor to start beside (takeover.ts refuses to start).
    expect(found.strangers).toEqual([
      'HAProxy 600 (/usr/sbin/haproxy -Ws -f /run/mlb/haproxy.cfg -p /run/haproxy.pid)',
    ]);
    expect((await findMasters(t, id, { self: 200 })).masters).toEqual([100]);
  });

  it("an HAProxy on our config and pid file but not our socket is ours only if a controller started it (the distribution's service is not)", async () => {
    const distro = [
      '/usr/sbin/haproxy',
      '-Ws',
      '-f',
      '/run/mlb/haproxy.cfg',
      '-p',
      '/run/mlb/haproxy.pid',
      '-S',
      '/run/haproxy-master.sock',
    ];
    const procs = [{ pid: 700, ppid: 1, state: 'S', argv: distro }];
    const bySystemd = await findMasters(table(procs, { 700: { PATH: '/bin' } }), id, { pidFilePid: 700 });
    expect(bySystemd.masters).toEqual([]);
    expect(bySystemd.strangers).toEqual([`HAProxy 700 (${distro.join(' ')})`]);
    const byController = await findMasters(
      table(procs, { 700: { MARATHON_LB_HAPROXY_CONFIG: '/run/mlb/haproxy.cfg' } }),
      id,
      {
        pidFilePid: 700,
      },
    );
    expect(byController).toMatchObject({ masters: [700], strangers: [] });
  });

  it('environmentDifference ignores what HAProxy sets itself', () => {
    const running = {
      PATH: '/bin',
      HOST: 'a',
      HAPROXY_MWORKER: '1',
      HAPROXY_PROCESSES: '|x',
      HAPROXY_CFGFILES: 'c',
      HAPROXY_LOCALPEER: 'vm',
      _: '/usr/bin/node',
    };
    expect(environmentDifference(running, { PATH: '/bin', HOST: 'a' })).toEqual([]);
    expect(environmentDifference(running, { PATH: '/bin', HOST: 'b', NEW: '1' })).toEqual(['HOST', 'NEW']);
  });
});

// Found by an attack: `--haproxy-master-socket run/master.sock` reached HAProxy's -S, which takes an
// address ("missing port specification"), and HAProxy never started.
test('a relative --haproxy-master-socket is made absolute for HAProxy and the controller alike', () => {
  const parsed = parseArgs(['--group', 'external', '--haproxy-master-socket', 'run/master.sock'], {});
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.error));
  expect(serviceSettings(parsed.value, {}).process.masterSocketPath).toBe(path.join(process.cwd(), 'run/master.sock'));
});
