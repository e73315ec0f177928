import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { pidExists } from '../../src/haproxy/stopSignals';
import { describeWithHaproxy } from '../support/haproxy';
import { REPO_ROOT } from '../support/paths';
import { waitFor } from '../support/wait';

const DEMO = path.join(REPO_ROOT, 'dist', 'src', 'demo', 'cli.js');

/**
 * The README's main job (`npm run demo`, built): the controller on the simulator with a real HAProxy,
 * answering through it, and stopped by a signal long before its --duration (its timer kept the
 * process alive to the end: 500 s after a SIGTERM).
 */
describeWithHaproxy('the demo, as the README runs it', () => {
  test('serves the app through HAProxy, then a SIGTERM stops it, HAProxy included, well before --duration', async () => {
    const child = spawn(process.execPath, [DEMO, '--duration', '600'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor('an answer through HAProxy', () => /curl → 200 \{"app":"\/mywebservernew"/.test(output), 30_000);
      const master = Number(/haproxy: started, master (\d+)/.exec(output)?.[1]);
      expect(pidExists(master)).toBe(true);
      child.kill('SIGTERM');
      await waitFor('the demo to exit', () => child.exitCode !== null, 20_000);
      expect(await exited).toBe(0);
      expect(output).toContain('[demo] SIGTERM: stopping');
      expect(pidExists(master)).toBe(false);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${output.slice(-3000)}`, { cause: e });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);

  test('a port its HAProxy needs, held by another program: it says which and stops, leaving nothing behind', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen({ host: '127.0.0.1', port: 18080 }, resolve));
    const demoDirs = (): string[] => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('marathon-lb-demo-'));
    const before = demoDirs();
    try {
      const r = spawnSync(process.execPath, [DEMO, '--duration', '60'], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('demo: 127.0.0.1:18080 is in use by another program');
      expect(r.stdout + r.stderr).not.toMatch(/haproxy: started|HAProxy config in/);
      expect(demoDirs()).toEqual(before);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  }, 60_000);
});
