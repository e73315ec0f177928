import * as fs from 'node:fs';
import * as path from 'node:path';
import { TEMPLATES } from '../../src/templates/catalog';
import { compilePythonFormat, renderTemplate, renderTemplateInto } from '../../src/render/format';
import { readTemplateOverrides } from '../../src/render/loadTemplates';
import { REPO_ROOT } from '../support/paths';
import { dryRun, tempDir } from '../support/render';

const apps = {
  apps: [
    {
      id: '/web',
      labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com' },
      portDefinitions: [{ port: 10001 }],
      tasks: [{ id: 'web.1', host: '10.0.0.1', ports: [31001], state: 'TASK_RUNNING' }],
    },
    {
      id: '/api',
      labels: {
        HAPROXY_GROUP: 'external',
        HAPROXY_0_BACKEND_HEAD: '\nbackend {backend}\n  balance {balance}\n  mode {mode}\n  # api {{literal}}\n',
      },
      portDefinitions: [{ port: 10002 }],
      tasks: [{ id: 'api.1', host: '10.0.0.2', ports: [31002], state: 'TASK_RUNNING' }],
    },
  ],
};

describe('templates: marathon-lb precedence and Python placeholders', () => {
  let dir: string;
  let appsFile: string;
  beforeEach(() => {
    dir = tempDir();
    appsFile = path.join(dir, 'apps.json');
    fs.writeFileSync(appsFile, JSON.stringify(apps));
    fs.mkdirSync(path.join(dir, 'templates'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const render = (env: Record<string, string> = {}, extra: string[] = []) =>
    dryRun(
      ['--apps-file', appsFile, '--group', 'external', '--templates-dir', path.join(dir, 'templates'), ...extra],
      env,
    );

  test('the catalog lists all 53 templates, each with a built-in file', () => {
    const catalog = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'config/templates/catalog.json'), 'utf8')) as {
      name: string;
      overridable: boolean;
    }[];
    expect(TEMPLATES).toHaveLength(53);
    expect(TEMPLATES.map((t) => t.name).sort()).toEqual(catalog.map((t) => t.name).sort());
    for (const t of TEMPLATES)
      expect(fs.existsSync(path.join(REPO_ROOT, `config/templates/HAPROXY_${t.name}.mustache`))).toBe(true);
  });

  test('a per-app template label replaces the global one for that app only, with {{ }} as literal braces', async () => {
    const run = await render();
    expect(run.stdout).toContain('backend api_10002\n  balance roundrobin\n  mode tcp\n  # api {literal}\n');
    expect(run.stdout).toContain('backend web_10001\n  balance roundrobin\n  mode http\n');
  });

  test('env var HAPROXY_<NAME> overrides with \\n escapes; it wins over a templates/ file', async () => {
    fs.writeFileSync(
      path.join(dir, 'templates', 'HAPROXY_FRONTEND_HEAD'),
      '\nfrontend {backend}\n  # from file\n  bind {bindAddr}:{servicePort}\n  mode {mode}\n',
    );
    const fromFile = await render();
    expect(fromFile.stdout).toContain('frontend web_10001\n  # from file\n  bind *:10001\n');
    const fromEnv = await render({
      HAPROXY_FRONTEND_HEAD:
        '\\nfrontend {backend}\\n  # from env\\n  bind {bindAddr}:{servicePort}\\n  mode {mode}\\n',
    });
    expect(fromEnv.stdout).toContain('frontend web_10001\n  # from env\n  bind *:10001\n');
    expect(fromEnv.stdout).not.toContain('# from file');
  });

  test('HAPROXY_GLOBAL_DEFAULT_OPTIONS and --lua-dir shape the head', async () => {
    const run = await render({ HAPROXY_GLOBAL_DEFAULT_OPTIONS: 'redispatch, httplog' }, ['--lua-dir', '/opt/mlb/lua']);
    expect(run.stdout).toContain('  option            httplog\n  option            redispatch\n');
    expect(run.stdout).toContain('lua-load /opt/mlb/lua/getpids.lua');
  });

  // The universe package always sets it: blank, the head had `option` alone and HAProxy refused the config.
  test.each(['', ' ', 'redispatch,,dontlognull', 'redispatch,'])(
    'HAPROXY_GLOBAL_DEFAULT_OPTIONS=%j: no option line without a name',
    async (value) => {
      const run = await render({ HAPROXY_GLOBAL_DEFAULT_OPTIONS: value });
      expect(run.code).toBe(0);
      expect(run.stdout).not.toMatch(/^ *option *$/m);
      if (value.includes('redispatch')) expect(run.stdout).toContain('  option            redispatch\n');
    },
  );

  test('a broken global override is one clear error, exit 2', async () => {
    const run = await render({ HAPROXY_BACKEND_HEAD: '\nbackend {backend\n' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /environment variable HAPROXY_BACKEND_HEAD: template HAPROXY_BACKEND_HEAD: '\{' at offset \d+ is never closed/,
    );
    expect(run.stdout).toBe('');
  });

  test('a HAPROXY_HEAD with daemon is refused like upstream', async () => {
    const run = await render({ HAPROXY_HEAD: 'global\n  daemon\n  stats socket /x expose-fd listeners\n' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/remove "daemon"/);
  });

  test('Python format: literal braces, None for absent values, format specs (python-format.test.ts)', () => {
    const t = compilePythonFormat('X', 'a {{b}} {c} {d}');
    expect(renderTemplate(t, { c: 1, d: null })).toBe('a {b} 1 None');
    expect(renderTemplate(t, { c: 1 })).toEqual({ missing: 'd' });
    expect(renderTemplate(compilePythonFormat('X', '{c:>4}'), { c: 1 })).toBe('   1');
    expect(() => compilePythonFormat('X', 'a } b')).toThrow(/single '\}'/);
  });

  test('a placeholder named like what every object inherits is missing, as any unknown name', () => {
    // Python's format raises KeyError for them; read from the context they printed function sources.
    for (const key of Object.getOwnPropertyNames(Object.prototype)) {
      const t = compilePythonFormat('X', `backend {backend} {${key}}`);
      expect(renderTemplate(t, { backend: 'b' })).toEqual({ missing: key });
      const out: string[] = [];
      expect(renderTemplateInto(t, { backend: 'b' }, out)).toEqual({ missing: key });
    }
    expect(renderTemplate(compilePythonFormat('X', '{constructor}'), { constructor: 'own' })).toBe('own');
  });
});

describe('readTemplateOverrides: env var, else a file in the templates directory', () => {
  test('env wins over a file; a file is read; other files and a missing directory add nothing', () => {
    const dir = tempDir('mlb-templates-');
    try {
      fs.writeFileSync(path.join(dir, 'HAPROXY_BACKEND_HEAD'), 'backend {backend}\n');
      fs.writeFileSync(path.join(dir, 'HAPROXY_FRONTEND_HEAD'), 'from file\n');
      fs.writeFileSync(path.join(dir, 'README'), 'not a template\n');
      const env = { HAPROXY_FRONTEND_HEAD: 'from env\\n' };
      expect(readTemplateOverrides(env, dir).map((o) => [o.name, o.text, o.source.split(' ')[0]])).toEqual([
        ['FRONTEND_HEAD', 'from env\n', 'environment'],
        ['BACKEND_HEAD', 'backend {backend}\n', 'template'],
      ]);
      expect(readTemplateOverrides({}, path.join(dir, 'missing'))).toEqual([]);
      expect(readTemplateOverrides({}, path.join(dir, 'README'))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
