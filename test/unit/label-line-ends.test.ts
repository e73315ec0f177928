import { appOnOwnVhost } from '../support/fixtures';
import { makeTestCerts, type TestCerts } from '../support/certs';
import { describeWithHaproxy, dryCheckedByHaproxy } from '../support/haproxy';

/**
 * A template label's value rarely ends with a newline (a Marathon JSON string), and its last line ran
 * into the next line of the config: in the shared frontends, into another app's `acl` line, and HAProxy
 * refused the whole config (found by an audit). A label now ends its line as the template it stands
 * for does; each config here is checked by haproxy -c.
 */
describeWithHaproxy('template labels without a trailing newline end their line', () => {
  let certs: TestCerts;
  beforeAll(() => {
    certs = makeTestCerts();
  });

  test.each([
    [
      'HAPROXY_0_HTTP_FRONTEND_APPID_ACL',
      '  acl app_{cleanedUpAppId} hdr(x-marathon-app-id) -i {appId}\n  use_backend {backend} if app_{cleanedUpAppId} # mine',
      '\n  acl app__good hdr(x-marathon-app-id) -i /good\n',
    ],
    [
      'HAPROXY_0_HTTP_FRONTEND_ACL',
      '  acl host_{cleanedUpHostname} hdr(host) -i {hostname}\n  use_backend {backend} if host_{cleanedUpHostname}',
      '\n  acl host_good_example_com_good hdr(host) -i good.example.com\n',
    ],
    ['HAPROXY_0_BACKEND_HEAD', '\nbackend {backend}\n  balance {balance}\n  mode http', '\nbackend good_10002\n'],
    [
      'HAPROXY_0_FRONTEND_HEAD',
      '\nfrontend {backend}\n  bind {bindAddr}:{servicePort}{sslCert}{bindOptions}\n  mode http',
      '\nfrontend good_10002\n',
    ],
  ])('%s: the next app keeps its lines', async (label, value, goodLine) => {
    // /a sorts before /good: its label's text is followed by /good's lines in the shared frontends.
    const r = await dryCheckedByHaproxy(
      [appOnOwnVhost('/a', 10001, { HAPROXY_0_MODE: 'http', [label]: value }), appOnOwnVhost('/good', 10002, {})],
      certs.serverCert + certs.serverKey,
    );
    expect(r.stderr).not.toMatch(/left out/);
    expect(r.config).toContain(goodLine);
    expect(r.config).toContain('\nbackend a_10001\n');
  });
});
