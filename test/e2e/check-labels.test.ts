/**
 * `marathon-lb check-labels` as app owners run it: the built CLI (npm run build), a file or
 * standard input, the service's flags, a real HAProxy for `haproxy -c`. Exit codes and output.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeWithHaproxy } from '../support/haproxy';
import { CLI } from '../support/paths';
import { tempDir } from '../support/render';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const dir = tempDir('mlb-check-labels-e2e-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function cli(args: readonly string[], input?: string, env: Record<string, string> = {}): Run {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} not built: run npm run build first`);
  const r = spawnSync(process.execPath, [CLI, ...args], {
    input,
    encoding: 'utf8',
    timeout: 60_000,
    // No certificate at the default path: check-labels makes one as the service does.
    env: { PATH: process.env.PATH ?? '', MARATHON_LB_DEFAULT_SSL_CERT: path.join(dir, 'absent.pem'), ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, app: unknown): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, typeof app === 'string' ? app : JSON.stringify(app, null, 2));
  return f;
}

/** As given to `dcos marathon app add` (Marathon 1.5+ networking). */
const app = (labels: Record<string, string>): unknown => ({
  id: '/shop',
  instances: 2,
  networks: [{ mode: 'container/bridge' }],
  container: {
    type: 'DOCKER',
    docker: { image: 'nginx:1.25' },
    portMappings: [{ containerPort: 80, hostPort: 0, servicePort: 0 }],
  },
  labels: { HAPROXY_GROUP: 'external', ...labels },
});

describeWithHaproxy('check-labels through the built CLI', (haproxy) => {
  const bin = ['--haproxy-bin', haproxy.bin];

  it('a good app: exit 0, served, haproxy -c accepts', () => {
    const r = cli([
      'check-labels',
      '--app-file',
      file('good.json', app({ HAPROXY_0_VHOST: 'shop.example.com' })),
      ...bin,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('port index 0 (service port 10000): served by backend shop_10000');
    expect(r.stdout).toContain('haproxy -c accepts the config holding only this app');
    expect(r.code).toBe(0);
  });

  it('from standard input with the service flags (--group, --strict-mode): not selected is exit 1 with the reason', () => {
    const r = cli(
      ['check-labels', '--app-file', '-', '--group', 'external', '--strict-mode', ...bin],
      JSON.stringify(app({})),
    );
    expect(r.stdout).toContain('NOT SELECTED — --strict-mode serves only ports with HAPROXY_0_ENABLED=true');
    expect(r.code).toBe(1);
  });

  it('a label the model refuses and one only HAProxy rejects: both named with their fix, exit 1', () => {
    const r = cli([
      'check-labels',
      '--app-file',
      file('bad.json', {
        ...(app({
          HAPROXY_0_VHOST: 'shop.example.com',
          HAPROXY_0_BACKEND_HEAD: 'backend {backend}\n  balance {balance}\n  mode {mode}\n  timeout serverr 5s\n',
        }) as object),
        container: {
          type: 'DOCKER',
          docker: { image: 'nginx' },
          portMappings: [{ containerPort: 80 }, { containerPort: 81 }],
        },
        labels: {
          HAPROXY_GROUP: 'external',
          HAPROXY_0_VHOST: 'shop.example.com',
          HAPROXY_0_BACKEND_HEAD: 'backend {backend}\n  balance {balance}\n  mode {mode}\n  timeout serverr 5s\n',
          HAPROXY_1_PORT: '0',
        },
      }),
      ...bin,
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('problem (port index 1, label HAPROXY_1_PORT): port 0 is outside 1..65535');
    expect(r.stdout).toContain('problem (port index 0, label HAPROXY_0_BACKEND_HEAD), rejected by haproxy -c');
    expect(r.stdout).toMatch(/haproxy\.cfg line \d+: timeout serverr 5s/);
    expect(r.stdout).toMatch(/result: NOT SERVED \(2 problem\(s\)\)\n$/);
  });

  it('--json: the same result as data', () => {
    const r = cli([
      'check-labels',
      '--app-file',
      file('json.json', app({ HAPROXY_0_VHOST: 'a..b #c' })),
      '--json',
      ...bin,
    ]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as { appId: string; exitCode: number; problems: { label: string }[] };
    expect([j.appId, j.exitCode, j.problems.map((p) => p.label)]).toEqual(['/shop', 1, ['HAPROXY_0_VHOST']]);
  });

  it('standard output that cannot be written (/dev/full): exit 1, plain or --json, as --dry', () => {
    const good = file('full.json', app({ HAPROXY_0_VHOST: 'shop.example.com' }));
    const full = fs.openSync('/dev/full', 'w');
    try {
      const toFull = (args: readonly string[]): Run => {
        const r = spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
        return { code: r.status, stdout: '', stderr: r.stderr };
      };
      for (const args of [
        ['check-labels', '--app-file', good, ...bin],
        ['check-labels', '--app-file', good, '--json', ...bin],
      ]) {
        const r = toFull(args);
        expect([r.code, r.stderr]).toEqual([1, 'marathon-lb: cannot write standard output: ENOSPC\n']);
      }
    } finally {
      fs.closeSync(full);
    }
  });
});

describe('check-labels: input and environment errors through the built CLI', () => {
  it('malformed JSON: exit 2, one line on stderr, no stack trace', () => {
    const r = cli(['check-labels', '--app-file', file('broken.json', '{"id": "/x", "labels": {')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^marathon-lb check-labels: .*broken\.json is not valid JSON: .+\n$/);
  });

  it('a missing --app-file and an unknown flag: exit 2', () => {
    expect(cli(['check-labels']).code).toBe(2);
    const r = cli(['check-labels', '--app-file', 'x.json', '--bogus-flag']);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('unrecognized arguments: --bogus-flag')]);
  });

  it('without HAProxy: the model checks run, exit 3 says haproxy -c could not', () => {
    const r = cli([
      'check-labels',
      '--app-file',
      file('nohaproxy.json', app({})),
      '--haproxy-bin',
      path.join(dir, 'no-haproxy'),
    ]);
    expect(r.stdout).toContain('served by backend shop_10000');
    expect(r.stdout).toContain('haproxy -c not run: HAProxy is not installed here');
    expect(r.code).toBe(3);
  });

  it('the service command line is unchanged: a word other than a subcommand is still an error', () => {
    const r = cli(['check-label', '--group', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unrecognized arguments: check-label');
  });
});
