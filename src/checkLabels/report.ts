/**
 * What `check-labels` found, as data (printed as text, or as JSON with --json), and the fix it
 * suggests for each kind of problem. Pure.
 */
import { TEMPLATE_LABEL_NAMES } from '../templates/catalog';
import { printable } from '../printable';

export interface Finding {
  readonly portIndex: number | null;
  readonly label: string | null;
  readonly message: string;
  readonly fix: string | null;
  /** Who refuses it: the model (as the service would, before HAProxy) or `haproxy -c`. */
  readonly by: 'model' | 'haproxy';
}

export type PortStatus = 'served' | 'left out' | 'not selected';

export interface PortResult {
  readonly index: number;
  readonly servicePort: number | null;
  readonly status: PortStatus;
  readonly backend?: string;
  /** Why it is not selected (group, strict mode, HAPROXY_{n}_ENABLED). */
  readonly reason?: string;
}

export type HaproxyCheck = 'accepted' | 'rejected' | 'not installed' | 'not needed';

export interface Report {
  readonly appId: string;
  readonly groups: readonly string[];
  readonly target: string;
  readonly ports: readonly PortResult[];
  readonly problems: readonly Finding[];
  readonly haproxy: HaproxyCheck;
  /** The HAProxy binary asked (--haproxy-bin). */
  readonly haproxyBin?: string;
  readonly notes: readonly string[];
  /** Set when nothing is served for a reason that is not one port's (no ports, no group…). */
  readonly notServed?: string;
}

/** 0 served without problems; 1 a problem, or nothing served; 3 HAProxy could not check an otherwise good app. */
export function exitCode(r: Report): 0 | 1 | 3 {
  if (r.problems.length > 0 || !r.ports.some((p) => p.status === 'served')) return 1;
  return r.haproxy === 'not installed' ? 3 : 0;
}

const PORT_LABEL = /^HAPROXY_(\d+|\{n\})_(.+)$/;

/** How to fix a problem, by the label (or field) it names and the model's message. */
export function fixFor(label: string | null, message: string, by: Finding['by']): string | null {
  if (by === 'haproxy') {
    return label === null
      ? 'compare the config line HAProxy names with your labels; run marathon-lb --dry with this app for the whole config'
      : `correct ${label} so that HAProxy accepts it (or remove it); HAProxy's own message is above`;
  }
  if (label === null)
    return /already bound/.test(message)
      ? "choose another service port (HAPROXY_{n}_PORT or the app's port definition)"
      : null;
  const m = PORT_LABEL.exec(label);
  const name = m?.[2] ?? label;
  if (TEMPLATE_LABEL_NAMES.has(name)) {
    if (/--refuse-app-templates/.test(message))
      return 'this marathon-lb refuses per-app templates: remove the label, or ask its operator';
    if (/removed in HAProxy/.test(message))
      return 'write the http-request/http-response rule the message names instead of the removed directive';
    if (/uses \{/.test(message)) return 'use only the placeholders the message lists as available';
    return 'correct the template text (see marathon-lb --longhelp for this template)';
  }
  const fixes: Readonly<Record<string, string>> = {
    VHOST: 'host names separated by commas, e.g. app.example.com,www.example.com',
    BIND_ADDR: 'an IP address (e.g. 10.0.0.5), * for every address, or a host name that resolves; or drop the label',
    PORT: 'a port in 1..65535 that no other app and no marathon-lb frontend (80, 443, 9090, 9091) uses; or drop the label',
    MODE: 'http or tcp',
    BALANCE: 'an HAProxy balance algorithm: roundrobin, leastconn, source, first, uri, hdr(<name>), random, …',
    AUTH: 'realm:user:encrypted-password (e.g. mkpasswd -m sha-512 for the password)',
    PATH: 'a path pattern such as /api, optionally preceded by -i',
    SSL_CERT:
      "a readable PEM file (certificate and key) that exists on the marathon-lb host; check-labels reads this machine's files",
    BIND_OPTIONS:
      "HAProxy bind options; files they name must exist on the marathon-lb host (check-labels reads this machine's files)",
    BACKEND_WEIGHT: 'an integer',
    BACKEND_HEALTHCHECK_PORT_INDEX: 'the index of a service port of this app whose tasks answer the health check',
    BACKEND_NETWORK_ALLOWED_ACL:
      'IP addresses, CIDR networks or host names HAProxy resolves, separated by spaces, e.g. 10.0.0.0/8 192.168.1.5',
    HTTP_BACKEND_PROXYPASS_PATH: 'a URL path such as /api',
    HTTP_BACKEND_REVPROXY_PATH: 'a URL path such as /api',
    HTTP_BACKEND_REDIR: 'one word: the path to redirect / to, e.g. /app',
  };
  const fix = fixes[name];
  if (fix !== undefined) return `use ${fix}`;
  if (label === 'id')
    return 'an app id of letters, digits, "-", "_", "." and "/" that no other app\'s backend name collides with';
  if (/port/i.test(label))
    return 'declare ports in 1..65535 (portDefinitions, or portMappings containerPort/hostPort/servicePort)';
  if (/healthChecks/.test(label)) return 'fix the health check as Marathon documents it';
  return null;
}

function portLine(p: PortResult): string {
  const port = p.servicePort === null ? '' : ` (service port ${p.servicePort})`;
  if (p.status === 'served') return `  port index ${p.index}${port}: served by backend ${p.backend ?? '?'}`;
  return `  port index ${p.index}${port}: ${p.status.toUpperCase()}${p.reason === undefined ? '' : ` — ${p.reason}`}`;
}

/** The report as an app owner reads it. */
export function formatReport(r: Report): string {
  const out: string[] = [
    `app ${printable(r.appId)}, checked for --group ${r.groups.length > 0 ? r.groups.join(',') : '(none)'}; ${r.target}`,
  ];
  out.push(...r.ports.map(portLine));
  if (r.notServed !== undefined) out.push(`  not served: ${r.notServed}`);
  for (const p of r.problems) {
    const where = [
      p.portIndex === null ? null : `port index ${p.portIndex}`,
      p.label === null ? null : `label ${p.label}`,
    ]
      .filter((x) => x !== null)
      .join(', ');
    out.push(
      `problem${where === '' ? '' : ` (${where})`}${p.by === 'haproxy' ? ', rejected by haproxy -c' : ''}: ${p.message.split('\n').map(printable).join('\n    ')}`,
    );
    if (p.fix !== null) out.push(`  fix: ${p.fix}`);
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  const haproxy: Readonly<Record<HaproxyCheck, string>> = {
    accepted: 'haproxy -c accepts the config holding only this app',
    rejected: 'haproxy -c rejects the config holding only this app',
    'not installed': `haproxy -c not run: HAProxy is not installed here (${r.haproxyBin === undefined ? 'no HAProxy binary' : `${printable(r.haproxyBin)} does not run`}; --haproxy-bin names another); the checks above passed`,
    'not needed': 'haproxy -c not run: nothing of this app would be in the config',
  };
  out.push(haproxy[r.haproxy]);
  const code = exitCode(r);
  const served = r.ports.filter((p) => p.status === 'served').length;
  out.push(
    code === 0
      ? `result: served (${served} of ${r.ports.length} service port(s))`
      : code === 3
        ? 'result: not fully checked (exit 3)'
        : served === 0
          ? `result: NOT SERVED (${r.problems.length} problem(s))`
          : `result: LEFT OUT in part: ${r.problems.length} problem(s); ${served} of ${r.ports.length} service port(s) served`,
  );
  return `${out.join('\n')}\n`;
}
