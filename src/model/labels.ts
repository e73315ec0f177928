import { TEMPLATE_LABEL_NAMES } from '../render/catalog';
import type { Mode, Problem } from './types';

/** What the `HAPROXY_{n}_*` labels of one service port say, before tasks are attached. */
export interface PortSettings {
  readonly hostname: string | null;
  readonly path: string | null;
  readonly auth: { readonly realm: string; readonly user: string; readonly passwd: string } | null;
  readonly sticky: boolean;
  readonly enabled: boolean | null;
  readonly redirectHttpToHttps: boolean;
  readonly useHsts: boolean;
  readonly sslCert: string | null;
  readonly bindOptions: string | null;
  readonly bindAddr: string;
  readonly port: number | null;
  readonly mode: Mode | null;
  readonly balance: string;
  readonly groups: readonly string[];
  readonly proxyPath: string | null;
  readonly revProxyPath: string | null;
  readonly redirPath: string | null;
  readonly backendWeight: number;
  readonly networkAllowed: string | null;
  readonly healthcheckPortIndex: number | null;
  readonly templateLabels: Readonly<Record<string, string>>;
}

const TRUE_WORDS: ReadonlySet<string> = new Set(['true', 't', 'yes', 'y']);
const truthy = (v: string): boolean => v !== '' && TRUE_WORDS.has(v.toLowerCase());
const LINE_BREAK = /[\r\n\0]/;
const WHITESPACE = /[\s\0]/;
const INTEGER = /^\s*[+-]?\d+\s*$/;
const BALANCE_ALGORITHMS = new Set(['roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'uri', 'url_param',
  'hdr', 'random', 'rdp-cookie', 'hash']);

/**
 * Reads the labels of service port `index`. A value that would break the generated config yields a
 * Problem naming the label; the caller leaves that service port out and renders everything else.
 */
export function readPortLabels(appId: string, portLabels: ReadonlyMap<string, string>, index: number): PortSettings | Problem {
  const prefix = `HAPROXY_${index}_`;
  const get = (name: string): string | undefined => portLabels.get(name);
  const problem = (name: string, message: string): Problem => ({ appId, portIndex: index, label: prefix + name, message });
  const text = (name: string, forbid: RegExp, what: string): string | null | Problem => {
    const v = get(name);
    if (v === undefined) return null;
    return forbid.test(v) ? problem(name, `value ${JSON.stringify(v)} must not contain ${what}`) : v;
  };
  const integer = (name: string): number | null | Problem => {
    const v = get(name);
    if (v === undefined) return null;
    return INTEGER.test(v) ? parseInt(v, 10) : problem(name, `value ${JSON.stringify(v)} is not an integer`);
  };

  const hostname = text('VHOST', LINE_BREAK, 'a line break');
  if (isProblem(hostname)) return hostname;
  if (hostname !== null && hostname !== '' && hostname.split(',').some((h) => h === '' || WHITESPACE.test(h))) {
    return problem('VHOST', `value ${JSON.stringify(hostname)} must be host names separated by commas, without spaces or empty entries`);
  }
  const path = text('PATH', LINE_BREAK, 'a line break');
  if (isProblem(path)) return path;
  const sslCert = text('SSL_CERT', WHITESPACE, 'spaces');
  if (isProblem(sslCert)) return sslCert;
  const bindAddr = text('BIND_ADDR', WHITESPACE, 'spaces');
  if (isProblem(bindAddr)) return bindAddr;
  const others: Record<string, string | null> = {};
  for (const name of ['BIND_OPTIONS', 'HTTP_BACKEND_PROXYPASS_PATH', 'HTTP_BACKEND_REVPROXY_PATH', 'HTTP_BACKEND_REDIR',
    'BACKEND_NETWORK_ALLOWED_ACL']) {
    const v = text(name, LINE_BREAK, 'a line break');
    if (isProblem(v)) return v;
    others[name] = v;
  }

  const port = integer('PORT');
  if (isProblem(port)) return port;
  if (port !== null && (port < 1 || port > 65535)) return problem('PORT', `port ${port} is outside 1..65535`);
  const weight = integer('BACKEND_WEIGHT');
  if (isProblem(weight)) return weight;
  const hcIndex = integer('BACKEND_HEALTHCHECK_PORT_INDEX');
  if (isProblem(hcIndex)) return hcIndex;

  const modeLabel = get('MODE');
  const mode = modeLabel === undefined ? null : modeLabel.toLowerCase();
  if (mode !== null && mode !== 'http' && mode !== 'tcp') return problem('MODE', `unknown mode ${JSON.stringify(modeLabel)} (use http or tcp)`);

  const balance = get('BALANCE') ?? 'roundrobin';
  const algorithm = balance === 'roundrobin' ? balance : balance.trim().split(/[\s(]/, 1)[0] ?? '';
  if (LINE_BREAK.test(balance) || !BALANCE_ALGORITHMS.has(algorithm)) {
    return problem('BALANCE', `unknown balance algorithm ${JSON.stringify(balance)}`);
  }

  let auth: PortSettings['auth'] = null;
  const authLabel = get('AUTH');
  if (authLabel !== undefined) {
    const parts = authLabel.split(':');
    if (parts.length !== 3 || LINE_BREAK.test(authLabel) || /["\s]/.test(parts[1]! + parts[2]!) || parts[0]!.includes('"')) {
      return problem('AUTH', 'must be realm:user:encrypted-password (three fields, no spaces or quotes)');
    }
    auth = { realm: parts[0]!, user: parts[1]!, passwd: parts[2]! };
  }

  const templateLabels: Record<string, string> = {};
  for (const [name, v] of portLabels) {
    if (TEMPLATE_LABEL_NAMES.has(name)) templateLabels[name] = v.replace(/\r\n/g, '\n');
  }

  const enabled = get('ENABLED');
  const group = get('GROUP');
  // Upstream applies labels in name order: BACKEND_WEIGHT before PATH, which only lifts a zero weight.
  let backendWeight = weight ?? 0;
  if (path !== null && backendWeight === 0) backendWeight = 1;
  return {
    hostname: hostname === null ? null : hostname.toLowerCase(),
    path,
    auth,
    sticky: truthy(get('STICKY') ?? ''),
    enabled: enabled === undefined ? null : truthy(enabled),
    redirectHttpToHttps: truthy(get('REDIRECT_TO_HTTPS') ?? ''),
    useHsts: truthy(get('USE_HSTS') ?? ''),
    sslCert,
    bindOptions: others['BIND_OPTIONS'] ?? null,
    bindAddr: bindAddr ?? '*',
    port,
    mode,
    balance,
    groups: group === undefined ? [] : group.split(','),
    proxyPath: others['HTTP_BACKEND_PROXYPASS_PATH'] ?? null,
    revProxyPath: others['HTTP_BACKEND_REVPROXY_PATH'] ?? null,
    redirPath: others['HTTP_BACKEND_REDIR'] ?? null,
    backendWeight,
    networkAllowed: others['BACKEND_NETWORK_ALLOWED_ACL'] ?? null,
    healthcheckPortIndex: hcIndex,
    templateLabels,
  };
}

const PORT_LABEL = /^HAPROXY_(\d+)_(.+)$/;
const NO_LABELS: ReadonlyMap<string, string> = new Map();

/** Splits an app's labels by service port index once: `HAPROXY_1_VHOST` → port 1, `VHOST`. */
export function labelsByPort(labels: Readonly<Record<string, string>>): (index: number) => ReadonlyMap<string, string> {
  const byPort = new Map<number, Map<string, string>>();
  for (const key in labels) {
    const m = PORT_LABEL.exec(key);
    if (m === null) continue;
    const index = Number(m[1]);
    let port = byPort.get(index);
    if (port === undefined) byPort.set(index, (port = new Map()));
    port.set(m[2]!, labels[key]!);
  }
  return (index) => byPort.get(index) ?? NO_LABELS;
}

export function isProblem(v: unknown): v is Problem {
  return typeof v === 'object' && v !== null && 'message' in v && 'appId' in v;
}
