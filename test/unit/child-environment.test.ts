/**
 * What the controller's helper processes see of its environment (found by an audit: `haproxy -c`,
 * `haproxy -v` and the syslog `logger` got every secret, where the HAProxy master got none). Each is
 * replaced by a script that writes its environment to a file, and run from the built modules in a
 * process of their own whose environment holds the secrets (a test's process.env is Jest's copy,
 * which children never see).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { REPO_ROOT } from '../support/paths';
import { tempDir } from '../support/render';

const SECRETS = {
  MLB_ADMIN_TOKEN: 'adm-token-4b1e',
  MLB_AUTH_CREDENTIALS: 'mlb:pw-77f0',
  DCOS_SERVICE_ACCOUNT_CREDENTIAL: '{"uid":"x","private_key":"k"}',
  MY_API_TOKEN: 'tok-91aa',
};
const DIST = path.join(REPO_ROOT, 'dist', 'src');

/** A script that appends its arguments and environment to `out`, then runs `then`. */
function recorder(dir: string, name: string, out: string, then = 'exit 0'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\necho "args: $*" >> ${out}\nenv >> ${out}\n${then}\n`, { mode: 0o755 });
  return file;
}

/** `code` run by node with the built modules at hand (`dist`), the secrets and OPERATOR_VAR in its environment. */
function runWithSecrets(code: string, env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, ['-e', code], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...SECRETS, OPERATOR_VAR: 'visible-1', DIST, ...env },
    encoding: 'utf8',
    timeout: 20000,
  });
  if (r.status !== 0) throw new Error(`node -e failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

const expectNoSecret = (text: string): void => {
  for (const [name, value] of Object.entries(SECRETS)) {
    expect(text).not.toContain(name);
    expect(text).not.toContain(value);
  }
};

describe("helper processes get none of the controller's secrets", () => {
  const dir = tempDir('mlb-child-env-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("haproxy -c: the environment HAProxy runs with when given, else the controller's without its secrets", () => {
    const out = path.join(dir, 'check.out');
    const bin = recorder(dir, 'check', out);
    const cfg = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(cfg, 'global\n');
    const printed = runWithSecrets(`
      const { checkConfig } = require(process.env.DIST + '/haproxy/validate.js');
      (async () => {
        console.log(JSON.stringify(await checkConfig(${JSON.stringify(bin)}, ${JSON.stringify(cfg)}, 5000)));
        console.log(JSON.stringify(await checkConfig(${JSON.stringify(bin)}, ${JSON.stringify(cfg)}, 5000, { PATH: process.env.PATH, ONLY: 'this' })));
      })();`);
    expect(printed).toBe(`${JSON.stringify({ ok: true })}\n${JSON.stringify({ ok: true })}\n`);
    const [byDefault, given] = fs.readFileSync(out, 'utf8').split(/^(?=args: )/m) as [string, string];
    expect(byDefault).toContain(`args: -c -f ${cfg}`);
    expect(byDefault).toContain('OPERATOR_VAR=visible-1'); // an operator's own variable still expands
    expectNoSecret(byDefault);
    expect(given).toContain('ONLY=this');
    expect(given).not.toContain('OPERATOR_VAR');
  });

  test('haproxy -v, asked at once or beside other work', () => {
    const out = path.join(dir, 'version.out');
    const banner = 'echo "HAProxy version 2.6.12-1 2023/03/31 - https://haproxy.org/"';
    const now = recorder(dir, 'version-sync', out, banner);
    const soon = recorder(dir, 'version-soon', out, banner);
    const printed = runWithSecrets(`
      const v = require(process.env.DIST + '/haproxy/version.js');
      console.log(JSON.stringify(v.detectHaproxyVersion(${JSON.stringify(now)})));
      v.detectHaproxyVersionSoon(${JSON.stringify(soon)}).then((x) => console.log(JSON.stringify(x)));`);
    expect(printed).toBe('{"major":2,"minor":6}\n{"major":2,"minor":6}\n');
    const text = fs.readFileSync(out, 'utf8');
    expect(text.match(/^args: -v$/gm)).toHaveLength(2);
    expect(text).toContain('OPERATOR_VAR=visible-1');
    expectNoSecret(text);
  });

  test('the syslog logger(1): only PATH and the locale and time zone variables', async () => {
    const out = path.join(dir, 'logger.out');
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    recorder(bin, 'logger', out, 'cat > /dev/null');
    const socketPath = path.join(dir, 'log.sock');
    const server = net.createServer((c) => c.destroy()).listen(socketPath);
    await new Promise((r) => server.once('listening', r));
    try {
      runWithSecrets(
        `
        const { syslogStream } = require(process.env.DIST + '/syslog.js');
        const s = syslogStream(${JSON.stringify(socketPath)}, (m) => { console.error(m); process.exit(3); });
        s.write({ level: 'info', [Symbol.for('message')]: 'hello' });
        s.end();`,
        { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, TZ: 'UTC' },
      );
      const deadline = Date.now() + 10000; // the script runs on after node exits
      while (!(fs.existsSync(out) && fs.readFileSync(out, 'utf8').includes('PATH=')) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      const text = fs.readFileSync(out, 'utf8');
      expect(text).toContain(`args: --socket ${socketPath}`);
      const names = text
        .split('\n')
        .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))
        .map((l) => l.slice(0, l.indexOf('=')))
        .filter((n) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(n)); // the shell's own
      expect(names.sort()).toEqual(['PATH', 'TZ']);
      expectNoSecret(text);
    } finally {
      server.close();
    }
  });
});
