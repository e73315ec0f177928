import { ConfigFiles, type ConfigFilesOptions } from '../../src/haproxy/configFiles';
import type { Server, Service } from '../../src/model/types';
import type { RenderOptions } from '../../src/render/render';

/** Server n: 10.0.0.n:31000 with a stable made-up id. */
export const makeServer = (n: number, extra: Partial<Server> = {}): Server => ({
  name: `10_0_0_${n}_31000`,
  id: 100 + n,
  host: `10.0.0.${n}`,
  ip: `10.0.0.${n}`,
  port: 31000,
  draining: false,
  healthCheckPort: null,
  ...extra,
});

/** A plain http service of app `/<backend>` with marathon-lb's defaults. */
export const makeService = (backend: string, servers: Server[], extra: Partial<Service> = {}): Service => ({
  appId: `/${backend}`,
  portIndex: 0,
  servicePort: 10000,
  backend,
  mode: 'http',
  balance: 'roundrobin',
  bindAddr: '*',
  bindOptions: null,
  sslCert: null,
  hostname: null,
  path: null,
  auth: null,
  sticky: false,
  redirectHttpToHttps: false,
  useHsts: false,
  backendWeight: 0,
  networkAllowed: null,
  proxyPath: null,
  revProxyPath: null,
  redirPath: null,
  healthCheck: null,
  backendCheckPort: null,
  templateLabels: {},
  servers,
  ...extra,
});

/** A simulator app: `/web` with `instances` tasks, in the external group, virtual host web.example.com, on `port`. */
export const webApp = (port: number, instances = 1) => ({
  id: '/web',
  instances,
  labels: { HAPROXY_GROUP: 'external', HAPROXY_0_VHOST: 'web.example.com' },
  portDefinitions: [{ port }],
});

/**
 * An app of a `/v2/apps?embed=apps.tasks` body for `--dry`: in the external group, service port
 * `port`, `tasks` running tasks on 10.0.0.9 (ports from 31000 + port - 10000, 100 apart), `labels` added.
 */
export const appWithTasks = (
  id: string,
  port: number,
  labels: Record<string, string>,
  tasks = 1,
): Record<string, unknown> => ({
  id,
  instances: tasks,
  labels: { HAPROXY_GROUP: 'external', ...labels },
  portDefinitions: [{ port }],
  tasks: Array.from({ length: tasks }, (_, i) => ({
    id: `${id.slice(1)}.${i + 1}`,
    host: '10.0.0.9',
    ports: [31000 + port - 10000 + 100 * i],
    state: 'TASK_RUNNING',
  })),
});

/** appWithTasks with one task, on its own vhost: the app id without its slash, under example.com. */
export const appOnOwnVhost = (id: string, port: number, labels: Record<string, string>): Record<string, unknown> =>
  appWithTasks(id, port, { HAPROXY_0_VHOST: `${id.slice(1)}.example.com`, ...labels });

/** The pipeline's timing in virtual-time tests: 5-frame quiet, 20-frame max wait, backoff 10 → 40 frames without jitter. */
export const VIRTUAL_TIMING = {
  quietMs: 5,
  maxWaitMs: 20,
  resyncIntervalMs: 1000,
  backoff: { initialMs: 10, maxMs: 40, factor: 2, jitter: () => 1 },
};

/** A Marathon readiness check as an app definition carries it: HTTP GET /ready on the port named http, every second. */
export const READINESS_CHECKS = [
  {
    name: 'readinessCheck',
    protocol: 'HTTP',
    path: '/ready',
    portName: 'http',
    intervalSeconds: 1,
    timeoutSeconds: 1,
    httpStatusCodesForReady: [200],
  },
];

/** marathon-lb's default render options (no --haproxy-map, binding :80/:443), for HAProxy 2.1+. */
export const DEFAULT_RENDER_OPTIONS: RenderOptions = {
  bindHttpHttps: true,
  sslCerts: ['/etc/ssl/cert.pem'],
  haproxyMap: false,
  groupHttpsByVhost: false,
  haproxyDir: '/etc/haproxy',
  globalDefaultOptions: 'redispatch,http-server-close,dontlognull',
  luaDir: '/marathon-lb',
  translateLegacy: true,
};

/** The config files of tests: no map files, no archive, nothing logged; `validate` stands for `haproxy -c`. */
export const testConfigFiles = (configPath: string, validate: ConfigFilesOptions['validate']): ConfigFiles =>
  new ConfigFiles({
    configPath,
    haproxyMap: false,
    archiveVersions: 0,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined },
    live: { hardStopAfterSeconds: undefined, maxOldWorkers: 10 },
    validate,
  });
