import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import { argvWithoutSecrets } from '../../src/cli/hiddenSecrets';
import { CLI } from '../support/paths';
import { tempDir } from '../support/render';

describe('secrets on the command line are not shown by ps', () => {
  test('the values of secret flags, by any prefix, and credentials in URLs are ***', () => {
    expect(
      argvWithoutSecrets([
        '-m',
        'http://ops:s3cret@master:8080',
        '--auth-credentials',
        'u:p',
        '--auth',
        'u:p2',
        '--dcos-auth-credentials={"uid":"x"}',
        '--admin-token',
        'tok',
        '--admin-port',
        '9191',
      ]),
    ).toEqual([
      '-m',
      'http://master:8080',
      '--auth-credentials',
      '***',
      '--auth',
      '***',
      '--dcos-auth-credentials=***',
      '--admin-token',
      '***',
      '--admin-port',
      '9191',
    ]);
    expect(argvWithoutSecrets(['--group', 'external', '-m', 'http://master:8080'])).toBeNull();
    // The shortest prefixes a parser takes, and values that look like numbers (found by an audit).
    expect(argvWithoutSecrets(['--au', 'u:p', '--dc={"k":1}', '--a', 'z:p', '--admin-token', '-5aB_x'])).toEqual([
      '--au',
      '***',
      '--dc=***',
      '--a',
      '***',
      '--admin-token',
      '***',
    ]);
    // The parser (yargs) takes each flag in camelCase too (an audit: --authCredentials was shown).
    expect(argvWithoutSecrets(['--authCredentials', 'u:p', '--dcosAuthCredentials={}', '--adminToken', 't'])).toEqual([
      '--authCredentials',
      '***',
      '--dcosAuthCredentials=***',
      '--adminToken',
      '***',
    ]);
  });

  test("the running controller's /proc/PID/cmdline holds none of them", async () => {
    const dir = tempDir();
    const child = spawn(
      process.execPath,
      [
        CLI,
        '--group',
        'external',
        '-m',
        'http://ops:urlpass-S@127.0.0.1:9',
        '--auth-credentials',
        'u:flagpass-S',
        '--syslog-socket',
        '/dev/null',
        '--haproxy-config',
        `${dir}/haproxy.cfg`,
        '--admin-port',
        '0',
      ],
      { stdio: 'ignore' },
    );
    try {
      // The title is set before anything else runs; give the process a moment to start.
      let cmdline = '';
      for (let i = 0; i < 50 && !cmdline.includes('marathon-lb --group'); i++) {
        await new Promise((r) => setTimeout(r, 50));
        cmdline = fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
      }
      expect(cmdline).toContain('marathon-lb --group external -m http://127.0.0.1:9 --auth-credentials ***');
      expect(cmdline).not.toMatch(/urlpass-S|flagpass-S/);
    } finally {
      child.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
