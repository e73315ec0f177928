import * as path from 'node:path';
import { loadTemplateSet } from '../../src/render/loadTemplates';
import { portHoldersInConfig, portHoldersOf, renderConfigSteps } from '../../src/render/render';
import { drain } from '../../src/steps';
import { DEFAULT_RENDER_OPTIONS, makeServer, makeService } from '../support/fixtures';
import { REPO_ROOT } from '../support/paths';

const loaded = loadTemplateSet(path.join(REPO_ROOT, 'config'), {}, '/nonexistent');
if (!loaded.ok) throw new Error(loaded.error);
const templates = loaded.value;
const opts = DEFAULT_RENDER_OPTIONS;

const web = makeService('mywebservernew_10004', [makeServer(1)], { appId: '/mywebservernew', servicePort: 10004 });
// A newly deployed app asking for the same port, with an id that sorts first.
const clash = makeService('clash_10004', [makeServer(2)], { appId: '/clash', servicePort: 10004 });
const render = (holders?: ReturnType<typeof portHoldersOf>) =>
  drain(renderConfigSteps([clash, web], templates, opts, undefined, undefined, holders));

describe('a service port two apps ask for', () => {
  test('the app HAProxy serves it for keeps it; the newcomer is left out, named', () => {
    const r = render(portHoldersOf([web]));
    expect(r.served.map((s) => s.appId)).toEqual(['/mywebservernew']);
    expect(r.config).toContain('frontend mywebservernew_10004');
    expect(r.config).not.toContain('clash_10004');
    expect(r.problems).toEqual([
      {
        appId: '/clash',
        portIndex: null,
        label: null,
        message:
          'service port 10004 is served by app /mywebservernew, which held it before this app asked for it; the app already served keeps a port',
      },
    ]);
  });

  test('a restarted controller reads them from the config it wrote: the app it served keeps the port', () => {
    const written = render(portHoldersOf([web])).config;
    expect(portHoldersInConfig(written)).toEqual(portHoldersOf([web]));
    expect(render(portHoldersInConfig(written)).served.map((s) => s.appId)).toEqual(['/mywebservernew']);
    // Only backend lines count, named <app id>_<service port> with a port HAProxy can bind.
    expect(portHoldersInConfig('backend a_b_10004\n  # backend c_10005\nbackend odd\nbackend big_70000\n')).toEqual(
      new Map([[10004, ['a_b_10004']]]),
    );
  });

  test('with nothing served yet (--dry, a first start) the first by app id keeps it', () => {
    expect(render().served.map((s) => s.appId)).toEqual(['/clash']);
  });

  test('a holder that gave the port up, or another bind address, leaves it to the others', () => {
    expect(
      drain(renderConfigSteps([clash], templates, opts, undefined, undefined, portHoldersOf([web]))).served,
    ).toEqual([clash]);
    const elsewhere = { ...clash, bindAddr: '127.0.0.2' };
    const onLoopback = { ...web, bindAddr: '127.0.0.1' };
    const r = drain(
      renderConfigSteps([elsewhere, onLoopback], templates, opts, undefined, undefined, portHoldersOf([onLoopback])),
    );
    expect(r.served.map((s) => s.appId)).toEqual(['/clash', '/mywebservernew']);
  });

  test('a port served on two addresses: a newcomer on either is left out', () => {
    const a = makeService('web_10004', [makeServer(1)], { appId: '/web', servicePort: 10004, bindAddr: '127.0.0.1' });
    const b = makeService('zed_10004', [makeServer(3)], { appId: '/zed', servicePort: 10004, bindAddr: '127.0.0.2' });
    const newcomer = { ...clash, bindAddr: '127.0.0.1' };
    const r = drain(renderConfigSteps([newcomer, a, b], templates, opts, undefined, undefined, portHoldersOf([a, b])));
    expect(r.served.map((s) => s.appId)).toEqual(['/web', '/zed']);
    expect(r.problems.map((p) => p.message)).toEqual([expect.stringContaining('is served by app /web')]);
  });
});
