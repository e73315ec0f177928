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
    `marathon-lb: cannot fetch apps from Marathon: --marathon-auth-credential-file ${missing}: ENOENT\n`,
  );
});
