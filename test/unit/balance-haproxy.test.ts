/**
 * HAPROXY_{n}_BALANCE is served exactly when HAProxy takes the line it prints: each label below is
 * rendered by `--dry`, and the same words are checked by the installed `haproxy -c` in a config of
 * their own. A label HAProxy takes but the old pattern refused (words after a simple algorithm,
 * `url_param user[id]`, `random()`) used to leave its app out (found by a migration check).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeWithHaproxy, expectServedAsHaproxyTakes } from '../support/haproxy';
import { dryRun, tempDir } from '../support/render';

const LABELS = [
  '',
  'roundrobin',
  'roundrobin now',
  'leastconn extra words',
  'static-rr',
  'first',
  'source',
  'RoundRobin',
  'round-robin',
  'random',
  'random()',
  'random(3)',
  'random(0x10)',
  'random(010)',
  'random(0)',
  'random(-1)',
  'random(2',
  'random(2)x',
  'random(x)',
  'randomly',
  'uri',
  'uri whole path-only len 5 depth 2',
  'uri len 0',
  'uri len 5x',
  'uri len',
  'uri depth -1',
  'uri everything',
  'url_param',
  'url_param user[id]',
  'url_param id check_post',
  'url_param id check_post 64',
  'url_param id check',
  'hdr(host)',
  'hdr(x:y)',
  'hdr()',
  'hdr(',
  'hdr(host) use_domain_only',
  'hdr(host) use_domain',
  'hdr(host)tail',
  'rdp-cookie',
  'rdp-cookie(mstshash)',
  'rdp-cookie()',
  'rdp-cookie(x',
  'hash',
  'hashes',
  'leastconn\u00a0',
];

/** `--dry` of one app, /b on service port 10001, whose HAPROXY_0_BALANCE is `label`; its file in `dir`. */
function dryWithBalance(dir: string, label: string): ReturnType<typeof dryRun> {
  const apps = path.join(dir, 'apps.json');
  const app = {
    id: '/b',
    labels: { HAPROXY_GROUP: 'external', HAPROXY_0_BALANCE: label },
    portDefinitions: [{ port: 10001 }],
    tasks: [{ id: 'b.1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
  };
  fs.writeFileSync(apps, JSON.stringify({ apps: [app] }));
  return dryRun(['--apps-file', apps, '--group', 'external']);
}

describeWithHaproxy('HAPROXY_{n}_BALANCE is served when haproxy -c takes its line, and only then', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each(LABELS)('%j', async (label) => {
    const run = await dryWithBalance(dir, label);
    const served = run.stdout.includes('\nbackend b_10001\n');
    if (served) expect(run.stdout).toContain(`\nbackend b_10001\n  balance ${label.trim()}\n`);
    else expect(run.stderr).toContain('label HAPROXY_0_BALANCE: unknown balance algorithm');

    await expectServedAsHaproxyTakes(dir, served, { backend: `  balance ${label}\n` });
  });
});

test.each([
  ['a double quote (HAProxy would expand ${VAR} inside)', 'url_param "${HOME}"'],
  ['a single quote', "url_param 'a b'"],
  ['a backslash', 'url_param a\\ b'],
  ['a # (the rest of the line would be a comment)', 'url_param #id'],
  ["hash (HAProxy 2.6): whether its expression's fetches exist only haproxy -c can tell", 'hash req.hdr(host)'],
  ["hash of the controller's environment", 'hash env(MLB_ADMIN_TOKEN)'],
  ['a line break', 'url_param a\nserver evil 127.0.0.1:9090'],
])('a BALANCE with %s is left out, though HAProxy might take the line', async (_why, label) => {
  const dir = tempDir();
  try {
    const run = await dryWithBalance(dir, label);
    expect(run.stderr).toContain('label HAPROXY_0_BALANCE: unknown balance algorithm');
    expect(run.stdout).not.toContain('backend b_10001');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
