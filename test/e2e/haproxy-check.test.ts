import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { selfSignedArgs } from '../../src/startup/certificate';
import { checkConfig, describeWithHaproxy } from '../support/haproxy';
import { compatCases, REPO_ROOT } from '../support/paths';
import { dryRun, tempDir } from '../support/render';

/** Labels whose built-in templates print directives HAProxy 2.1+ removed (rspadd, reqirep, rspirep): translated for 2.6. */
const REMOVED_DIRECTIVE_LABELS = /"HAPROXY_\d+_(USE_HSTS|HTTP_BACKEND_PROXYPASS_PATH|HTTP_BACKEND_REVPROXY_PATH)"/;

/** Issue 10: all 112 public corpus cases rendered for HAProxy 2.6 (legacy directives translated) pass `haproxy -c`. */
describeWithHaproxy('rendered configs pass a real `haproxy -c`', () => {
  let dir: string;
  let pem: string;
  beforeAll(() => {
    dir = tempDir('mlb-check-');
    pem = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      selfSignedArgs({
        days: 2,
        subject: '/CN=marathon-lb-test',
        keyOut: path.join(dir, 'key.pem'),
        certOut: path.join(dir, 'crt.pem'),
      }),
      { stdio: 'pipe' },
    );
    fs.writeFileSync(
      pem,
      fs.readFileSync(path.join(dir, 'crt.pem'), 'utf8') + fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'),
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('BIND_OPTIONS with quoted words (a certificate path with a space) is served as written', async () => {
    const spaced = path.join(dir, 'my cert.pem');
    fs.copyFileSync(pem, spaced);
    const options = `ssl crt '${spaced}' alpn "h2,http/1.1" 'no-tlsv10'`;
    const caseDir = fs.mkdtempSync(path.join(dir, 'quoted-'));
    const apps = path.join(caseDir, 'apps.json');
    fs.writeFileSync(
      apps,
      JSON.stringify({
        apps: [
          {
            id: '/quoted',
            labels: { HAPROXY_GROUP: 'external', HAPROXY_0_BIND_OPTIONS: options },
            portDefinitions: [{ port: 10050 }],
            tasks: [{ id: 't1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
          },
        ],
      }),
    );
    const cfg = path.join(caseDir, 'haproxy.cfg');
    const run = await dryRun([
      '--apps-file',
      apps,
      '--haproxy-config',
      cfg,
      '--group',
      'external',
      '--lua-dir',
      path.join(REPO_ROOT, 'config', 'lua'),
      '--ssl-certs',
      pem,
    ]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(`bind *:10050 ${options}\n`);
    fs.writeFileSync(cfg, run.stdout);
    const check = await checkConfig(cfg);
    expect(check.output).not.toMatch(/\[ALERT\]/);
    expect(check.ok).toBe(true);
  });

  // Keywords only the host can judge (a curve OpenSSL knows, the files a crt-list names, a CA with its
  // key, a mux the mode can use): the app is served exactly when haproxy -c takes its bind line. They
  // were all refused, though marathon-lb rendered them (found by a migration audit).
  test.each([
    ['ssl crt PEM ecdhe prime256v1', 'tcp'],
    ['ssl crt PEM ecdhe no-such-curve', 'tcp'],
    ['proto h2', 'http'],
    ['proto h1', 'http'],
    ['proto h2', 'tcp'],
    ['proto none', 'tcp'],
    ['proto none', 'http'],
    ['ssl crt-list DIR/good.list', 'tcp'],
    ['ssl crt-list DIR/options.list', 'http'],
    ['ssl crt-list DIR/missing-cert.list', 'tcp'],
    ['ssl crt-list DIR/bad-keyword.list', 'tcp'],
    ['ssl crt-list DIR/no-such.list', 'tcp'],
    ['ssl crt PEM ca-sign-file PEM ca-sign-pass secret generate-certificates', 'tcp'],
    ['ssl crt PEM generate-certificates', 'tcp'],
    ['ssl crt PEM ca-sign-file DIR/crt.pem generate-certificates', 'tcp'],
  ])('BIND_OPTIONS %j in %s mode is served exactly when haproxy -c takes it', async (template, mode) => {
    fs.writeFileSync(path.join(dir, 'good.list'), `# certificates\n\n${pem}\n`);
    fs.writeFileSync(
      path.join(dir, 'options.list'),
      `${pem} [alpn h2 ssl-min-ver TLSv1.2] a.example.com !b.example.com\n`,
    );
    fs.writeFileSync(path.join(dir, 'missing-cert.list'), `${path.join(dir, 'missing.pem')}\n`);
    fs.writeFileSync(path.join(dir, 'bad-keyword.list'), `${pem} [maxconn 5]\n`);
    const options = template.replace(/PEM/g, pem).replace(/DIR/g, dir);
    const caseDir = fs.mkdtempSync(path.join(dir, 'bind-'));
    const apps = path.join(caseDir, 'apps.json');
    fs.writeFileSync(
      apps,
      JSON.stringify({
        apps: [
          {
            id: '/b',
            labels: { HAPROXY_GROUP: 'external', HAPROXY_0_BIND_OPTIONS: options, HAPROXY_0_MODE: mode },
            portDefinitions: [{ port: 10050 }],
            tasks: [{ id: 't1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
          },
        ],
      }),
    );
    const run = await dryRun([
      '--apps-file',
      apps,
      '--haproxy-config',
      path.join(caseDir, 'h.cfg'),
      '--group',
      'external',
    ]);
    const served = run.stdout.includes(`bind *:10050 ${options}\n`);
    if (!served) expect(run.stderr).toContain('label HAPROXY_0_BIND_OPTIONS');
    const cfg = path.join(caseDir, 'alone.cfg');
    fs.writeFileSync(
      cfg,
      'defaults\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n' +
        `frontend f\n  bind 127.0.0.1:10050 ${options}\n  mode ${mode}\n  default_backend b\n` +
        `backend b\n  mode ${mode}\n  server s 127.0.0.1:1\n`,
    );
    const check = await checkConfig(cfg);
    if (served !== check.ok)
      expect(check.output).toBe(
        `haproxy -c ${check.ok ? 'takes' : 'refuses'}: --dry ${served ? 'served' : 'left out'}`,
      );
  });

  const cases = compatCases();
  test('the whole corpus is checked, the cases with removed directives included', () => {
    expect(cases.length).toBeGreaterThanOrEqual(112);
    expect(
      cases.filter((c) => REMOVED_DIRECTIVE_LABELS.test(fs.readFileSync(path.join(c.dir, 'apps.json'), 'utf8'))).length,
    ).toBeGreaterThanOrEqual(3);
  });

  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const caseDir = fs.mkdtempSync(path.join(dir, `${c.name}-`));
    const cfg = path.join(caseDir, 'haproxy.cfg');
    const run = await dryRun([
      '--apps-file',
      path.join(c.dir, 'apps.json'),
      '--haproxy-config',
      cfg,
      '--lua-dir',
      path.join(REPO_ROOT, 'config', 'lua'),
      '--haproxy-version',
      '2.6',
      ...c.args,
      '--ssl-certs',
      pem,
    ]);
    expect(run.code).toBe(0);
    // The apps with HSTS/proxy-path/reverse-proxy labels are translated, not left out.
    if (REMOVED_DIRECTIVE_LABELS.test(fs.readFileSync(path.join(c.dir, 'apps.json'), 'utf8')))
      expect(run.stderr).toBe('');
    expect(run.stdout).not.toMatch(/^\s*(req|rsp)[a-z]+\s/m);
    // Certificates named by labels (HAPROXY_{n}_SSL_CERT) point at the test PEM.
    fs.writeFileSync(cfg, run.stdout.split('/etc/ssl/cert.pem').join(pem));
    const check = await checkConfig(cfg);
    expect(check.output).not.toMatch(/\[ALERT\]/);
    expect(check.ok).toBe(true);
  });
});
