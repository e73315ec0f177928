import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { freeLoopbackPorts } from '../../src/demo/live';
import { tempDir } from '../support/render';
import { spawnService, type ServiceProcess } from '../support/serviceProcess';
import { describeWithHaproxy } from '../support/haproxy';
import { waitFor } from '../support/wait';

/**
 * A controller that cannot start must exit with its message: it stayed alive and idle (its HAProxy
 * watch and stats timers running), so a supervisor saw a running process that did nothing. Runs the
 * service with these flags (Marathon unreachable) and returns its output once it exited 2.
 */
async function failedStartOutput(flags: readonly string[]): Promise<string> {
  const service = serviceWithoutMarathon(flags);
  try {
    await waitFor('the failed service to exit', () => service.child.exitCode !== null, 20_000);
    expect(service.child.exitCode).toBe(2);
    return service.output();
  } finally {
    service.child.kill('SIGKILL'); // a hung one does not answer SIGTERM
  }
}

/** The service with these flags and a Marathon nothing answers for. */
function serviceWithoutMarathon(flags: readonly string[]): ServiceProcess {
  return spawnService(['-m', 'http://127.0.0.1:1', '--group', 'external', '--syslog-socket', '/dev/null', ...flags], {
    PATH: process.env.PATH,
    MARATHON_LB_PID_FILE: path.join(tempDir('mlb-startfail-'), 'mlb.pid'),
  });
}

test('a service whose admin port is taken exits 2 at once, naming the port', async () => {
  const [port] = (await freeLoopbackPorts(1)) as [number];
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
  try {
    const config = path.join(tempDir('mlb-startfail-'), 'haproxy.cfg');
    const output = await failedStartOutput(['--haproxy-config', config, '--admin-port', String(port)]);
    expect(output).toContain(`admin API: cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
    expect(output.match(/admin API/g)).toHaveLength(1); // said once
    expect(output).toContain('EADDRINUSE');
  } finally {
    holder.close();
  }
});

// Node's fs.mkdir `recursive` loops for ever where mkdir answers ENOENT under a parent that exists
// (procfs): the service hung at 100 % CPU before its first reload, deaf to SIGTERM.
test('a --haproxy-config in a directory that cannot be made exits 2 at once, naming it', async () => {
  const output = await failedStartOutput([
    '--haproxy-config',
    '/proc/mlb-no-such-dir/haproxy.cfg',
    '--admin-port',
    '0',
  ]);
  expect(output).toMatch(/cannot create \/proc\/mlb-no-such-dir\b.*ENOENT/);
});

// Two controllers with config directories of their own but one master socket: the second took the
// first's running HAProxy for a leftover and stopped it, and two masters then split the traffic.
test('a second controller on the master socket another one drives exits 2 at once, naming it', async () => {
  const dir = tempDir('mlb-startfail-');
  const socket = path.join(dir, 'master.sock');
  const [adminPort] = (await freeLoopbackPorts(1)) as [number];
  // Each its own config directory and pid file; one master socket.
  const filesIn = (sub: string): string[] => [
    '--haproxy-config',
    path.join(dir, sub, 'haproxy.cfg'),
    '--haproxy-pid-file',
    path.join(dir, sub, 'haproxy.pid'),
    '--haproxy-master-socket',
    socket,
  ];
  const first = serviceWithoutMarathon([...filesIn('a'), '--admin-port', String(adminPort)]);
  try {
    await waitFor('the first controller to lock its master socket', () => fs.existsSync(`${socket}.marathon-lb.lock`));
    const output = await failedStartOutput([...filesIn('b'), '--admin-port', '0']);
    expect(output).toContain(
      `another controller (pid ${first.child.pid}) drives the HAProxy of ${socket}: stop it, or give this one a --haproxy-master-socket of its own`,
    );
    expect(first.child.exitCode).toBeNull();
  } finally {
    await first.stop();
  }
  expect(fs.existsSync(`${socket}.marathon-lb.lock`)).toBe(false); // released at its stop
});

describeWithHaproxy('the distribution’s HAProxy on our config file', (haproxy) => {
  // Stopped as a leftover, systemd started it again beside ours (Restart=always), and the two split
  // the traffic: it is neither stopped nor shared; the controller says what to do.
  test('an HAProxy no controller started runs the config: the controller exits 2 naming it, and leaves it running', async () => {
    const dir = tempDir('mlb-startfail-');
    const [port] = (await freeLoopbackPorts(1)) as [number];
    const cfg = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(
      cfg,
      `global\n  master-worker\ndefaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\nfrontend f\n  bind 127.0.0.1:${port}\n  http-request return status 200\n`,
    );
    const pidFile = path.join(dir, 'haproxy.pid');
    const distro = spawn(haproxy.bin, ['-Ws', '-f', cfg, '-p', pidFile, '-S', path.join(dir, 'distro.sock')], {
      stdio: 'ignore',
      env: { PATH: process.env.PATH },
    });
    try {
      await waitFor('the distribution HAProxy to write its pid file', () => fs.existsSync(pidFile), 10000);
      const output = await failedStartOutput([
        '--haproxy-config',
        cfg,
        '--haproxy-pid-file',
        pidFile,
        '--haproxy-master-socket',
        path.join(dir, 'master.sock'),
        '--admin-port',
        '0',
      ]);
      expect(output).toContain(
        `HAProxy ${distro.pid} (${haproxy.bin} -Ws -f ${cfg} -p ${pidFile} -S ${path.join(dir, 'distro.sock')}) runs ${cfg} but was not started by marathon-lb`,
      );
      expect(output).toContain("--command 'systemctl reload haproxy'");
      expect(distro.exitCode).toBeNull();
    } finally {
      distro.kill('SIGKILL');
    }
  });
});
