/**
 * The DC/OS package in universe/: config.json is a usable options schema, and marathon.json.mustache
 * renders, for the defaults and for every option changed, into a valid Marathon app whose args the
 * CLI accepts. Rendering is done as DC/OS does it: the view is {"marathon-lb": {...options},
 * "resource": resource.json}; values are escaped for a JSON string literal (they land inside "…").
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mustache from 'mustache';
import { parseArgs } from '../../src/cli/args';
import type { Options } from '../../src/cli/options';
import { makeTestCerts } from '../support/certs';
import { REPO_ROOT } from '../support/paths';

const DIR = path.join(REPO_ROOT, 'universe');
const readJson = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(DIR, name), 'utf8'));
const TEMPLATE = fs.readFileSync(path.join(DIR, 'marathon.json.mustache'), 'utf8');

interface PropSchema {
  readonly type: string;
  readonly default?: unknown;
  readonly description?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly pattern?: string;
  readonly enum?: readonly unknown[];
  readonly not?: {
    readonly anyOf: readonly {
      readonly enum?: readonly unknown[];
      readonly minimum?: number;
      readonly maximum?: number;
    }[];
  };
  readonly items?: {
    readonly type: string;
    readonly properties?: Record<string, PropSchema>;
    readonly required?: string[];
  };
}

interface ConfigSchema {
  readonly type: string;
  readonly properties: {
    readonly 'marathon-lb': {
      readonly type: string;
      readonly properties: Record<string, PropSchema>;
      readonly required: string[];
    };
  };
}

const config = readJson('config.json') as ConfigSchema;
const resource = readJson('resource.json') as {
  assets: { container: { docker: Record<string, string> } };
  images: Record<string, string>;
};
const pkg = readJson('package.json') as Record<string, unknown>;
const PROPS = config.properties['marathon-lb'].properties;

type View = Record<string, unknown>;

function defaults(): View {
  const out: View = {};
  for (const [k, p] of Object.entries(PROPS)) out[k] = p.default;
  return out;
}

/** A value inside a JSON string literal: JSON.stringify without the quotes. */
const jsonEscape = (value: unknown): string => JSON.stringify(String(value)).slice(1, -1);

function render(options: View): string {
  return Mustache.render(TEMPLATE, { 'marathon-lb': options, resource }, {}, { escape: jsonEscape });
}

// ---- a small Marathon app validator (the fields this package uses, with Marathon's rules) ---------------

const APP_ID =
  /^(\/?((\.\.)|(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9]))?($|\/))+$/;
const KNOWN_APP_FIELDS = new Set([
  'id',
  'instances',
  'cpus',
  'mem',
  'disk',
  'gpus',
  'container',
  'args',
  'cmd',
  'env',
  'secrets',
  'fetch',
  'healthChecks',
  'upgradeStrategy',
  'taskKillGracePeriodSeconds',
  'acceptedResourceRoles',
  'constraints',
  'labels',
  'requirePorts',
  'portDefinitions',
  'ports',
  'networks',
  'backoffSeconds',
  'backoffFactor',
  'maxLaunchDelaySeconds',
  'user',
]);
const HEALTH_PROTOCOLS = ['HTTP', 'HTTPS', 'TCP', 'COMMAND', 'MESOS_HTTP', 'MESOS_HTTPS', 'MESOS_TCP'];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): boolean =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

/** Problems found, [] when the app is valid. */
function validateApp(app: unknown): string[] {
  const p: string[] = [];
  if (!isObj(app)) return ['app is not an object'];
  for (const k of Object.keys(app)) if (!KNOWN_APP_FIELDS.has(k)) p.push(`unknown field ${k}`);
  if (typeof app.id !== 'string' || !APP_ID.test(app.id))
    p.push(`id ${JSON.stringify(app.id)} is not a Marathon app id`);
  if (typeof app.cpus !== 'number' || app.cpus <= 0) p.push('cpus must be a positive number');
  if (typeof app.mem !== 'number' || app.mem < 32) p.push('mem must be a number >= 32');
  if (!isInt(app.instances)) p.push('instances must be a non-negative integer');

  const c = app.container;
  if (!isObj(c) || c.type !== 'DOCKER' || !isObj(c.docker)) p.push('container must be {type: DOCKER, docker: {...}}');
  else {
    const d = c.docker;
    if (typeof d.image !== 'string' || d.image === '') p.push('container.docker.image must be a non-empty string');
    if (d.network !== 'HOST') p.push('container.docker.network must be HOST');
    if (typeof d.privileged !== 'boolean') p.push('container.docker.privileged must be a boolean');
    if (
      !Array.isArray(d.parameters) ||
      !d.parameters.every((x) => isObj(x) && typeof x.key === 'string' && x.key !== '' && typeof x.value === 'string')
    ) {
      p.push('container.docker.parameters must be [{key, value}] strings');
    }
  }

  if (!Array.isArray(app.args) || !app.args.every((a) => typeof a === 'string'))
    p.push('args must be an array of strings');

  const secrets = isObj(app.secrets) ? app.secrets : {};
  if (
    app.secrets !== undefined &&
    !Object.values(secrets).every((s) => isObj(s) && typeof s.source === 'string' && s.source !== '')
  ) {
    p.push('secrets must be {name: {source}}');
  }
  if (!isObj(app.env)) p.push('env must be an object');
  else {
    for (const [k, v] of Object.entries(app.env)) {
      const okSecret = isObj(v) && typeof v.secret === 'string' && v.secret in secrets;
      if (typeof v !== 'string' && !okSecret) p.push(`env ${k} must be a string or {secret} naming a declared secret`);
    }
  }
  if (
    app.fetch !== undefined &&
    !(Array.isArray(app.fetch) && app.fetch.every((f) => isObj(f) && typeof f.uri === 'string' && f.uri !== ''))
  ) {
    p.push('fetch must be [{uri}]');
  }

  const ports = Array.isArray(app.portDefinitions) ? app.portDefinitions : [];
  if (
    !Array.isArray(app.portDefinitions) ||
    !ports.every(
      (d) =>
        isObj(d) &&
        isInt(d.port, 0, 65535) &&
        typeof d.protocol === 'string' &&
        ['tcp', 'udp', 'udp,tcp'].includes(d.protocol),
    )
  ) {
    p.push('portDefinitions must be [{port 0..65535, protocol}]');
  }
  const portNumbers = ports.map((d) => (isObj(d) ? d.port : undefined));
  if (new Set(portNumbers).size !== portNumbers.length) p.push('portDefinitions repeat a port');
  const names = ports.map((d) => (isObj(d) ? d.name : undefined)).filter((n) => n !== undefined);
  if (!names.every((n) => typeof n === 'string' && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(n)))
    p.push('port names must be DNS labels');
  if (typeof app.requirePorts !== 'boolean') p.push('requirePorts must be a boolean');

  if (!Array.isArray(app.healthChecks) || app.healthChecks.length === 0)
    p.push('healthChecks must be a non-empty array');
  else {
    for (const h of app.healthChecks) {
      if (!isObj(h) || typeof h.protocol !== 'string' || !HEALTH_PROTOCOLS.includes(h.protocol)) {
        p.push('healthCheck protocol invalid');
        continue;
      }
      if (typeof h.path !== 'string' || !h.path.startsWith('/')) p.push('healthCheck path must start with /');
      if ((h.port === undefined) === (h.portIndex === undefined))
        p.push('healthCheck needs exactly one of port, portIndex');
      if (h.port !== undefined && !portNumbers.includes(h.port))
        p.push(`healthCheck port ${JSON.stringify(h.port)} is not reserved`);
      if (h.portIndex !== undefined && !(isInt(h.portIndex) && (h.portIndex as number) < ports.length))
        p.push('healthCheck portIndex out of range');
      for (const k of ['gracePeriodSeconds', 'intervalSeconds', 'timeoutSeconds', 'maxConsecutiveFailures']) {
        if (!isInt(h[k])) p.push(`healthCheck ${k} must be a non-negative integer`);
      }
      if (
        isInt(h.timeoutSeconds) &&
        isInt(h.intervalSeconds) &&
        (h.timeoutSeconds as number) >= (h.intervalSeconds as number)
      ) {
        p.push('healthCheck timeoutSeconds must be below intervalSeconds');
      }
    }
  }
  const u = app.upgradeStrategy;
  if (
    !isObj(u) ||
    [u.minimumHealthCapacity, u.maximumOverCapacity].some((x) => typeof x !== 'number' || x < 0 || x > 1)
  ) {
    p.push('upgradeStrategy capacities must be numbers in [0, 1]');
  }
  // Marathon's own: absent (any role), or roles that are not empty.
  if (
    app.acceptedResourceRoles !== undefined &&
    (!Array.isArray(app.acceptedResourceRoles) ||
      !app.acceptedResourceRoles.every((r) => typeof r === 'string' && r !== ''))
  ) {
    p.push('acceptedResourceRoles must be non-empty strings');
  }
  if (
    !Array.isArray(app.constraints) ||
    !app.constraints.every((c2) => Array.isArray(c2) && c2.every((x) => typeof x === 'string'))
  ) {
    p.push('constraints must be arrays of strings');
  }
  if (!isObj(app.labels) || !Object.values(app.labels).every((v) => typeof v === 'string'))
    p.push('labels must be strings');
  return p;
}

/** Renders, parses and validates; returns the app. */
function renderApp(options: View): Obj {
  const text = render(options);
  let app: unknown;
  try {
    app = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `rendered template is not JSON (${(e as Error).message}) for ${JSON.stringify(options)}:\n${text.slice(0, 2000)}`,
      { cause: e },
    );
  }
  expect(validateApp(app)).toEqual([]);
  return app as Obj;
}

/** The app's args without the entrypoint mode, parsed by the CLI with the app's string env. */
function cliOptions(app: Obj): Options {
  const args = app.args as string[];
  expect(args[0]).toBe('sse');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(app.env as Obj)) if (typeof v === 'string') env[k] = v;
  const r = parseArgs(args.slice(1), env);
  if (!r.ok) throw new Error(`parseArgs rejects ${JSON.stringify(args)}: ${JSON.stringify(r)}`);
  return r.value;
}

const certs = makeTestCerts();
const PEM = `${certs.serverCert}${certs.serverKey}`;

/** A changed value for each option: booleans flipped, others set to something unusual but valid. */
function changed(key: string, p: PropSchema): unknown {
  const special: Record<string, unknown> = {
    name: '/lb/marathon-lb-internal',
    role: '*',
    'haproxy-group': 'internal',
    'marathon-uri': 'https://marathon.example.com:8443',
    'marathon-ca-cert': '/mnt/mesos/sandbox/.ssl/ca-bundle.crt',
    'ssl-cert': PEM,
    'auth-credential': 'admin:p@ss "word" \\ with/slash',
    secret_name: 'marathon-lb/service-credential',
    'sysctl-params': 'net.core.somaxconn=20000',
    haproxy_global_default_options: 'redispatch,dontlognull,forwardfor',
    'template-url': 'https://artifacts.example.com/templates.tgz?v=1&x="y"',
    parameters: [
      { key: 'ulimit', value: 'nofile=400000:400000' },
      { key: 'label', value: 'team="edge" & co' },
    ],
    'admin-bind': '0.0.0.0',
    'admin-token-secret': 'marathon-lb/admin-token',
    'admin-token': 'Ab+Cd/"Ef"\\==', // one word: an Authorization header carries no blank
    minimumHealthCapacity: 0,
    maximumOverCapacity: 1,
  };
  if (key in special) return special[key];
  switch (p.type) {
    case 'boolean':
      return !p.default;
    case 'integer':
      return (p.default as number) + 3;
    case 'number':
      return (p.default as number) * 2 + 0.5;
    case 'string':
      return 'a "quoted" \\ value\nwith a newline';
    default:
      throw new Error(`no changed value for option ${key} of type ${p.type}`);
  }
}

function matchesType(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObj(value);
    default:
      return false;
  }
}

describe('universe/config.json', () => {
  it('is a draft-04 style object schema of the marathon-lb options', () => {
    expect(config.type).toBe('object');
    expect(config.properties['marathon-lb'].type).toBe('object');
    for (const r of config.properties['marathon-lb'].required) expect(PROPS).toHaveProperty([r]);
  });

  it('has the options of the marathon-lb package', () => {
    expect(Object.keys(PROPS)).toEqual(
      expect.arrayContaining([
        'name',
        'cpus',
        'mem',
        'instances',
        'haproxy-group',
        'haproxy-map',
        'bind-http-https',
        'ssl-cert',
        'marathon-uri',
        'auth-credential',
        'secret_name',
        'strict-mode',
        'sysctl-params',
        'haproxy_global_default_options',
        'role',
        'minimumHealthCapacity',
        'maximumOverCapacity',
        'parameters',
      ]),
    );
    expect(PROPS.role?.default).toBe('slave_public');
    expect(PROPS.name?.default).toBe('marathon-lb');
  });

  it.each(Object.entries(PROPS))(
    'option %s has a type, a default of that type within its bounds, and a description',
    (key, p) => {
      expect(['string', 'boolean', 'integer', 'number', 'array', 'object']).toContain(p.type);
      expect(p).toHaveProperty('default');
      expect(matchesType(p.default, p.type)).toBe(true);
      expect(typeof p.description).toBe('string');
      expect((p.description as string).length).toBeGreaterThan(10);
      if (p.minimum !== undefined) expect(p.default as number).toBeGreaterThanOrEqual(p.minimum);
      if (p.maximum !== undefined) expect(p.default as number).toBeLessThanOrEqual(p.maximum);
      if (p.pattern !== undefined) expect(String(p.default)).toMatch(new RegExp(p.pattern));
      if (p.enum !== undefined) expect(p.enum).toContain(p.default);
      if (p.type === 'array') expect(p.items?.type).toBeDefined();
      // every option is used by the template
      expect(TEMPLATE).toContain(`marathon-lb.${key}}}`);
      // and the changed value used below is valid for its own schema
      const v = changed(key, p);
      expect(matchesType(v, p.type)).toBe(true);
      if (p.pattern !== undefined) expect(String(v)).toMatch(new RegExp(p.pattern));
      if (p.minimum !== undefined) expect(v as number).toBeGreaterThanOrEqual(p.minimum);
      if (p.maximum !== undefined) expect(v as number).toBeLessThanOrEqual(p.maximum);
    },
  );
});

// Found by an audit: values the schema took made the controller exit 2 at every start (a crash loop).
describe('universe/config.json refuses what the controller would refuse at start', () => {
  const accepts = (key: string, v: unknown): boolean => {
    const p = PROPS[key]!;
    if (p.pattern !== undefined && !new RegExp(p.pattern).test(String(v))) return false;
    const matches = (n: {
      readonly enum?: readonly unknown[];
      readonly minimum?: number;
      readonly maximum?: number;
    }) =>
      n.enum !== undefined
        ? n.enum.includes(v)
        : typeof v === 'number' && v >= (n.minimum ?? -Infinity) && v <= (n.maximum ?? Infinity);
    return !(p.not?.anyOf.some(matches) ?? false);
  };
  it.each([
    ['haproxy-group', ['', ' '], ['external', '*', 'a,b']],
    [
      'marathon-uri',
      ['http://', 'http://m:99999', 'http://a:8080,http://b:8080', 'https://m/ x'],
      ['http://marathon.mesos:8080', 'https://m.example.com:8443/marathon', 'http://[::1]:8080', 'http://u:p@m:8080'],
    ],
    ['auth-credential', ['bob', ':pw', ' user:pw'], ['', 'user:pw', 'user:p:w']],
    ['admin-bind', ['a_b', '-x', 'a b'], ['127.0.0.1', '0.0.0.0', '::', 'lb-1.example.com']],
    ['admin-port', [80, 443, 9090, 9091, 10000, 10050, 10150], [0, 9191, 9092, 9999, 10151]],
  ] as const)('%s', (key, refused, taken) => {
    for (const v of refused) expect([v, accepts(key, v)]).toEqual([v, false]);
    for (const v of taken) expect([v, accepts(key, v)]).toEqual([v, true]);
  });
});

describe('universe/package.json and resource.json', () => {
  it('describe a packagingVersion 4.0 non-framework package', () => {
    expect(pkg.packagingVersion).toBe('4.0');
    expect(pkg.name).toBe('marathon-lb');
    expect(pkg.framework).toBe(false);
    expect(pkg.selected).toBe(true);
    for (const k of ['version', 'maintainer', 'description', 'preInstallNotes', 'postInstallNotes']) {
      expect(typeof pkg[k]).toBe('string');
      expect((pkg[k] as string).length).toBeGreaterThan(0);
    }
    expect(
      Array.isArray(pkg.tags) && (pkg.tags as unknown[]).every((t) => typeof t === 'string' && /^[^\s]+$/.test(t)),
    ).toBe(true);
    const licenses = pkg.licenses as { name: string; url: string }[];
    expect(licenses.length).toBeGreaterThan(0);
    for (const l of licenses) expect(l.url).toMatch(/^https:\/\//);
  });

  it('version and image tag follow the project version', () => {
    const root = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(pkg.version).toBe(root.version);
    const image = resource.assets.container.docker['marathon-lb'] as string;
    expect(image).toMatch(/^[a-z0-9./_-]+:[A-Za-z0-9._-]+$/);
    expect(image.split(':').pop()).toBe(root.version);
  });

  it('has https icons', () => {
    for (const size of ['icon-small', 'icon-medium', 'icon-large'])
      expect(resource.images[size]).toMatch(/^https:\/\/.+\.png$/);
  });
});

describe('universe/marathon.json.mustache', () => {
  it("renders the defaults into a valid Marathon app like upstream's package", () => {
    const app = renderApp(defaults());
    expect(app.id).toBe('marathon-lb');
    expect(app.instances).toBe(1);
    expect(app.cpus).toBe(2);
    expect(app.mem).toBe(1024);
    expect((app.container as Obj).docker).toMatchObject({
      image: resource.assets.container.docker['marathon-lb'],
      network: 'HOST',
    });
    expect((app.args as string[]).slice(0, 2)).toEqual(['sse', '--health-check']);
    expect(app.acceptedResourceRoles).toEqual(['slave_public']);
    const ports = (app.portDefinitions as Obj[]).map((d) => d.port);
    const range = Array.from({ length: 101 }, (_, i) => 10000 + i);
    expect(ports).toEqual([80, 443, 9090, 9091, 9191, ...range]);
    expect(app.healthChecks).toEqual([expect.objectContaining({ path: '/_haproxy_health_check', port: 9090 })]);
    expect(app.env).toMatchObject({ HAPROXY_SSL_CERT: '', PORTS: '80,443,9090,9091' });
    expect(app.secrets).toEqual({});
    expect(app.fetch).toEqual([]);

    const o = cliOptions(app);
    expect(o.sse).toBe(false); // the mode word, not a flag: docker/run turns `sse` into --sse
    expect(o.healthCheck).toBe(true);
    expect(o.group).toEqual(['external']);
    expect(o.marathon).toEqual(['http://marathon.mesos:8080']);
    expect(o.haproxyMap).toBe(true);
    expect(o.strictMode).toBe(false);
    expect(o.dontBindHttpHttps).toBe(false);
    expect(o.authCredentials).toBeUndefined();
    expect([o.adminBind, o.adminPort, o.adminToken]).toEqual(['127.0.0.1', 9191, undefined]);
    expect([o.minServPortIpPerTask, o.maxServPortIpPerTask]).toEqual([10050, 10100]); // marathon-lb's own default range
  });

  // Found by a migration check: dotted ids were refused; then ones Marathon refuses were taken.
  it("the name pattern takes Marathon's ids with dots, and only those", () => {
    const name = new RegExp(PROPS.name!.pattern!);
    for (const ok of ['marathon-lb', 'mlb.internal', '/lb/marathon-lb-internal', '/a/b.c'])
      expect(name.test(ok)).toBe(true);
    for (const bad of ['a..b', 'a.-b', 'lb-.x', '-a', 'A']) expect(name.test(bad)).toBe(false);
  });

  // Found by a migration check: upstream's package left these out when empty, as marathon-lb's defaults
  // and any role; rendered empty they removed every default option and named a role "".
  it('an empty haproxy_global_default_options or role is left out, not rendered empty', () => {
    const app = renderApp({ ...defaults(), haproxy_global_default_options: '', role: '' });
    expect(app.env as Obj).not.toHaveProperty('HAPROXY_GLOBAL_DEFAULT_OPTIONS');
    expect(app).not.toHaveProperty('acceptedResourceRoles');
  });

  it.each(Object.entries(PROPS))('renders a valid app with %s changed', (key, p) => {
    const options = { ...defaults(), [key]: changed(key, p) };
    const app = renderApp(options);
    const o = cliOptions(app);
    const env = app.env as Obj;
    const v = options[key];
    switch (key) {
      case 'name':
        expect(app.id).toBe(v);
        expect((app.labels as Obj).DCOS_SERVICE_NAME).toBe(v);
        break;
      case 'instances':
      case 'cpus':
      case 'mem':
        expect(app[key]).toBe(v);
        break;
      case 'role':
        expect(app.acceptedResourceRoles).toEqual([v]);
        break;
      case 'haproxy-group':
        expect(o.group).toEqual([v]);
        break;
      case 'haproxy-map':
        expect(o.haproxyMap).toBe(v);
        break;
      case 'strict-mode':
        expect(o.strictMode).toBe(v);
        break;
      case 'bind-http-https': {
        expect(o.dontBindHttpHttps).toBe(!v);
        const ports = (app.portDefinitions as Obj[]).map((d) => d.port);
        expect(ports.includes(80) && ports.includes(443)).toBe(v);
        expect(env.PORTS).toBe(v ? '80,443,9090,9091' : '9090,9091');
        break;
      }
      case 'marathon-uri':
        expect(o.marathon).toEqual([v]);
        break;
      case 'marathon-ca-cert':
        expect(o.marathonCaCert).toBe(v);
        break;
      case 'marathon-insecure':
        expect(o.marathonInsecure).toBe(v);
        break;
      case 'ssl-cert':
        expect(env.HAPROXY_SSL_CERT).toBe(v);
        break;
      case 'auth-credential':
        expect(env.MLB_AUTH_CREDENTIALS).toBe(v);
        expect(o.authCredentials).toBe(v);
        break;
      case 'secret_name':
        expect(env.DCOS_SERVICE_ACCOUNT_CREDENTIAL).toEqual({ secret: 'serviceCredential' });
        expect(app.secrets).toEqual({ serviceCredential: { source: v } });
        break;
      case 'sysctl-params':
        expect(env.HAPROXY_SYSCTL_PARAMS).toBe(v);
        break;
      case 'haproxy_global_default_options':
        expect(env.HAPROXY_GLOBAL_DEFAULT_OPTIONS).toBe(v);
        break;
      case 'container-syslogd':
        expect(env.HAPROXY_SYSLOGD).toBe(v ? 'true' : undefined);
        break;
      case 'template-url':
        expect(app.fetch).toEqual([{ uri: v, extract: true }]);
        break;
      case 'max-reload-retries':
        expect(o.maxReloadRetries).toBe(v);
        break;
      case 'reload-interval':
        expect(o.reloadInterval).toBe(v);
        break;
      case 'health-check-grace-period':
        expect((app.healthChecks as Obj[])[0]?.gracePeriodSeconds).toBe(v);
        break;
      case 'health-check-interval':
        expect((app.healthChecks as Obj[])[0]?.intervalSeconds).toBe(v);
        break;
      case 'minimumHealthCapacity':
      case 'maximumOverCapacity':
        expect((app.upgradeStrategy as Obj)[key]).toBe(v);
        break;
      case 'parameters':
        expect(((app.container as Obj).docker as Obj).parameters).toEqual([
          { key: 'ulimit', value: 'nofile=200000:200000' },
          ...(v as Obj[]),
        ]);
        break;
      case 'auto-assign-service-ports': {
        expect([o.minServPortIpPerTask, o.maxServPortIpPerTask]).toEqual(v ? [10101, 10150] : [10050, 10100]);
        const ports = (app.portDefinitions as Obj[]).map((d) => d.port as number);
        expect(ports.filter((p) => p >= 10101 && p <= 10150)).toHaveLength(v ? 50 : 0);
        break;
      }
      case 'admin-bind':
        expect(o.adminBind).toBe(v);
        break;
      case 'admin-port': {
        expect(o.adminPort).toBe(v);
        expect((app.portDefinitions as Obj[]).filter((d) => d.name === 'admin')).toEqual([
          { port: v, protocol: 'tcp', name: 'admin' },
        ]);
        break;
      }
      case 'admin-token':
        expect(env.MLB_ADMIN_TOKEN).toBe(v);
        expect(o.adminToken).toBe(v);
        expect(JSON.stringify(app.args)).not.toContain('admin-token');
        break;
      case 'admin-token-secret':
        expect(env.MLB_ADMIN_TOKEN).toEqual({ secret: 'adminToken' });
        expect(app.secrets).toEqual({ adminToken: { source: v } });
        break;
      default:
        throw new Error(`option ${key} has no check of its effect in this test: add one`);
    }
  });

  it('renders with every option changed at once', () => {
    const all: View = {};
    for (const [k, p] of Object.entries(PROPS)) all[k] = changed(k, p);
    const app = renderApp(all);
    const o = cliOptions(app);
    expect(o.strictMode).toBe(true);
    expect(o.haproxyMap).toBe(false);
    expect(o.dontBindHttpHttps).toBe(true);
    expect(Object.keys(app.env as Obj).sort()).toEqual([
      'DCOS_SERVICE_ACCOUNT_CREDENTIAL',
      'HAPROXY_GLOBAL_DEFAULT_OPTIONS',
      'HAPROXY_SSL_CERT',
      'HAPROXY_SYSCTL_PARAMS',
      'HAPROXY_SYSLOGD',
      'MLB_ADMIN_TOKEN',
      'MLB_AUTH_CREDENTIALS',
      'PORTS',
    ]);
    // both secrets declared; the token's secret wins over the plain token
    expect(app.secrets).toEqual({
      serviceCredential: { source: all.secret_name },
      adminToken: { source: all['admin-token-secret'] },
    });
    expect((app.env as Obj).MLB_ADMIN_TOKEN).toEqual({ secret: 'adminToken' });
    expect([o.minServPortIpPerTask, o.maxServPortIpPerTask, o.adminBind, o.adminPort]).toEqual([
      10101,
      10150,
      '0.0.0.0',
      9194,
    ]);
  });

  it('admin-port 0 disables the admin API and reserves no port for it', () => {
    const app = renderApp({ ...defaults(), 'admin-port': 0 });
    expect(cliOptions(app).adminPort).toBe(0);
    expect((app.portDefinitions as Obj[]).some((d) => d.name === 'admin' || d.port === 0)).toBe(false);
  });

  it('the admin port and the auto-assigned service port range are reserved beside the others, each once', () => {
    const app = renderApp({ ...defaults(), 'auto-assign-service-ports': true, 'admin-port': 9200 });
    const ports = (app.portDefinitions as Obj[]).map((d) => d.port as number);
    expect(ports.slice(0, 5)).toEqual([80, 443, 9090, 9091, 9200]);
    expect(ports.slice(5)).toEqual(Array.from({ length: 151 }, (_, i) => 10000 + i));
    expect(app.requirePorts).toBe(true);
  });

  it('the admin token set in the package reaches the service through the environment only', () => {
    const token = 's3cr3t-"token"';
    const app = renderApp({ ...defaults(), 'admin-bind': '0.0.0.0', 'admin-token': token });
    expect(JSON.stringify(app.args)).not.toContain('s3cr3t');
    expect((app.env as Obj).MLB_ADMIN_TOKEN).toBe(token);
    const o = cliOptions(app);
    expect([o.adminBind, o.adminToken]).toEqual(['0.0.0.0', token]);
  });

  it('a multi-line PEM certificate survives rendering byte for byte', () => {
    const app = renderApp({ ...defaults(), 'ssl-cert': PEM });
    expect((app.env as Obj).HAPROXY_SSL_CERT).toBe(PEM);
  });
});
