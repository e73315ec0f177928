import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { selfSignedArgs } from '../startup/certificate';

/** Where the demo's HAProxy listens instead of marathon-lb's privileged defaults. */
export interface DemoPorts {
  readonly http: number; // marathon-lb: 80
  readonly https: number; // 443
  readonly stats: number; // 9090
  readonly appid: number; // 9091
}

export const DEFAULT_DEMO_PORTS: DemoPorts = { http: 18080, https: 18443, stats: 19090, appid: 19091 };

export interface DemoFiles {
  readonly dir: string;
  readonly templatesDir: string;
  readonly cert: string;
  /** marathon-lb flags that point HAProxy's files into `dir`. */
  readonly flags: readonly string[];
}

/**
 * Prepares a directory where an unprivileged user can run marathon-lb's HAProxy: a self-signed
 * certificate, and template overrides (the same mechanism users have) that move the listeners to
 * unprivileged loopback ports, the sockets and state into `dir`, and lower `maxconn` so HAProxy
 * starts under a default `ulimit -n`. Everything else is marathon-lb's default config.
 */
export function prepareDemoFiles(dir: string, configDir: string, ports: DemoPorts = DEFAULT_DEMO_PORTS): DemoFiles {
  fs.mkdirSync(path.join(dir, 'templates'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'state'), { recursive: true });
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    selfSignedArgs({
      days: 30,
      subject: '/CN=*.example.com',
      keyOut: path.join(dir, 'key.pem'),
      certOut: path.join(dir, 'crt.pem'),
    }),
    { stdio: 'pipe' },
  );
  fs.writeFileSync(
    cert,
    fs.readFileSync(path.join(dir, 'crt.pem'), 'utf8') + fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'),
  );

  const builtinHead = fs.readFileSync(path.join(configDir, 'templates', 'HAPROXY_HEAD.mustache'), 'utf8');
  const swaps: [string, string][] = [
    [
      '{{globalDefaultOptions}}',
      '  option            dontlognull\n  option            http-server-close\n  option            redispatch\n',
    ],
    ['{{luaDir}}', path.join(configDir, 'lua')],
    ['maxconn 50000', 'maxconn 4096'],
    // No syslog socket on a developer box: HAProxy would report every failed log write.
    ['  log /dev/log local0\n  log /dev/log local1 notice\n', ''],
    ['stats socket /var/run/haproxy/socket', `stats socket ${path.join(dir, 'haproxy.sock')} level admin`],
    ['server-state-base /var/state/haproxy/', `server-state-base ${path.join(dir, 'state')}/`],
    ['bind 0.0.0.0:9090', `bind 127.0.0.1:${ports.stats}`],
  ];
  let head = builtinHead;
  for (const [from, to] of swaps) {
    if (!head.includes(from)) throw new Error(`demo: the built-in HAPROXY_HEAD no longer contains "${from}"`);
    head = head.split(from).join(to);
  }
  const templates: Record<string, string> = {
    HAPROXY_HEAD: head,
    HAPROXY_HTTP_FRONTEND_HEAD: `\nfrontend marathon_http_in\n  bind 127.0.0.1:${ports.http}\n  mode http\n`,
    HAPROXY_HTTP_FRONTEND_APPID_HEAD: `\nfrontend marathon_http_appid_in\n  bind 127.0.0.1:${ports.appid}\n  mode http\n`,
    HAPROXY_HTTPS_FRONTEND_HEAD: `\nfrontend marathon_https_in\n  bind 127.0.0.1:${ports.https} ssl {sslCerts}\n  mode http\n`,
  };
  for (const [name, text] of Object.entries(templates)) fs.writeFileSync(path.join(dir, 'templates', name), text);
  return {
    dir,
    templatesDir: path.join(dir, 'templates'),
    cert,
    flags: [
      '--haproxy-config',
      path.join(dir, 'haproxy.cfg'),
      '--haproxy-master-socket',
      path.join(dir, 'master.sock'),
      '--haproxy-pid-file',
      path.join(dir, 'haproxy.pid'),
      '--templates-dir',
      path.join(dir, 'templates'),
      '--ssl-certs',
      cert,
      '--lua-dir',
      path.join(configDir, 'lua'),
    ],
  };
}
