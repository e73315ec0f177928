import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Simulator } from '../../src/simulator';
import { CLI } from '../support/paths';
import { tempDir } from '../support/render';

// `marathon-lb --dry` without --apps-file reads the apps from Marathon: the logger and the Marathon
// client load only then (wiring/marathonClient.ts), so this runs the real process against the simulator.

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The CLI as its own process, asynchronously: the simulator answers from this one meanwhile. */
function cli(args: readonly string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

let sim: Simulator;
let dir: string;
beforeAll(async () => {
  sim = await Simulator.start({
    apps: [0, 1].map((i) => ({
      id: `/fetched/app-${i}`,
      instances: 2,
      labels: { HAPROXY_GROUP: 'external' },
      portDefinitions: [{ port: 10300 + i }],
    })),
  });
  dir = tempDir();
});
afterAll(async () => {
  await sim.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const base = (): string[] => [
  '--dry',
  '--marathon',
  sim.url,
  '--group',
  'external',
  '--haproxy-version',
  '2.6',
  '--haproxy-config',
  path.join(dir, 'haproxy.cfg'),
];

test('--dry fetches the apps from Marathon and prints their config', async () => {
  const r = await cli(base());
  expect(r.code).toBe(0);
  // The one log line, as marathon-lb's (--log-level defaults to DEBUG there too).
  expect(r.stderr).toMatch(/^\S+ \S+ marathon_lb: GET http:\/\/127\.0\.0\.1:\d+\/v2\/apps\?embed=apps\.tasks\n$/);
  for (const i of [0, 1]) expect(r.stdout).toContain(`\nbackend fetched_app-${i}_1030${i}\n`);
  expect(r.stdout.split('\n').filter((l) => /^\s+server \S+ \S+:\d+/.test(l))).toHaveLength(4);
});

test('a credentials file it cannot read: one message naming the flag, exit 2, nothing printed', async () => {
  const missing = path.join(dir, 'no-such-credentials');
  const r = await cli([...base(), '--marathon-auth-credential-file', missing]);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe(
    `marathon-lb: cannot fetch apps from Marathon: --marathon-auth-credential-file ${missing}: no such file or directory (ENOENT)\n`,
  );
});

describe("credentials in marathon-lb's order: the file, else --auth-credentials, else DC/OS", () => {
  let locked: Simulator;
  beforeAll(async () => {
    locked = await Simulator.start({
      apps: [
        { id: '/locked', instances: 1, labels: { HAPROXY_GROUP: 'external' }, portDefinitions: [{ port: 10310 }] },
      ],
      auth: { basic: 'alice:s3cr:et' },
    });
  });
  afterAll(() => locked.close());
  const lockedBase = (): string[] => [...base().slice(0, 2), locked.url, ...base().slice(3)];
  const file = (name: string, text: string): string => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };

  test('a good credential file wins over a wrong --auth-credentials (both flags of a migrated command line)', async () => {
    const good = file('good-credentials', 'alice:s3cr:et\n');
    const r = await cli([...lockedBase(), '--marathon-auth-credential-file', good, '--auth-credentials', 'wrong:x']);
    expect(r.stderr).not.toContain('401');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\nbackend locked_10310\n');
  });

  test('--auth-credentials wins over a DC/OS service account', async () => {
    const account = JSON.stringify({
      uid: 'mlb',
      private_key: 'x',
      login_endpoint: `${locked.url}/acs/api/v1/auth/login`,
    });
    const r = await cli([...lockedBase(), '--auth-credentials', 'alice:s3cr:et', '--dcos-auth-credentials', account]);
    expect(r.stderr).not.toContain('DC/OS');
    expect(r.code).toBe(0);
  });

  test('a credential file with an empty first line means no authentication, as marathon-lb', async () => {
    const empty = file('empty-credentials', '\n');
    // Nothing after it is tried: not even a DC/OS account that would not parse.
    const r = await cli([...base(), '--marathon-auth-credential-file', empty, '--dcos-auth-credentials', '{not json']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\nbackend fetched_app-0_10300\n');
  });
});
