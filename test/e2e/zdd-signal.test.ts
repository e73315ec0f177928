import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { CLI } from '../support/paths';
import { listenOnLoopback } from '../support/listen';
import { tempDir } from '../support/render';

/**
 * zdd stopped by a signal midway leaves the deploy as it is (as zdd.py does) and says so, with how to
 * finish it; it ended without a word (an audit). A Marathon that never answers holds it midway.
 */
describe('zdd stopped by a signal', () => {
  test.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    '%s: one line on stderr naming --resume, exit %d',
    async (signal, status) => {
      const held: http.ServerResponse[] = [];
      const marathon = await listenOnLoopback(http.createServer((_req, res) => void held.push(res)));
      const dir = tempDir();
      try {
        const json = path.join(dir, 'app.json');
        fs.copyFileSync(path.join(__dirname, '..', 'fixtures', 'zdd', 'shop.json'), json);
        const child = spawn(
          process.execPath,
          [CLI, 'zdd', '-m', `http://127.0.0.1:${marathon.port}`, '-l', 'http://127.0.0.1:9', '-j', json, '-f'],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        for (let i = 0; i < 200 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
        expect(held.length).toBeGreaterThan(0); // asking Marathon, which does not answer
        child.kill(signal);
        expect(await exited).toBe(status);
        expect(stderr).toContain(`marathon-lb zdd: stopped by ${signal}: a deploy under way is left as it is`);
        expect(stderr).toContain('run zdd again with --resume to finish it');
      } finally {
        for (const res of held) res.destroy();
        await marathon.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    20_000,
  );
});
