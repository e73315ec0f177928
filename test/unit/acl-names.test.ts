import * as fs from 'node:fs';
import * as path from 'node:path';
import { dryRun, tempDir } from '../support/render';

/** Each `acl NAME …` line of a section, by name. */
function aclLines(config: string, section: string): Map<string, string[]> {
  const body = config.split(/\n(?=\S)/).find((s) => s.startsWith(`${section}\n`)) ?? '';
  const byName = new Map<string, string[]>();
  for (const m of body.matchAll(/^ {2}acl (\S+) (.*)$/gm)) byName.set(m[1]!, [...(byName.get(m[1]!) ?? []), m[2]!]);
  return byName;
}

const app = (id: string, port: number, labels: Record<string, string>) => ({
  id,
  labels: { HAPROXY_GROUP: 'external', ...labels },
  portDefinitions: [{ port }],
  tasks: [{ id: `${id.slice(1)}.t1`, host: '10.0.0.1', ports: [31000 + (port % 1000)], state: 'TASK_RUNNING' }],
});

async function render(apps: unknown[]): Promise<string> {
  const dir = tempDir('mlb-acl-names-');
  const file = path.join(dir, 'apps.json');
  fs.writeFileSync(file, JSON.stringify({ apps }));
  const r = await dryRun(['--apps-file', file, '--group', 'external']);
  fs.rmSync(dir, { recursive: true, force: true });
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('ACL names in the shared frontends: one meaning each', () => {
  test('apps whose names clean alike get their own host_, auth_ and app_ ACLs; the first keeps marathon-lb’s', async () => {
    const config = await render([
      app('/pair', 10001, { HAPROXY_0_VHOST: 'admin.acl', HAPROXY_0_PATH: '/admin', HAPROXY_0_AUTH: 'a:admin:x' }),
      app('/acl/pair', 10002, { HAPROXY_0_VHOST: 'admin', HAPROXY_0_PATH: '/evil', HAPROXY_0_AUTH: 'g:guest:y' }),
      app('/acl.pair', 10003, { HAPROXY_0_VHOST: 'dot.example.com' }),
    ]);
    const http = aclLines(config, 'frontend marathon_http_in');
    expect(http.get('host_admin_acl_pair')).toEqual(['hdr(host) -i admin']); // /acl/pair sorts first
    expect(http.get('auth_admin_acl_pair')).toEqual(['http_auth(user_acl_pair_10002)']);
    expect(http.get('host_admin_acl_pair_10001')).toEqual(['hdr(host) -i admin.acl']);
    expect(http.get('auth_admin_acl_pair_10001')).toEqual(['http_auth(user_pair_10001)']);
    const appid = aclLines(config, 'frontend marathon_http_appid_in');
    expect(appid.get('app__acl_pair')).toEqual(['hdr(x-marathon-app-id) -i /acl.pair']);
    expect(appid.get('app__acl_pair_10002')).toEqual(['hdr(x-marathon-app-id) -i /acl/pair']);
    expect(config).toMatch(/use_backend acl_pair_10002 if app__acl_pair_10002\n/);
  });

  test('two ports of one app on one vhost share marathon-lb’s host ACL, but not a login', async () => {
    const twoPorts = (auth: Record<string, string>) => ({
      ...app('/svc', 10001, {}),
      labels: {
        HAPROXY_GROUP: 'external',
        HAPROXY_0_VHOST: 'v.example.com',
        HAPROXY_0_PATH: '/api',
        HAPROXY_1_VHOST: 'v.example.com',
        HAPROXY_1_PATH: '/web',
        ...auth,
      },
      portDefinitions: [{ port: 10001 }, { port: 10002 }],
      tasks: [{ id: 'svc.t1', host: '10.0.0.1', ports: [31001, 31002], state: 'TASK_RUNNING' }],
    });
    // As marathon-lb prints it: the same definition twice, told apart by the path ACLs.
    let http = aclLines(await render([twoPorts({})]), 'frontend marathon_http_in');
    expect(http.get('host_v_example_com_svc')).toEqual(['hdr(host) -i v.example.com', 'hdr(host) -i v.example.com']);
    // One login per port: the second port's users must not pass the first's.
    http = aclLines(
      await render([twoPorts({ HAPROXY_0_AUTH: 'a:admin:x', HAPROXY_1_AUTH: 'b:guest:y' })]),
      'frontend marathon_http_in',
    );
    expect(http.get('auth_v_example_com_svc')).toEqual(['http_auth(user_svc_10001)']);
    expect(http.get('auth_v_example_com_svc_10002')).toEqual(['http_auth(user_svc_10002)']);
  });
});
