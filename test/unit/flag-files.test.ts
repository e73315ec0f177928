/**
 * Files an operator's flag names (`--marathon-ca-cert`, `--marathon-auth-credential-file`), for the
 * controller and for zdd: a device or a FIFO there crashed the command with std::bad_alloc or held it,
 * and a CA file without a certificate was taken, every fetch then failing with advice to give the CA
 * (found by an attack). Each now gives one message naming the flag, at once.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from '../../src/cli/args';
import { marathonClientFromOptions } from '../../src/wiring/marathonClient';
import { parseZddArgs } from '../../src/zdd/args';
import { zddMarathonClient } from '../../src/zdd/liveIo';
import { tempDir } from '../support/render';

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

/** The message each command gives for these flags, or 'ok'. */
function controllerWith(flags: readonly string[]): string {
  const parsed = parseArgs(['-m', 'http://127.0.0.1:1', '--group', 'external', ...flags], {});
  if (!parsed.ok) throw new Error('flags');
  const made = marathonClientFromOptions(parsed.value, quiet);
  return made.ok ? 'ok' : made.error;
}
function zddWith(flags: readonly string[]): string {
  const parsed = parseZddArgs(
    ['-m', 'http://127.0.0.1:1', '-l', 'http://localhost:9090', '-j', 'x.json', ...flags],
    {},
  );
  if (!parsed.ok) throw new Error('flags');
  const made = zddMarathonClient(parsed.value, quiet);
  return made.ok ? 'ok' : made.error;
}

describe.each([
  ['the controller', controllerWith],
  ['zdd', zddWith],
])('flag files of %s', (_who, run) => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    fs.writeFileSync(path.join(dir, 'empty.pem'), '');
    fs.writeFileSync(path.join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    fs.writeFileSync(path.join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    fs.writeFileSync(path.join(dir, 'creds'), 'alice:secret\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each(['--marathon-ca-cert', '--marathon-auth-credential-file'])(
    '%s naming a device, a FIFO or a directory is refused at once',
    (flag) => {
      expect(run([flag, '/dev/zero'])).toBe(
        `${flag} /dev/zero: not a regular file (a device, pipe, socket or directory)`,
      );
      const fifo = path.join(dir, 'fifo');
      expect(run([flag, fifo])).toBe(`${flag} ${fifo}: not a regular file (a device, pipe, socket or directory)`);
      expect(run([flag, dir])).toBe(`${flag} ${dir}: not a regular file (a device, pipe, socket or directory)`);
      expect(run([flag, path.join(dir, 'nope')])).toBe(
        `${flag} ${path.join(dir, 'nope')}: no such file or directory (ENOENT)`,
      );
    },
  );

  test('a CA file without a certificate is refused; one with a certificate is taken', () => {
    for (const name of ['empty.pem', 'key.pem'])
      expect(run(['--marathon-ca-cert', path.join(dir, name)])).toBe(
        `--marathon-ca-cert ${path.join(dir, name)}: holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      );
    expect(run(['--marathon-ca-cert', path.join(dir, 'ca.pem')])).toBe('ok');
    expect(run(['--marathon-auth-credential-file', path.join(dir, 'creds')])).toBe('ok');
  });
});
