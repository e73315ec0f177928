import * as net from 'node:net';
import * as path from 'node:path';
import { freeLoopbackPorts } from '../../src/demo/live';
import { tempDir } from '../support/render';
import { spawnService } from '../support/serviceProcess';
import { waitFor } from '../support/wait';

// A controller that cannot start must exit with its message: it stayed alive and idle (its HAProxy
// watch and stats timers running), so a supervisor saw a running process that did nothing.
test('a service whose admin port is taken exits 2 at once, naming the port', async () => {
  const [port] = (await freeLoopbackPorts(1)) as [number];
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
  const dir = tempDir('mlb-startfail-');
  const service = spawnService(
    [
      '-m',
      'http://127.0.0.1:1',
      '--group',
      'external',
      '--haproxy-config',
      path.join(dir, 'haproxy.cfg'),
      '--syslog-socket',
      '/dev/null',
      '--admin-port',
      String(port),
    ],
    { PATH: process.env.PATH, MARATHON_LB_PID_FILE: path.join(dir, 'mlb.pid') },
  );
  try {
    await waitFor('the failed service to exit', () => service.child.exitCode !== null, 20_000);
    expect(service.child.exitCode).toBe(2);
    expect(service.output()).toContain(`admin API on 127.0.0.1:${port}`);
    expect(service.output()).toContain('EADDRINUSE');
  } finally {
    await service.stop();
    holder.close();
  }
});

// Node's fs.mkdir `recursive` loops for ever where mkdir answers ENOENT under a parent that exists
// (procfs): the service hung at 100 % CPU before its first reload, deaf to SIGTERM.
test('a --haproxy-config in a directory that cannot be made exits 2 at once, naming it', async () => {
  const dir = tempDir('mlb-startfail-');
  const service = spawnService(
    [
      '-m',
      'http://127.0.0.1:1',
      '--group',
      'external',
      '--haproxy-config',
      '/proc/mlb-no-such-dir/haproxy.cfg',
      '--syslog-socket',
      '/dev/null',
      '--admin-port',
      '0',
    ],
    { PATH: process.env.PATH, MARATHON_LB_PID_FILE: path.join(dir, 'mlb.pid') },
  );
  try {
    await waitFor('the failed service to exit', () => service.child.exitCode !== null, 20_000);
    expect(service.child.exitCode).toBe(2);
    expect(service.output()).toMatch(/cannot create \/proc\/mlb-no-such-dir\b.*ENOENT/);
  } finally {
    service.child.kill('SIGKILL'); // a hung one does not answer SIGTERM
  }
});
