import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { CLI } from '../support/paths';
import { dryRun, tempDir } from '../support/render';

const app = (id: string, labels: Record<string, string>, port: number, taskPort = 31000) => ({
  id,
  labels: { HAPROXY_GROUP: 'external', ...labels },
  portDefinitions: [{ port }],
  tasks: [{ id: `${id.slice(1)}.1`, host: '10.0.0.1', ports: [taskPort], state: 'TASK_RUNNING' }],
});

async function renderApps(apps: unknown[], extra: string[] = []) {
  const dir = tempDir();
  const file = path.join(dir, 'apps.json');
  fs.writeFileSync(file, JSON.stringify({ apps }));
  try {
    return await dryRun(['--apps-file', file, '--group', 'external', ...extra]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('an app whose labels would break the config is left out, the rest still renders', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['a bad name after a blank in VHOST', { HAPROXY_0_VHOST: 'a.example.com b"c.example.com' }, /HAPROXY_0_VHOST/],
    [
      'a network after a blank that HAProxy refuses',
      { HAPROXY_0_BACKEND_NETWORK_ALLOWED_ACL: '10.1 256.1' },
      /NETWORK/,
    ],
    ['a blank inside MODE', { HAPROXY_0_MODE: 'ht tp' }, /HAPROXY_0_MODE.*unknown mode/],
    ['newline in VHOST', { HAPROXY_0_VHOST: 'a.example.com\nbind *:1' }, /HAPROXY_0_VHOST/],
    ['non-numeric PORT', { HAPROXY_0_PORT: '80a' }, /HAPROXY_0_PORT.*not an integer/],
    ['PORT out of range', { HAPROXY_0_PORT: '70000' }, /HAPROXY_0_PORT.*outside/],
    ['non-numeric BACKEND_WEIGHT', { HAPROXY_0_BACKEND_WEIGHT: 'heavy' }, /HAPROXY_0_BACKEND_WEIGHT/],
    ['unknown MODE', { HAPROXY_0_MODE: 'udp' }, /HAPROXY_0_MODE.*unknown mode/],
    ['unknown BALANCE', { HAPROXY_0_BALANCE: 'fastest' }, /HAPROXY_0_BALANCE/],
    ['malformed AUTH', { HAPROXY_0_AUTH: 'realm-only' }, /HAPROXY_0_AUTH/],
    ['newline in PATH', { HAPROXY_0_PATH: '/a\n  bind *:1' }, /HAPROXY_0_PATH/],
    ['space in BIND_ADDR', { HAPROXY_0_BIND_ADDR: '127.0.0.1 foo' }, /HAPROXY_0_BIND_ADDR/],
    [
      'unknown placeholder in a template label',
      { HAPROXY_0_BACKEND_HEAD: '\nbackend {backend}\n  balance {nope}\n' },
      /HAPROXY_0_BACKEND_HEAD uses \{nope\}/,
    ],
    [
      'unbalanced brace in a template label',
      { HAPROXY_0_FRONTEND_HEAD: '\nfrontend {backend\n' },
      /FRONTEND_HEAD.*never closed/,
    ],
  ];
  test.each(cases)('%s', async (_name, labels, message) => {
    const run = await renderApps([app('/bad', labels, 10001), app('/good', {}, 10002)]);
    expect(run.code).toBe(0);
    const warnings = run.stderr.trim().split('\n');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^marathon-lb: warning: left out app \/bad/);
    expect(warnings[0]).toMatch(message);
    expect(run.stdout).toContain('backend good_10002');
    expect(run.stdout).not.toMatch(/bad_1000/);
  });

  test('a warning cuts what Marathon sent beyond what it can route: an app id or a label name of 100 000 characters', async () => {
    const longId = `/${'a'.repeat(100_000)}`;
    const longKey = 'K'.repeat(100_000);
    const run = await renderApps([
      app(longId, {}, 10001),
      { ...app('/key', {}, 10003), labels: { HAPROXY_GROUP: 'external', [longKey]: 5 } },
      app('/good', {}, 10002),
    ]);
    expect(run.code).toBe(0);
    const warnings = run.stderr.trim().split('\n');
    // Shape problems come first, then the model's.
    expect(warnings).toEqual([
      `marathon-lb: warning: left out app /key field labels.${'K'.repeat(249)}… (100007 characters): must be a string`,
      `marathon-lb: warning: left out app /${'a'.repeat(1023)}… (100001 characters) field id: must be at most 1024 letters, digits, "-", "_", ".", ":" and "/", not starting with "-" (it names HAProxy sections)`,
    ]);
    expect(run.stdout).toContain('backend good_10002');
  });

  test('a warning is one line: line breaks and escape sequences from Marathon are shown escaped', async () => {
    const run = await renderApps([
      app('/x\n2026-12-03 05:00:00,000 marathon_lb: forged', {}, 10001),
      { ...app('/key', {}, 10003), labels: { HAPROXY_GROUP: 'external', 'HAPROXY_0_PORT\r\u001b[2J': 5 } },
      app('/good', {}, 10002),
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr.trim().split('\n')).toEqual([
      'marathon-lb: warning: left out app /key field labels.HAPROXY_0_PORT\\r\\u001b[2J: must be a string',
      'marathon-lb: warning: left out app /x\\n2026-12-03 05:00:00,000 marathon_lb: forged field id: must be at most 1024 letters, digits, "-", "_", ".", ":" and "/", not starting with "-" (it names HAProxy sections)',
    ]);
    expect(run.stdout).toContain('backend good_10002');
  });

  test('an app id starting with "-" is left out: the app-id frontend prints it as an ACL pattern, which HAProxy would read as a flag', async () => {
    const http = { HAPROXY_0_MODE: 'http' };
    const run = await renderApps([app('-0', http, 10001), app('-i', http, 10003), app('/good', http, 10002)]);
    expect(run.code).toBe(0);
    expect(run.stderr.trim().split('\n')).toEqual(
      ['-0', '-i'].map(
        (id) =>
          `marathon-lb: warning: left out app ${id} field id: must be at most 1024 letters, digits, "-", "_", ".", ":" and "/", not starting with "-" (it names HAProxy sections)`,
      ),
    );
    expect(run.stdout).not.toMatch(/hdr\(x-marathon-app-id\) -i -/);
    expect(run.stdout).toContain('use_backend good_10002 if app__good');
  });

  test("a task without a host is left out and named, as marathon-lb warns of it; the app's other tasks are served", async () => {
    const hosts: unknown[] = [null, '', undefined];
    for (const host of hosts) {
      const a = app('/a', {}, 10001);
      const run = await renderApps([
        {
          ...a,
          tasks: [
            { ...a.tasks[0]!, id: 'a.0', host },
            { ...a.tasks[0]!, host: '10.0.0.2' },
          ],
        },
      ]);
      expect(run.stderr).toBe(
        "marathon-lb: warning: left out app /a field tasks[0].host: is missing or empty: Marathon gave no agent to route to: that task is left out, the app's other tasks are served\n",
      );
      expect(run.stdout).toMatch(/^ {2}server 10_0_0_2_31000 10\.0\.0\.2:31000/m);
      expect(run.stdout).not.toContain('10.0.0.1');
    }
  });

  test('a problem the render finds names the label with its port index, not HAPROXY_{n}_', async () => {
    const two = {
      ...app('/two', { HAPROXY_1_VHOST: 'two.example.com', HAPROXY_1_MODE: 'tcp' }, 10003),
      portDefinitions: [{ port: 10003 }, { port: 10004 }],
      tasks: [{ id: 'two.1', host: '10.0.0.1', ports: [31000, 31001], state: 'TASK_RUNNING' }],
    };
    const head = app('/head', { HAPROXY_0_BACKEND_HEAD: '\nbackend other\n' }, 10005);
    const run = await renderApps([two, head]);
    expect(run.stderr.trim().split('\n')).toEqual([
      'marathon-lb: warning: left out app /head port index 0 label HAPROXY_0_BACKEND_HEAD: its backend section is named "other", not head_10005, the name the rest of the config gives it',
      'marathon-lb: warning: left out app /two port index 1 label HAPROXY_1_VHOST: service port 10004 has a vhost but mode tcp: the :80/:443 frontends route HTTP only (set HAPROXY_1_MODE=http or drop the vhost)',
    ]);
    expect(run.stdout).toContain('backend two_10003');
  });

  test('an app without its tasks is left out and named: Marathon lists them ([] for none) with embed=apps.tasks', async () => {
    const { tasks: _tasks, ...bare } = app('/bare', {}, 10001);
    const run = await renderApps([bare, { ...app('/null', {}, 10003), tasks: null }, app('/good', {}, 10002)]);
    expect(run.code).toBe(0);
    expect(run.stderr.trim().split('\n')).toEqual([
      'marathon-lb: warning: left out app /bare field tasks: must be an array (Marathon lists them with embed=apps.tasks): missing',
      'marathon-lb: warning: left out app /null field tasks: must be an array (Marathon lists them with embed=apps.tasks): not one',
    ]);
    expect(run.stdout).toContain('backend good_10002');
  });

  test('health check results of another shape say as much as none: served without health checks, as marathon-lb serves it', async () => {
    const a = app('/a', {}, 10001);
    const run = await renderApps([{ ...a, tasks: [{ ...a.tasks[0]!, healthCheckResults: 'garbage' }] }]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^ {2}server 10_0_0_1_31000 10\.0\.0\.1:31000/m);
  });

  test("only the bad service port is left out; the same app's other port renders", async () => {
    const two = { ...app('/two', { HAPROXY_1_PORT: 'x' }, 10003), portDefinitions: [{ port: 10003 }, { port: 10004 }] };
    two.tasks = [{ id: 'two.1', host: '10.0.0.1', ports: [31000, 31001], state: 'TASK_RUNNING' }];
    const run = await renderApps([two]);
    expect(run.stderr).toMatch(/app \/two port index 1 label HAPROXY_1_PORT/);
    expect(run.stdout).toContain('backend two_10003');
    expect(run.stdout).not.toContain('two_10004');
  });
});

describe('unreadable or malformed input: exit 2, one line, nothing written', () => {
  const runCli = (args: string[], input?: string | Buffer) =>
    spawnSync(process.execPath, [CLI, ...args], {
      input: input ?? '',
      encoding: 'utf8',
      timeout: 20000,
      env: { PATH: process.env.PATH },
    });
  const expectOneLineFailure = (r: ReturnType<typeof runCli>, pattern: RegExp) => {
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  };

  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const mapArgs = () => ['--group', 'external', '--haproxy-map', '--haproxy-config', path.join(dir, 'haproxy.cfg')];
  const untouched = () => {
    // Existing map files keep their content.
    expect(fs.readFileSync(path.join(dir, 'domain2backend.map'), 'utf8')).toBe('old domain map\n');
    expect(fs.readdirSync(dir).sort()).toEqual(['app2backend.map', 'domain2backend.map']);
  };
  beforeEach(() => {
    fs.writeFileSync(path.join(dir, 'domain2backend.map'), 'old domain map\n');
    fs.writeFileSync(path.join(dir, 'app2backend.map'), 'old app map\n');
  });

  test('missing file', () => {
    expectOneLineFailure(
      runCli(['--dry', '--apps-file', path.join(dir, 'nope.json'), ...mapArgs()]),
      /cannot read apps file .*nope\.json: ENOENT/,
    );
    untouched();
  });
  test('malformed JSON on stdin', () => {
    expectOneLineFailure(
      runCli(['--dry', '--apps-file', '-', ...mapArgs()], '{"apps": [}'),
      /standard input is not valid JSON/,
    );
    untouched();
  });
  // Found by an audit: JSON.parse's message quoted the file's first characters, a secret's when the
  // wrong file was given (a credentials file). check-labels --app-file and zdd --json say it the same way.
  test('a file that is no JSON is named, its text is not quoted', () => {
    const creds = path.join(dir, 'creds');
    fs.writeFileSync(creds, 'fileuser:FilePassDDD444\n');
    const r = runCli(['--dry', '--apps-file', creds, ...mapArgs()]);
    expectOneLineFailure(r, /apps file .*creds is not valid JSON: Unexpected token 'i'\n$/);
    expect(r.stderr).not.toMatch(/fileuser|FilePass/);
    fs.rmSync(creds);
    untouched();
  });
  /** gzip states the unpacked size in its last 4 bytes: a wrong one makes the file corrupt. */
  const statingSize = (gz: Buffer, size: number): Buffer => {
    const copy = Buffer.from(gz);
    copy.writeUInt32LE(size, copy.length - 4);
    return copy;
  };
  const gz = gzipSync(JSON.stringify({ apps: [app('/web', {}, 10006)] }));
  test.each([
    ['cut short', gz.subarray(0, 30), 'unexpected end of file'],
    ['stating too small a size', statingSize(gz, 1), 'incorrect length check'],
    ['stating 4 GiB', statingSize(gz, 0xffffffff), 'incorrect length check'],
    // 5 MB of gzip members, each 64 MiB of zeros: unpacked whole, 1.06 GiB (past the 256 MiB bound).
    [
      'unpacking past the bound of an apps body',
      Buffer.concat(Array<Buffer>(17).fill(gzipSync(Buffer.alloc(64 << 20), { level: 1 }))),
      'it unpacks to more than 256 MiB, the bound of an apps body',
    ],
  ])('a gzip file %s, named or on stdin', (_name, bytes, reason) => {
    const elsewhere = tempDir();
    try {
      const file = path.join(elsewhere, 'apps.json.gz');
      fs.writeFileSync(file, bytes);
      expectOneLineFailure(
        runCli(['--dry', '--apps-file', file, ...mapArgs()]),
        new RegExp(`apps file \\S*apps\\.json\\.gz is gzip-compressed but cannot be unpacked: ${reason}$`, 'm'),
      );
      expectOneLineFailure(
        runCli(['--dry', '--apps-file', '-', ...mapArgs()], bytes),
        new RegExp(`apps file standard input is gzip-compressed but cannot be unpacked: ${reason}$`, 'm'),
      );
      untouched();
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
  test('wrong shape: no apps array', () => {
    expectOneLineFailure(runCli(['--dry', '--apps-file', '-', ...mapArgs()], '{"app": []}'), /"apps" array/);
    untouched();
  });
  test('wrong shape in one app: a label that is not a string leaves that app out, the rest renders', () => {
    const body = JSON.stringify({
      apps: [{ id: '/x', labels: { HAPROXY_GROUP: 1 }, tasks: [] }, app('/web', {}, 10006)],
    });
    const r = runCli(['--dry', '--apps-file', '-', ...mapArgs()], body);
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/warning: left out app \/x field labels\.HAPROXY_GROUP: must be a string/),
    ]);
    expect(r.stdout).toContain('backend web_10006');
  });
  test('a bad flag', () => {
    expectOneLineFailure(
      runCli(['--dry', '--apps-file', '-', '--group', 'x', '--max-backoff', 'soon']),
      /--max-backoff/,
    );
  });
  // A plain file had none: one of 1.2 GB was read at 1.75 GB RSS (found by an audit). Sparse: no disk used.
  test('a plain file past the bound of an apps body is refused with one line, before it is read', () => {
    const big = tempDir();
    try {
      const file = path.join(big, 'apps.json');
      fs.writeFileSync(file, '{"apps": [');
      fs.truncateSync(file, 2 ** 28 + 1);
      expectOneLineFailure(
        runCli(['--dry', '--apps-file', file, ...mapArgs()]),
        /^marathon-lb: apps file \S+ is larger than 256 MiB, the bound of an apps body\n$/,
      );
    } finally {
      fs.rmSync(big, { recursive: true, force: true });
    }
  });
  // readFileSync of a device or a pipe has no bound: /dev/zero grew to 7 GB in 60 s (found by an audit).
  test('a device or standard input that never ends stops at the bound of its input, with one line', () => {
    expectOneLineFailure(
      runCli(['--dry', '--apps-file', '/dev/zero', ...mapArgs()]),
      /^marathon-lb: apps file \/dev\/zero is larger than 256 MiB, the bound of an apps body\n$/,
    );
    const app = runCli(['check-labels', '--app-file', '-'], Buffer.alloc(65 * 2 ** 20, 0x20));
    expect(app.status).toBe(2);
    expect(app.stderr).toBe(
      'marathon-lb check-labels: standard input is larger than an app definition can be (64 MiB)\n',
    );
    const zdd = runCli(['zdd', '-j', '/dev/zero', '-m', 'http://127.0.0.1:1', '-l', 'http://127.0.0.1:1', '-d']);
    expect(zdd.status).toBe(2);
    expect(zdd.stderr + zdd.stdout).toMatch(/--json \/dev\/zero: larger than an app definition can be \(64 MiB\)/);
  }, 60000);

  // zdd's own walks over the definition recurse: past the stack they failed with a bare
  // "Maximum call stack size exceeded" (found by an audit).
  test('zdd refuses an app definition nested past 1 000 levels, with one line naming it', () => {
    const file = path.join(dir, 'deep.json');
    const deep = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
    fs.writeFileSync(file, `{"id":"/deep","labels":{"HAPROXY_DEPLOYMENT_GROUP":"d"},"env":${deep(200000)}}`);
    const zdd = runCli(['zdd', '-j', file, '-m', 'http://127.0.0.1:1', '-l', 'http://127.0.0.1:1', '-d']);
    expect(zdd.status).toBe(2);
    expect(zdd.stderr + zdd.stdout).toContain(`--json ${file}: nested deeper than 1000 levels`);
    expect(zdd.stderr + zdd.stdout).not.toMatch(/call stack/);
    // 999 levels inside the definition's own object: read, and on to Marathon (which is not there).
    fs.writeFileSync(
      file,
      `{"id":"/deep","labels":{"HAPROXY_DEPLOYMENT_GROUP":"d","HAPROXY_DEPLOYMENT_ALT_PORT":"10001"},"env":${deep(999)}}`,
    );
    const shallow = runCli(['zdd', '-j', file, '-m', 'http://127.0.0.1:1', '-l', 'http://127.0.0.1:1', '-d']);
    expect(shallow.stderr + shallow.stdout).not.toContain('nested deeper');
    expect(shallow.stderr + shallow.stdout).toMatch(/Error while querying marathon \(GET \/v2\/apps\)/);
  });

  test('valid input through the real CLI on stdin writes the maps and prints the config', () => {
    const body = JSON.stringify({ apps: [app('/web', { HAPROXY_0_VHOST: 'web.example.com' }, 10005)] });
    const r = runCli(['--dry', '--apps-file', '-', ...mapArgs()], body);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('frontend web_10005');
    expect(fs.readFileSync(path.join(dir, 'domain2backend.map'), 'utf8')).toBe('web.example.com web_10005\n');
    expect(fs.readFileSync(path.join(dir, 'app2backend.map'), 'utf8')).toBe('/web web_10005\n');
  });
});

describe('a gzip-compressed apps file (the bench input as shipped) renders as its JSON does', () => {
  const text = JSON.stringify({
    apps: [app('/web', { HAPROXY_0_VHOST: 'web.example.com' }, 10006), app('/db', {}, 10007)],
  });
  const render = (args: string[], input?: Buffer) =>
    spawnSync(process.execPath, [CLI, '--dry', '--group', 'external', ...args], {
      input: input ?? '',
      encoding: 'utf8',
      timeout: 20000,
      env: { PATH: process.env.PATH },
    });
  let dir: string;
  let plain: ReturnType<typeof render>;
  beforeAll(() => {
    dir = tempDir();
    fs.writeFileSync(path.join(dir, 'apps.json'), text);
    plain = render(['--apps-file', path.join(dir, 'apps.json')]);
    expect(plain.status).toBe(0);
    expect(plain.stdout).toContain('backend web_10006');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const halves = Buffer.concat([gzipSync(text.slice(0, 40)), gzipSync(text.slice(40))]);
  test.each([
    ['as gzip writes it', gzipSync(text)],
    // The size gzip states at its end is the last member's: it sizes the first buffer, nothing more.
    ['two gzip members, one after the other', halves],
  ])('%s: a file and standard input', (_name, gz) => {
    const file = path.join(dir, 'apps.json.gz');
    fs.writeFileSync(file, gz);
    for (const r of [render(['--apps-file', file]), render(['--apps-file', '-'], gz)]) {
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(plain.stdout);
    }
  });
});
