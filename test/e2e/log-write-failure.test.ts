import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freeLoopbackPorts, httpGet } from '../../src/demo/live';
import { CLI } from '../support/paths';
import { tempDir } from '../support/render';
import { waitFor } from '../support/wait';

// "Failures never stop the controller": nor does a log it cannot write. With stdout and stderr on
// /dev/full (every write fails with ENOSPC, as on a full disk) it exited 1 at its first line.
test('a controller whose log cannot be written keeps running, and stops on SIGTERM', async () => {
  const dir = tempDir('mlb-logfail-');
  const [admin] = (await freeLoopbackPorts(1)) as [number];
  const full = fs.openSync('/dev/full', 'w');
  const child = spawn(
    process.execPath,
    [
      CLI,
      '-m',
      'http://127.0.0.1:1', // unreachable: a warning on every try
      '--group',
      'external',
      '--syslog-socket',
      '/dev/null',
      '--haproxy-config',
      path.join(dir, 'haproxy.cfg'),
      '--haproxy-master-socket',
      path.join(dir, 'master.sock'),
      '--haproxy-pid-file',
      path.join(dir, 'haproxy.pid'),
      '--admin-port',
      String(admin),
    ],
    { env: { PATH: process.env.PATH, MARATHON_LB_PID_FILE: path.join(dir, 'mlb.pid') }, stdio: ['ignore', full, full] },
  );
  fs.closeSync(full);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    let answered = false;
    void (async () => {
      for (const deadline = Date.now() + 15000; !answered && Date.now() < deadline;)
        answered = (await httpGet(admin, 'localhost', 1000, '/status').catch(() => undefined))?.status === 200;
    })();
    await waitFor('the admin API to answer', () => answered || child.exitCode !== null, 15000);
    // Several failed reads of Marathon, each logged (and each write failing), later: still there.
    await new Promise((r) => setTimeout(r, 2000));
    expect(child.exitCode).toBeNull();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 30000);
