/**
 * A VHOST is printed into the :80 frontend's host ACL (`hdr(host) -i <vhost>`) and the :443 one's SNI
 * match (`{ ssl_fc_sni <vhost> }`). Each vhost below is rendered by `--dry`, and the same two lines are
 * checked by the installed `haproxy -c` in a config of their own: the app is served exactly when
 * HAProxy takes them (`.lead.test` was left out though marathon-lb served it; found by a differential check).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeWithHaproxy, expectServedAsHaproxyTakes } from '../support/haproxy';
import { dryRun, tempDir } from '../support/render';

const VHOSTS = [
  'a.example.com',
  '.lead.test',
  'a..b.test',
  'host.',
  '_x.test',
  '*.example.com',
  '-lead.test',
  'x:8080',
  // An IPv6 literal, as a Host header carries it (refused before; found by an audit).
  '[::1]',
  '[2001:db8::1]:8080',
];

describeWithHaproxy('a VHOST is served when haproxy -c takes its ACL and SNI lines, and only then', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each(VHOSTS)('%j', async (vhost) => {
    const apps = path.join(dir, 'apps.json');
    const app = {
      id: '/v',
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: vhost },
      portDefinitions: [{ port: 10001 }],
      tasks: [{ id: 'v.1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
    };
    fs.writeFileSync(apps, JSON.stringify({ apps: [app] }));
    const run = await dryRun(['--apps-file', apps, '--group', 'external']);
    const served = run.stdout.includes(`hdr(host) -i ${vhost}\n`);
    if (!served) expect(run.stderr).toContain('label HAPROXY_0_VHOST');

    await expectServedAsHaproxyTakes(dir, served, {
      frontend: `  acl host_v hdr(host) -i ${vhost}\n  use_backend b if host_v\n  use_backend b if { ssl_fc_sni ${vhost} }\n`,
    });
  });
});

describe('empty hosts in a VHOST label (a trailing comma, two in a row)', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  // marathon-lb printed an ACL of an empty Host and an SNI route matching any name for each; the app
  // was left out here. Its real hosts are served, and nothing for the empty ones.
  test.each(['t.example.com,', 't.example.com,,u.example.com', ',t.example.com, ', 't.example.com, ,u.example.com'])(
    '%j serves its hosts and nothing for the empty ones',
    async (vhost) => {
      const apps = path.join(dir, 'apps.json');
      const app = {
        id: '/vt',
        labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: vhost },
        portDefinitions: [{ port: 11050 }],
        tasks: [{ id: 'vt.1', host: '10.0.0.1', ports: [31000], state: 'TASK_RUNNING' }],
      };
      fs.writeFileSync(apps, JSON.stringify({ apps: [app] }));
      const run = await dryRun(['--apps-file', apps, '--group', 'external']);
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain('  acl host_t_example_com_vt hdr(host) -i t.example.com\n');
      expect(run.stdout).toContain('  use_backend vt_11050 if { ssl_fc_sni t.example.com }\n');
      expect(run.stdout.includes('u.example.com')).toBe(vhost.includes('u.example.com'));
      expect(run.stdout).not.toMatch(/hdr\(host\) -i *\n|ssl_fc_sni +\}/);
    },
  );
});
