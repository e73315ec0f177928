/**
 * A Marathon HTTP health check's path is printed after `option httpchk GET`
 * (HAPROXY_BACKEND_HTTP_HEALTHCHECK_OPTIONS), where HAProxy takes a URI and a version. Each path below
 * is rendered by `--dry`, and the same line is checked by the installed `haproxy -c` in a config of its
 * own: the app is served exactly when HAProxy takes it. A path with one blank (`/health HTTP/1.1`)
 * used to leave its app out though marathon-lb served it (found by a differential check).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { describeWithHaproxy, expectServedAsHaproxyTakes, startHaproxy } from '../support/haproxy';
import { listenOnLoopback } from '../support/listen';
import { dryRun, tempDir } from '../support/render';
import { waitFor } from '../support/wait';

const PATHS = [
  '/',
  '/health',
  '',
  ' ',
  '/h z',
  '/health HTTP/1.1',
  '/a  b',
  '/a\tb',
  ' /a',
  '/a ',
  '/a b c',
  '/a b c d',
];

/** `--dry` of one app, /h on service port 10001, whose HTTP health check has `checkPath`; its file in `dir`. */
function dryWithPath(dir: string, checkPath: string, check: Record<string, unknown> = {}): ReturnType<typeof dryRun> {
  const apps = path.join(dir, 'apps.json');
  const app = {
    id: '/h',
    labels: { HAPROXY_GROUP: 'external' },
    portDefinitions: [{ port: 10001 }],
    healthChecks: [{ protocol: 'HTTP', portIndex: 0, path: checkPath, ...check }],
    tasks: [
      { id: 'h.1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING', healthCheckResults: [{ alive: true }] },
    ],
  };
  fs.writeFileSync(apps, JSON.stringify({ apps: [app] }));
  return dryRun(['--apps-file', apps, '--group', 'external']);
}

describeWithHaproxy('a health check path is served when haproxy -c takes its httpchk line, and only then', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each(PATHS)('%j', async (checkPath) => {
    const run = await dryWithPath(dir, checkPath);
    const served = run.stdout.includes('\nbackend h_10001\n');
    if (served) expect(run.stdout).toContain(`\n  option  httpchk GET ${checkPath}\n`);
    else expect(run.stderr).toContain('field healthChecks[0].path: must be a URI');

    await expectServedAsHaproxyTakes(dir, served, { backend: `  option  httpchk GET ${checkPath}\n` });
  });
});

describeWithHaproxy("a health check's failure count is served when haproxy -c takes its `fall`, and only then", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Marathon takes any count; it was refused past 2147483 (a bound of seconds), found by a fuzz.
  test.each([0, 3, 2147484, 10_000_000, 2147483646, 2147483647])('%d', async (failures) => {
    const run = await dryWithPath(dir, '/', { maxConsecutiveFailures: failures });
    const served = run.stdout.includes('\nbackend h_10001\n');
    if (served) expect(run.stdout).toMatch(new RegExp(` fall ${failures + 1}\n`));
    else expect(run.stderr).toContain('field healthChecks[0].maxConsecutiveFailures: must be an integer');
    await expectServedAsHaproxyTakes(dir, served, { backend: `  default-server fall ${failures + 1}\n` });
  });
});

test('a failure count past what HAProxy holds is left out: it would take the count wrapped around (2^40 + 1 as 1)', async () => {
  const dir = tempDir();
  try {
    const run = await dryWithPath(dir, '/', { maxConsecutiveFailures: 2 ** 40 });
    expect(run.stderr).toContain('field healthChecks[0].maxConsecutiveFailures: must be an integer in 0..2147483646');
    expect(run.stdout).not.toContain('backend h_10001');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.each([3_000_000, 2 ** 40])(
  'a grace period of %d s is served as any other: no built-in template prints it (Marathon takes any)',
  async (grace) => {
    const dir = tempDir();
    try {
      const plain = await dryWithPath(dir, '/');
      const long = await dryWithPath(dir, '/', { gracePeriodSeconds: grace });
      expect(long.stderr).toBe('');
      expect(long.stdout).toBe(plain.stdout);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

test.each([
  ['a line break (it would start a config line)', '/h\n  bind *:82'],
  ['a double quote (HAProxy would expand ${VAR} inside)', '/h "${HOME}"'],
  ['a backslash (HAProxy unescapes it)', '/h HTTP/1.1\\r\\nHost:\\ x'],
  ['a # (the rest of the line would be a comment)', '/h #x'],
])('a health check path with %s leaves its app out, though HAProxy might take the line', async (_why, checkPath) => {
  const dir = tempDir();
  try {
    const run = await dryWithPath(dir, checkPath);
    expect(run.stderr).toContain('field healthChecks[0].path: must be a URI');
    expect(run.stdout).not.toContain('backend h_10001');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// An audit: a path of 200 000 characters was served, and HAProxy, which cannot build such a check
// request in its buffer, kept the task's server DOWN for good while Marathon said it was healthy.
describeWithHaproxy('a health check path HAProxy cannot send is left out; the longest served is sent', () => {
  let dir: string;
  let closeTaskServer: (() => Promise<void>) | undefined;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(async () => {
    await closeTaskServer?.();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('16 000 characters are served and the check passes on a real HAProxy; 16 001 are left out, named', async () => {
    const longest = `/${'L'.repeat(15_999)}`;
    const over = await dryWithPath(dir, `${longest}L`);
    expect(over.stdout).not.toContain('\nbackend h_10001\n');
    expect(over.stderr).toContain(
      'field healthChecks[0].path: is 16001 characters long, more than 16000: HAProxy builds its check request in one buffer',
    );
    const served = await dryWithPath(dir, longest);
    expect(served.stdout).toContain(`\n  option  httpchk GET ${longest}\n`);

    const checked: string[] = [];
    const taskServer = http.createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
      checked.push(req.url ?? '');
      res.end('ok');
    });
    const { port, close } = await listenOnLoopback(taskServer);
    closeTaskServer = close;
    const haproxy = await startHaproxy({
      config: [
        'defaults',
        '  mode http',
        '  timeout connect 1s',
        '  timeout client 5s',
        '  timeout server 5s',
        'backend h',
        `  option  httpchk GET ${longest}`,
        `  server s1 127.0.0.1:${port} check inter 100`,
        '',
      ].join('\n'),
    });
    try {
      await waitFor('a check', () => checked.length > 0, 5000);
      expect(checked[0]).toBe(longest);
    } finally {
      await haproxy.stop();
    }
  });
});
