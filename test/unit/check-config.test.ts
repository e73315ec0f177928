/**
 * `haproxy -c` as checkConfig runs it (src/haproxy/validate.ts), with small scripts in HAProxy's
 * place: what it tells apart (a refusal, a check that did not complete) and what a timeout leaves
 * behind (nothing: the script and whatever it started are killed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkConfig } from '../../src/haproxy/validate';
import { pidExists } from '../../src/haproxy/stopSignals';
import { tempDir } from '../support/render';

function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

describe('checkConfig', () => {
  const dir = tempDir('mlb-check-config-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cfg = path.join(dir, 'haproxy.cfg');
  beforeAll(() => fs.writeFileSync(cfg, 'global\n'));

  test('accepted: exit 0', async () => {
    expect(await checkConfig(script(dir, 'ok', 'exit 0'), cfg, 5000)).toEqual({ ok: true, value: undefined });
  });

  test("refused: HAProxy's ALERT lines, prefixes removed", async () => {
    const bin = script(
      dir,
      'refuses',
      `echo '[ALERT]    (12) : config : parsing [${cfg}:3] : unknown keyword' >&2; exit 1`,
    );
    expect(await checkConfig(bin, cfg, 5000)).toEqual({
      ok: false,
      error: { message: `config : parsing [${cfg}:3] : unknown keyword`, refused: true },
    });
  });

  test('a check that does not finish in time says nothing of the config, and leaves no process behind', async () => {
    const sleeper = path.join(dir, 'sleeper.pid');
    // A wrapper that starts a child of its own and waits for it, as `sleep 30; exec haproxy "$@"` does.
    const bin = script(dir, 'slow', `sleep 30 & echo $! > ${sleeper}; wait`);
    const r = await checkConfig(bin, cfg, 300);
    expect(r).toEqual({
      ok: false,
      error: { message: `${bin} -c -f ${cfg} did not finish within 300 ms`, refused: false, hung: true },
    });
    const pid = Number(fs.readFileSync(sleeper, 'utf8').trim());
    const deadline = Date.now() + 5000;
    while (pidExists(pid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(pidExists(pid)).toBe(false);
  });

  // A wrapper that failed (exit 1, no word from HAProxy) was called a refusal: the config blamed, its
  // apps bisected, copies archived as rejected (found by an audit).
  test('a non-zero exit without a word from HAProxy says nothing of the config', async () => {
    const bin = script(dir, 'failing', `echo 'wrapper: failing' >&2; exit 1`);
    expect(await checkConfig(bin, cfg, 5000)).toEqual({
      ok: false,
      error: { message: `${bin} -c exited with code 1 without refusing the config: wrapper: failing`, refused: false },
    });
  });

  test('a config HAProxy would not start (no listener: exit 2, no alert) is refused', async () => {
    const bin = script(
      dir,
      'nolistener',
      `echo 'Configuration file has no error but will not start (no listener) => exit(2).'; exit 2`,
    );
    expect(await checkConfig(bin, cfg, 5000)).toMatchObject({ ok: false, error: { refused: true } });
  });

  test('a binary that cannot run says nothing of the config', async () => {
    const r = await checkConfig(path.join(dir, 'missing'), cfg, 5000);
    expect(r).toEqual({ ok: false, error: { message: expect.stringContaining('ENOENT'), refused: false } });
  });
});
