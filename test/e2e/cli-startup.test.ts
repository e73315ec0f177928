import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, REPO_ROOT } from '../support/paths';
import { tempDir } from '../support/render';

// What a start of the built command loads (issue 12: a --dry of a few apps was no faster than
// marathon-lb's, most of it start-up). The command is one bundled file (src/bin/bundle.ts); the
// service's packages and the built-ins only some inputs need load when they are used.

/** The CLI run with a preload that prints every module it requires, then the exit code. */
function loadedBy(args: readonly string[]): { readonly modules: readonly string[]; readonly stdout: string } {
  const dir = tempDir();
  const hook = path.join(dir, 'record-loads.js');
  const log = path.join(dir, 'loaded.txt');
  fs.writeFileSync(
    hook,
    `const Module = require('node:module');
const seen = new Set();
const load = Module._load;
Module._load = function (request, parent, isMain) {
  try { seen.add(Module._resolveFilename(request, parent, isMain)); } catch { seen.add(request); }
  return load.apply(this, arguments);
};
process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(log)}, [...seen].join('\\n')));
`,
  );
  const stdout = execFileSync(process.execPath, ['--require', hook, CLI, ...args], { encoding: 'utf8' });
  return { modules: fs.readFileSync(log, 'utf8').split('\n'), stdout };
}

function appsFile(): string {
  const file = path.join(tempDir(), 'apps.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      apps: [
        {
          id: '/web',
          labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com', HAPROXY_0_STICKY: 'false' },
          portDefinitions: [{ port: 10000 }],
          tasks: [{ id: 'web.1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
        },
      ],
    }),
  );
  return file;
}

const DRY = ['--dry', '--group', 'external', '--haproxy-version', '2.6', '--apps-file'];

test('a --dry from a file loads the command file alone: no other project file, none of the service packages', () => {
  const { modules, stdout } = loadedBy([...DRY, appsFile(), '--haproxy-config', path.join(tempDir(), 'h.cfg')]);
  expect(stdout).toContain('server 10_0_0_1_31000 10.0.0.1:31000');
  const projectFiles = modules.filter(
    (m) => m.startsWith(REPO_ROOT) && !m.includes(`${path.sep}node_modules${path.sep}`),
  );
  expect(projectFiles).toEqual([CLI]);
  const packages = modules.filter((m) => m.includes(`${path.sep}node_modules${path.sep}`));
  expect(packages).toEqual([]); // yargs and mustache are in the bundle; rxjs, winston, prom-client are not loaded
});

test('a --dry that needs none of them loads no node:crypto, node:child_process, node:tls or node:net', () => {
  const { modules } = loadedBy([...DRY, appsFile(), '--haproxy-config', path.join(tempDir(), 'h.cfg')]);
  for (const builtin of ['crypto', 'child_process', 'tls', 'net']) {
    expect(modules).not.toContain(`node:${builtin}`);
    expect(modules).not.toContain(builtin);
  }
});

test('a sticky app loads node:crypto for its cookie when it needs it', () => {
  const file = appsFile();
  const sticky = JSON.parse(fs.readFileSync(file, 'utf8')) as { apps: { labels: Record<string, string> }[] };
  sticky.apps[0]!.labels['HAPROXY_0_STICKY'] = 'true';
  fs.writeFileSync(file, JSON.stringify(sticky));
  const { modules, stdout } = loadedBy([...DRY, file, '--haproxy-config', path.join(tempDir(), 'h.cfg')]);
  expect(modules).toContain('node:crypto');
  // marathon-lb's cookie: the first 10 hex digits of sha1 of the server name (its own --dry prints this line).
  expect(stdout).toContain('server 10_0_0_1_31000 10.0.0.1:31000 id 28035 check cookie 13d473d85a');
});

test('the service start keeps its modules in their own files (not parsed by every --dry)', () => {
  const bundle = fs.readFileSync(CLI, 'utf8');
  expect(bundle).not.toMatch(/\brequire\("rxjs"\)/);
  expect(fs.existsSync(path.join(REPO_ROOT, 'dist', 'src', 'main.js'))).toBe(true);
  expect(bundle).toContain('require("./../main")');
});

/**
 * Functions V8's optimizing compiler made code for in a run of the CLI (its --trace-opt lines).
 * `input` on standard input; with `shellPipe`, through a shell pipe (Node's own stdio pipes are
 * sockets, which /dev/stdin cannot open).
 */
function optimizedIn(args: readonly string[], input?: string, shellPipe = false): number {
  const node = [process.execPath, '--trace-opt', CLI, ...args];
  let out: string;
  if (shellPipe) {
    const file = path.join(tempDir(), 'piped.json');
    fs.writeFileSync(file, input ?? '');
    out = execFileSync('sh', ['-c', `cat "$0" | "$@"`, file, ...node], { encoding: 'utf8', maxBuffer: 1 << 28 });
  } else {
    out = execFileSync(node[0]!, node.slice(1), { encoding: 'utf8', input, maxBuffer: 1 << 28 });
  }
  return out.split('\n').filter((l) => l.startsWith('[compiling method') && l.includes('TURBOFAN')).length;
}

/** The young generation's size (V8's new space) when the CLI starts and when it exits, in bytes. */
function youngGenerationOf(args: readonly string[]): { readonly atStart: number; readonly atExit: number } {
  const probe = path.join(tempDir(), 'young-generation.js');
  fs.writeFileSync(
    probe,
    `const v8 = require('node:v8');
const size = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
const atStart = size();
process.on('exit', () => process.stderr.write('young-generation ' + JSON.stringify({ atStart, atExit: size() }) + '\\n'));
`,
  );
  const r = spawnSync(process.execPath, ['--require', probe, CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const line = /young-generation (\{.*\})/.exec(r.stderr);
  if (line === null) throw new Error(`no young-generation line: ${r.stderr}`);
  return JSON.parse(line[1]!) as { atStart: number; atExit: number };
}

/** An apps file of `n` copies of one app under other ids (~170 bytes each). */
function manyApps(n: number): string {
  const one = JSON.parse(fs.readFileSync(appsFile(), 'utf8')) as { apps: { id: string }[] };
  const apps = Array.from({ length: n }, (_, k) => ({
    ...one.apps[0]!,
    id: `/web-${k}`,
    portDefinitions: [{ port: 10000 + k }],
  }));
  return JSON.stringify({ apps });
}

test("a --dry keeps V8's young generation small, from the flags' parsing on", () => {
  // V8 takes its first step (1 to 2 MiB) whatever the growth factor; the doubling after it, while the
  // flags were parsed, is what the command holds back (4 MiB at exit before).
  const h = ['--haproxy-config', path.join(tempDir(), 'h.cfg')];
  const small = youngGenerationOf([...DRY, appsFile(), ...h]);
  expect(small.atExit).toBeLessThanOrEqual(2 * small.atStart);
  const big = path.join(tempDir(), 'big-young.json');
  fs.writeFileSync(big, manyApps(8000));
  const large = youngGenerationOf([...DRY, big, ...h]);
  expect(large.atExit).toBeLessThanOrEqual(2 * large.atStart);
});

test('a small --dry runs without the optimizing compiler; from a megabyte of input on, it has it', () => {
  const h = ['--haproxy-config', path.join(tempDir(), 'h.cfg')];
  expect(optimizedIn([...DRY, appsFile(), ...h])).toBe(0);
  const big = path.join(tempDir(), 'big.json');
  fs.writeFileSync(big, manyApps(8000));
  expect(fs.statSync(big).size).toBeGreaterThan(1 << 20);
  expect(optimizedIn([...DRY, big, ...h])).toBeGreaterThan(10);
  // The same through standard input, whose size is known once it is read.
  expect(optimizedIn([...DRY, '-', ...h], manyApps(8000))).toBeGreaterThan(10);
  expect(optimizedIn([...DRY, '-', ...h], manyApps(1))).toBe(0);
  // And through a pipe named as the file (its size is known once it is read, as standard input's).
  expect(optimizedIn([...DRY, '/dev/stdin', ...h], manyApps(8000), true)).toBeGreaterThan(10);
  expect(optimizedIn([...DRY, '/dev/stdin', ...h], manyApps(1), true)).toBe(0);
});

test('a --dry whose reader stops early (| head) ends quietly, its exit code its own', () => {
  const file = path.join(tempDir(), 'apps.json');
  fs.writeFileSync(file, manyApps(3000)); // a config larger than a pipe holds
  const r = spawnSync(
    'bash',
    [
      '-c',
      `set -o pipefail; "$0" "$1" ${DRY.join(' ')} "$2" --haproxy-config "$3" | head -c 10 > /dev/null`,
      process.execPath,
      CLI,
      file,
      path.join(tempDir(), 'h.cfg'),
    ],
    { encoding: 'utf8' },
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});
