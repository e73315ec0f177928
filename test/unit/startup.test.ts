import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from '../../src/cli/args';
import type { Options } from '../../src/cli/options';
import { findConfigDir } from '../../src/configDir';
import { checkFdLimits, estimateMaxsock, parseFdFacts } from '../../src/haproxy/limits';
import { renderConfig } from '../../src/render/render';
import { firstStartSettings, renderOptions, withFirstStartChoices } from '../../src/wiring/parts';
import { ensureDefaultCertificate, SELF_SIGNED_NAME } from '../../src/startup/certificate';
import { chooseLuaDir, MARATHON_LB_LUA, rewriteLuaLoads } from '../../src/startup/luaDir';
import { fitMaxconn, listenerReserve } from '../../src/startup/maxconn';
import { prepareFirstStart } from '../../src/startup/prepare';

const CONFIG_DIR = findConfigDir();
const BUNDLED = path.join(CONFIG_DIR, 'lua');
const HEAD = fs.readFileSync(path.join(CONFIG_DIR, 'templates', 'HAPROXY_HEAD.mustache'), 'utf8');
const only =
  (...files: string[]) =>
  (f: string): boolean =>
    files.includes(f);
const bundledFiles = MARATHON_LB_LUA.map((f) => path.join(BUNDLED, f));

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlb-startup-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('Lua outside the image', () => {
  it('keeps --lua-dir when it holds the files, else uses the bundled copies and says so', () => {
    const inImage = MARATHON_LB_LUA.map((f) => `/marathon-lb/${f}`);
    expect(chooseLuaDir('/marathon-lb', BUNDLED, only(...inImage, ...bundledFiles))).toEqual({ dir: '/marathon-lb' });
    expect(chooseLuaDir('/marathon-lb', BUNDLED, only(...bundledFiles))).toEqual({
      dir: BUNDLED,
      note: `Lua files not found in /marathon-lb (getpids.lua, getconfig.lua, getmaps.lua, signalmlb.lua): using the bundled ones in ${BUNDLED}`,
    });
    expect(chooseLuaDir('/marathon-lb', '/nowhere', only())).toEqual({ dir: '/marathon-lb' }); // nothing better to offer
  });

  it("rewrites a template override's hard-coded /marathon-lb/ lua-load lines only for marathon-lb's own, missing files", () => {
    const text =
      'global\n  lua-load /marathon-lb/getpids.lua\n  lua-load /marathon-lb/mine.lua\n  lua-load-per-thread /opt/getmaps.lua\n  lua-load {{luaDir}}/getconfig.lua\n';
    const r = rewriteLuaLoads(text, BUNDLED, only(...bundledFiles, '/opt/getmaps.lua'));
    expect(r.text).toBe(
      `global\n  lua-load ${BUNDLED}/getpids.lua\n  lua-load /marathon-lb/mine.lua\n  lua-load-per-thread /opt/getmaps.lua\n  lua-load {{luaDir}}/getconfig.lua\n`,
    );
    expect(r.replaced).toEqual([`/marathon-lb/getpids.lua → ${BUNDLED}/getpids.lua`]);
  });
});

describe('maxconn and the fd limit', () => {
  const env = (hardLimit: number, canRaiseHardLimit = false) => ({ hardLimit, canRaiseHardLimit, nrOpen: 1048576 });

  it("lowers global maxconn 50000 to what a 1024 hard limit allows, leaving room for apps' listeners", () => {
    const fit = fitMaxconn(HEAD, env(1024), { cpus: 4 });
    const to = fit.maxconn?.to ?? 0;
    expect(fit.maxconn?.from).toBe(50000);
    expect(to).toBeGreaterThan(100);
    expect(fit.text).toContain(`  maxconn ${to}\n`);
    expect(fit.text).toContain('  maxconn               10000\n'); // defaults' maxconn is per proxy: untouched
    const facts = parseFdFacts(fit.text);
    expect(
      estimateMaxsock({ ...facts, listeners: facts.listeners + listenerReserve(1024) }, to, { cpus: 4 }),
    ).toBeLessThanOrEqual(1024);
    expect(
      estimateMaxsock({ ...facts, listeners: facts.listeners + listenerReserve(1024) }, to + 1, { cpus: 4 }),
    ).toBeGreaterThan(1024);
    expect(checkFdLimits(fit.text, env(1024), { cpus: 4 }).ok).toBe(true); // the apply's check passes
    expect(fit.warning).toMatch(
      /^HAProxy runs with `maxconn \d+` instead of the template's `maxconn 50000`: .* hard limit of this process is 1024 .*ulimit -n \d+/,
    );
  });

  it("under 224, HAProxy's master alone in master-worker mode: no maxconn fits, the apply's check says what to raise", () => {
    // HAProxy 2.6 -W exits with "Cannot raise FD limit to 224" under it whatever maxconn is (measured:
    // maxconn 5 and 12, 1 to 8 threads); the controller lowered maxconn to 12 (and advised 9) in vain (helper 74).
    const small = HEAD.replace(/maxconn 50000/, 'maxconn 40');
    expect(fitMaxconn(small, env(128), { cpus: 2 })).toEqual({ text: small });
    const check = checkFdLimits(small, env(128), { cpus: 2 });
    if (check.ok) throw new Error('expected a failure');
    expect(check.error).toMatchObject({ needed: 224, limit: 128, fittingMaxconn: 0 });
    expect(check.error.message).toContain('ulimit -n 224');
    expect(check.error.message).toContain("HAProxy's master process alone asks for 224 in master-worker mode");
    expect(checkFdLimits(small, env(224), { cpus: 2 }).ok).toBe(true);
  });

  it('leaves the text alone when the limit suffices, can be raised by HAProxy, or the config opts out of strict limits', () => {
    expect(fitMaxconn(HEAD, env(1048576), { cpus: 4 })).toEqual({ text: HEAD });
    expect(fitMaxconn(HEAD, env(1024, true), { cpus: 4 })).toEqual({ text: HEAD });
    const lax = HEAD.replace('global\n', 'global\n  no strict-limits\n');
    expect(fitMaxconn(lax, env(1024), { cpus: 4 })).toEqual({ text: lax });
    const unlimited = { hardLimit: undefined, canRaiseHardLimit: false };
    expect(fitMaxconn(HEAD, unlimited, { cpus: 4 })).toEqual({ text: HEAD });
  });
});

describe('the default certificate', () => {
  const cfg = () => path.join(dir, 'conf', 'haproxy.cfg');
  const fake = async () =>
    '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\ny\n-----END PRIVATE KEY-----\n';

  it('is created self-signed next to --haproxy-config (mode 0600) when the default path is empty, and reused later', async () => {
    const missing = path.join(dir, 'etc-ssl', 'cert.pem');
    const first = await ensureDefaultCertificate(
      { sslCerts: '/etc/ssl/cert.pem', haproxyConfig: cfg(), defaultPath: missing },
      fake,
    ); // conf/ does not exist yet
    const generated = path.join(dir, 'conf', SELF_SIGNED_NAME);
    expect(first).toEqual({
      ok: true,
      value: {
        sslCerts: generated,
        warning: expect.stringContaining(
          `no certificate at ${missing} (the --ssl-certs default): created a self-signed one (CN=*) at ${generated}`,
        ),
      },
    });
    expect(fs.statSync(generated).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(generated, 'utf8')).toBe(await fake());
    const again = await ensureDefaultCertificate(
      { sslCerts: '/etc/ssl/cert.pem', haproxyConfig: cfg(), defaultPath: missing },
      () => Promise.reject(new Error('not called')),
    );
    expect(again).toEqual({
      ok: true,
      value: { sslCerts: generated, info: expect.stringContaining('created earlier') },
    });
    expect(fs.existsSync(missing)).toBe(false);
  });

  it('is left alone when it exists or the user named certificates; a failure to create one is a clear error', async () => {
    const present = path.join(dir, 'cert.pem');
    fs.writeFileSync(present, 'pem');
    const never = () => Promise.reject(new Error('not called'));
    expect(
      await ensureDefaultCertificate(
        { sslCerts: '/etc/ssl/cert.pem', haproxyConfig: cfg(), defaultPath: present },
        never,
      ),
    ).toEqual({ ok: true, value: { sslCerts: present } });
    expect(await ensureDefaultCertificate({ sslCerts: '/x/a.pem,/x/b.pem', haproxyConfig: cfg() }, never)).toEqual({
      ok: true,
      value: { sslCerts: '/x/a.pem,/x/b.pem' },
    });
    const failed = await ensureDefaultCertificate(
      { sslCerts: '/etc/ssl/cert.pem', haproxyConfig: cfg(), defaultPath: path.join(dir, 'none.pem') },
      () => Promise.reject(new Error('openssl is not installed')),
    );
    expect(failed).toEqual({
      ok: false,
      error: expect.stringContaining('none could be created: openssl is not installed. Pass --ssl-certs'),
    });
  });
});

describe('prepareFirstStart', () => {
  const options = (...argv: string[]): Options => {
    const r = parseArgs(
      [
        '--group',
        'external',
        '--haproxy-config',
        path.join(dir, 'haproxy.cfg'),
        '--templates-dir',
        path.join(dir, 'templates'),
        ...argv,
      ],
      {},
    );
    if (!r.ok) throw new Error(JSON.stringify(r));
    return r.value;
  };
  const logs: string[] = [];
  const logger = { info: (m: string) => logs.push(`info ${m}`), warn: (m: string) => logs.push(`warn ${m}`) };
  const inputs = (o: Options) => ({
    settings: firstStartSettings(o),
    env: { MARATHON_LB_DEFAULT_SSL_CERT: path.join(dir, 'no-cert.pem') },
    configDir: CONFIG_DIR,
    logger,
    fdEnvironment: async () => ({ hardLimit: 1024, canRaiseHardLimit: false }),
    makeCertificate: async () => 'PEM\n',
    exists: (f: string) => !f.startsWith('/marathon-lb/') && fs.existsSync(f),
  });
  beforeEach(() => (logs.length = 0));

  it('built-in HEAD: bundled Lua dir, a fitting maxconn and the generated certificate end up in the rendered config', async () => {
    const given = options();
    const r = await prepareFirstStart(inputs(given));
    if (!r.ok) throw new Error(r.error);
    const o = withFirstStartChoices(given, r.value);
    const { templates } = r.value;
    expect(o.luaDir).toBe(BUNDLED);
    expect(o.sslCerts).toBe(path.join(dir, SELF_SIGNED_NAME));
    const cfg = renderConfig([], templates, renderOptions(o, {})).config;
    expect(cfg).toContain(`  lua-load ${BUNDLED}/getpids.lua\n`);
    expect(cfg).not.toContain('maxconn 50000');
    expect(cfg).toContain(`crt ${path.join(dir, SELF_SIGNED_NAME)}`);
    expect(logs.map((l) => l.slice(0, 60))).toEqual(
      [
        'info Lua files not found in /marathon-lb (getpids.lua, getconfig.l',
        'warn HAProxy runs with `maxconn ' +
          /maxconn (\d+)/.exec(cfg)![1] +
          "` instead of the template's `maxconn 50000`",
        `warn no certificate at ${path.join(dir, 'no-cert.pem')} (the --ssl-certs default): created`,
      ].map((l) => l.slice(0, 60)),
    );
  });

  it('a HAPROXY_HEAD override that hard-codes /marathon-lb/ gets the bundled Lua and a fitting maxconn too', async () => {
    fs.mkdirSync(path.join(dir, 'templates'));
    fs.writeFileSync(
      path.join(dir, 'templates', 'HAPROXY_HEAD'),
      HEAD.split('{{luaDir}}').join('/marathon-lb').replace('{{globalDefaultOptions}}', ''),
    );
    const given = options();
    const r = await prepareFirstStart(inputs(given));
    if (!r.ok) throw new Error(r.error);
    const o = withFirstStartChoices(given, r.value);
    const { templates } = r.value;
    const cfg = renderConfig([], templates, renderOptions(o, {})).config;
    expect(cfg).toContain(`  lua-load ${BUNDLED}/signalmlb.lua\n`);
    expect(cfg).not.toContain('/marathon-lb/');
    expect(cfg).not.toContain('maxconn 50000');
    expect(
      logs.some((l) => l.includes('Lua not found where it says, using the bundled copies: /marathon-lb/getpids.lua →')),
    ).toBe(true);
  });

  it('leaves maxconn to HAProxy started elsewhere (--haproxy-attach), and makes no certificate with --dont-bind-http-https', async () => {
    const given = options('--haproxy-attach', '--dont-bind-http-https');
    const r = await prepareFirstStart(inputs(given));
    if (!r.ok) throw new Error(r.error);
    const o = withFirstStartChoices(given, r.value);
    const { templates } = r.value;
    expect(renderConfig([], templates, renderOptions(o, {})).config).toContain('maxconn 50000');
    expect(o.sslCerts).toBe('/etc/ssl/cert.pem');
    expect(fs.existsSync(path.join(dir, SELF_SIGNED_NAME))).toBe(false);
  });
});

describe('fitMaxconn on a whole rendered config', () => {
  it('with reserve 0 fits exactly the listeners the config has (for an apply-time hook)', () => {
    const env = { hardLimit: 1024, canRaiseHardLimit: false };
    const config = `${HEAD.split('{{luaDir}}').join(BUNDLED).replace('{{globalDefaultOptions}}', '')}\nfrontend f\n  bind 127.0.0.1:1-300\n`;
    const fit = fitMaxconn(config, env, { cpus: 2, reserve: 0 });
    expect(checkFdLimits(config, env, { cpus: 2 }).ok).toBe(false);
    expect(checkFdLimits(fit.text, env, { cpus: 2 }).ok).toBe(true);
    const short = checkFdLimits(config, env, { cpus: 2 });
    expect(fit.maxconn?.to).toBe(!short.ok && short.error.fittingMaxconn);
  });
});
