import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI } from '../support/paths';
import { dryRun, tempDir } from '../support/render';

/**
 * `--dry` and map files. marathon-lb (compareWriteAndReloadConfig → writeConfigAndValidate) prints
 * the config and exits before writing any map; without --haproxy-map it first empties existing
 * map files (truncateMapFileIfExists). DESIGN.md contract 2 keeps writing the maps with
 * --haproxy-map; the emptying is marathon-lb's. The config file itself is never written.
 */
describe('--dry map files', () => {
  let dir: string;
  let appsFile: string;
  const cfg = (): string => path.join(dir, 'haproxy.cfg');
  const read = (name: string): string => fs.readFileSync(path.join(dir, name), 'utf8');
  beforeEach(() => {
    dir = tempDir();
    appsFile = path.join(dir, 'apps.json');
    fs.writeFileSync(
      appsFile,
      JSON.stringify({
        apps: [
          {
            id: '/web',
            labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com' },
            portDefinitions: [{ port: 10001 }],
            tasks: [{ id: 'web.1', host: '10.0.0.1', ports: [31001], state: 'TASK_RUNNING' }],
          },
        ],
      }),
    );
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dryWithMaps = () =>
    dryRun(['--apps-file', appsFile, '--group', 'external', '--haproxy-map', '--haproxy-config', cfg()]);

  test('with --haproxy-map both maps are written beside --haproxy-config (contract 2)', async () => {
    const run = await dryWithMaps();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`map(${dir}/domain2backend.map)`);
    expect(read('domain2backend.map')).toBe('web.example.com web_10001\n');
    expect(read('app2backend.map')).toBe('/web web_10001\n');
    expect(fs.existsSync(cfg())).toBe(false);
  });

  // Each name was checked against every earlier one: 20 000 names took 38 s in a --dry (100 000: minutes), and a live controller
  // stopped answering /healthz for as long (found by an audit). The timeout is a hang detector.
  test('a VHOST label listing 100 000 names (some twice) gives one map line per name', async () => {
    const names = Array.from({ length: 100_000 }, (_, i) => `h${i}.example.com`);
    const app = {
      id: '/many',
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: [...names, 'h7.example.com'].join(',') },
      portDefinitions: [{ port: 10002 }],
      tasks: [{ id: 'many.1', host: '10.0.0.1', ports: [31002], state: 'TASK_RUNNING' }],
    };
    fs.writeFileSync(appsFile, JSON.stringify({ apps: [app] }));
    const run = await dryWithMaps();
    expect(run.stderr).toBe('');
    expect(read('domain2backend.map')).toBe(names.map((n) => `${n} many_10002\n`).join(''));
  }, 20_000);

  // marathon-lb wrote `a.example.com b.example.com web_10003`: HAProxy read b.example.com as part of
  // the backend's name, and neither name was routed. The ACLs without maps read both names.
  test('names a VHOST label separates by blanks (after a comma or not) are one map line each', async () => {
    const app = {
      id: '/blanks',
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'a.example.com b.example.com, c.example.com' },
      portDefinitions: [{ port: 10003 }],
      tasks: [{ id: 'blanks.1', host: '10.0.0.1', ports: [31003], state: 'TASK_RUNNING' }],
    };
    fs.writeFileSync(appsFile, JSON.stringify({ apps: [app] }));
    const run = await dryWithMaps();
    expect(run.stderr).toBe('');
    expect(read('domain2backend.map')).toBe(
      ['a.example.com', 'b.example.com', 'c.example.com'].map((n) => `${n} blanks_10003\n`).join(''),
    );
  });

  test('without --haproxy-map existing maps are emptied, as marathon-lb does; absent ones are not created', async () => {
    fs.writeFileSync(path.join(dir, 'domain2backend.map'), 'stale.example.com old_1\n');
    const run = await dryRun(['--apps-file', appsFile, '--group', 'external', '--haproxy-config', cfg()]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('backend web_10001');
    expect(read('domain2backend.map')).toBe('');
    expect(fs.existsSync(path.join(dir, 'app2backend.map'))).toBe(false);
    expect(fs.existsSync(cfg())).toBe(false);
  });

  test('malformed input touches no map, with or without --haproxy-map', async () => {
    fs.writeFileSync(path.join(dir, 'domain2backend.map'), 'kept.example.com old_1\n');
    fs.writeFileSync(appsFile, '{"apps": [');
    for (const extra of [[], ['--haproxy-map']]) {
      const run = await dryRun(['--apps-file', appsFile, '--group', 'external', '--haproxy-config', cfg(), ...extra]);
      expect(run.code).toBe(2);
      expect(read('domain2backend.map')).toBe('kept.example.com old_1\n');
    }
  });

  test('a map that cannot be written leaves both maps as they were (no new one beside an old one), in one line', () => {
    // Many HTTP apps make app2backend.map larger than the file size limit; domain2backend.map stays small.
    const apps = Array.from({ length: 300 }, (_, i) => ({
      id: `/an-app-with-a-rather-long-name-${i}`,
      labels: {
        HAPROXY_GROUP: 'external',
        HAPROXY_0_MODE: 'http',
        ...(i === 0 ? { HAPROXY_0_VHOST: 'web.example.com' } : {}),
      },
      portDefinitions: [{ port: 10000 + i }],
      tasks: [{ id: `t.${i}`, host: '10.0.0.1', ports: [31000 + i], state: 'TASK_RUNNING' }],
    }));
    fs.writeFileSync(appsFile, JSON.stringify({ apps }));
    fs.writeFileSync(path.join(dir, 'domain2backend.map'), 'old.example.com old_1\n');
    fs.writeFileSync(path.join(dir, 'app2backend.map'), '/old old_1\n');
    // A file size limit of 8 KiB (with SIGXFSZ ignored, a write past it fails with EFBIG), as a full disk would fail it.
    const args = ['--dry', '--apps-file', appsFile, '--group', 'external', '--haproxy-map', '--haproxy-config', cfg()];
    const r = spawnSync('bash', ['-c', `trap '' XFSZ; ulimit -f 8; exec "$0" "$@"`, process.execPath, CLI, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^marathon-lb: cannot write map files into ${dir}: .*\\(EFBIG\\)\n$`));
    expect(read('domain2backend.map')).toBe('old.example.com old_1\n');
    expect(read('app2backend.map')).toBe('/old old_1\n');
    expect(fs.readdirSync(dir).sort()).toEqual(['app2backend.map', 'apps.json', 'domain2backend.map']);
  });
});
