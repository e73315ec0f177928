/**
 * From a rendered `server` line to the runtime API commands that add the same server to a running
 * HAProxy 2.6 without a reload. Pure.
 *
 * HAProxy 2.6's `add server` accepts most server keywords (verified against 2.6.12 in
 * test/e2e/haproxy-runtime.test.ts): id, check, inter, fall, rise, port, weight, maxconn, backup,
 * send-proxy(-v2), slowstart, agent-*, observe, on-error, ssl options, source, track, …
 * It refuses: cookie, redir, stick, non-stick, namespace, socks4, init-addr, resolvers,
 * resolve-*, max-reuse, tcp-ut, log-proto, no-check, no-agent-check, no-ssl, no-check-ssl.
 * Also: a dynamic server starts in maintenance and ignores `default-server`; its health check
 * (and agent) start disabled until `enable health` / `enable agent`.
 * Translations: `disabled` → the server is simply not enabled; `enabled` → dropped, it is enabled
 * by `enable server` after its checks. Refused keywords are dropped and reported; the ones that
 * change routing (cookie, redir, stick, non-stick, namespace, socks4) make the result inexact, so
 * a caller that wants exactly the config's behaviour reloads instead.
 */
import { type Result, err, ok } from '../result';

const FLAGS = new Set([
  'agent-check',
  'allow-0rtt',
  'backup',
  'check',
  'check-send-proxy',
  'check-ssl',
  'check-via-socks4',
  'disabled',
  'enabled',
  'force-sslv3',
  'force-tlsv10',
  'force-tlsv11',
  'force-tlsv12',
  'force-tlsv13',
  'no-agent-check',
  'no-backup',
  'no-check',
  'no-check-ssl',
  'no-send-proxy',
  'no-send-proxy-v2',
  'no-send-proxy-v2-ssl',
  'no-send-proxy-v2-ssl-cn',
  'no-ssl',
  'no-ssl-reuse',
  'no-sslv3',
  'no-tfo',
  'no-tls-tickets',
  'no-tlsv10',
  'no-tlsv11',
  'no-tlsv12',
  'no-tlsv13',
  'no-verifyhost',
  'non-stick',
  'send-proxy',
  'send-proxy-v2',
  'send-proxy-v2-ssl',
  'send-proxy-v2-ssl-cn',
  'ssl',
  'ssl-reuse',
  'stick',
  'tfo',
  'tls-tickets',
]);

const WITH_ARG = new Set([
  'addr',
  'agent-addr',
  'agent-inter',
  'agent-port',
  'agent-send',
  'alpn',
  'ca-file',
  'check-alpn',
  'check-proto',
  'check-sni',
  'ciphers',
  'ciphersuites',
  'cookie',
  'crl-file',
  'crt',
  'curves',
  'downinter',
  'error-limit',
  'fall',
  'fastinter',
  'id',
  'init-addr',
  'inter',
  'interface',
  'log-proto',
  'max-reuse',
  'maxconn',
  'maxqueue',
  'minconn',
  'namespace',
  'npn',
  'observe',
  'on-error',
  'on-marked-down',
  'on-marked-up',
  'pool-low-conn',
  'pool-max-conn',
  'pool-purge-delay',
  'port',
  'proto',
  'proxy-v2-options',
  'redir',
  'resolve-net',
  'resolve-opts',
  'resolve-prefer',
  'resolvers',
  'rise',
  'shard',
  'sigalgs',
  'client-sigalgs',
  'slowstart',
  'sni',
  'socks4',
  'source',
  'ssl-max-ver',
  'ssl-min-ver',
  'tcp-ut',
  'track',
  'usesrc',
  'verify',
  'verifyhost',
  'weight',
  'ws',
]);

/** Refused by 2.6's `add server`, and whether dropping it changes how traffic is routed. */
const REFUSED: Readonly<Record<string, { readonly changesBehaviour: boolean; readonly why: string }>> = {
  cookie: { changesBehaviour: true, why: 'sticky sessions will not pin clients to this server until the next reload' },
  redir: { changesBehaviour: true, why: 'requests will be proxied instead of redirected until the next reload' },
  stick: { changesBehaviour: true, why: 'stick-table persistence differs until the next reload' },
  'non-stick': { changesBehaviour: true, why: 'stick-table persistence differs until the next reload' },
  namespace: { changesBehaviour: true, why: 'connections would leave from the default network namespace' },
  socks4: { changesBehaviour: true, why: 'connections would not go through the SOCKS4 proxy' },
  'init-addr': { changesBehaviour: false, why: 'the address is given literally' },
  resolvers: { changesBehaviour: false, why: 'the address is given literally' },
  'resolve-prefer': { changesBehaviour: false, why: 'the address is given literally' },
  'resolve-net': { changesBehaviour: false, why: 'the address is given literally' },
  'resolve-opts': { changesBehaviour: false, why: 'the address is given literally' },
  'max-reuse': { changesBehaviour: false, why: 'connection reuse tuning only' },
  'tcp-ut': { changesBehaviour: false, why: 'TCP user timeout tuning only' },
  'log-proto': { changesBehaviour: false, why: 'only for log servers' },
  'no-check': { changesBehaviour: false, why: 'dynamic servers do not inherit default-server' },
  'no-agent-check': { changesBehaviour: false, why: 'dynamic servers do not inherit default-server' },
  'no-ssl': { changesBehaviour: false, why: 'dynamic servers do not inherit default-server' },
  'no-check-ssl': { changesBehaviour: false, why: 'dynamic servers do not inherit default-server' },
};

/** Server keywords HAProxy 2.6's `add server` refuses ("… option is not accepted for dynamic server"). */
export const REFUSED_BY_ADD_SERVER: readonly string[] = Object.freeze(Object.keys(REFUSED));

export interface ServerOption {
  readonly keyword: string;
  readonly args: readonly string[];
}

export interface ServerLine {
  readonly name: string;
  /** As written: `10.0.1.23:31001`, `abns@name`, … */
  readonly address: string;
  readonly options: readonly ServerOption[];
}

export interface DroppedOption extends ServerOption {
  readonly reason: string;
  readonly changesBehaviour: boolean;
}

export interface AddServerSpec {
  readonly name: string;
  readonly address: string;
  /** Options for `add server <be>/<name> <address> …`, all accepted by HAProxy 2.6. */
  readonly args: readonly string[];
  readonly dropped: readonly DroppedOption[];
  /** False when the line says `disabled`: leave the server in maintenance. */
  readonly enable: boolean;
  /** `check` given: `enable health` after adding, or the check never runs. */
  readonly enableHealth: boolean;
  /** `agent-check` given: `enable agent` after adding. */
  readonly enableAgent: boolean;
  /** Nothing that changes routing was dropped. */
  readonly exact: boolean;
}

/** Splits `server <name> <address> [keyword [arg]]…` into its parts. */
export function parseServerLine(line: string): Result<ServerLine> {
  const text = line.replace(/(^|\s)#.*$/, '').trim();
  if (/["'\\]/.test(text)) return err(`server line has quotes or escapes, which the runtime API cannot take: ${text}`);
  // A config token may hold `;`; on the runtime API it would end the command and start another.
  if (text.includes(';'))
    return err(`server line has ';', which the runtime API takes as the start of another command: ${text}`);
  const [kw, name, address, ...rest] = text.split(/\s+/);
  if (kw !== 'server' || !name || !address) return err(`not a server line: ${text}`);
  const options: ServerOption[] = [];
  for (let i = 0; i < rest.length;) {
    const keyword = rest[i] as string;
    if (FLAGS.has(keyword)) {
      options.push({ keyword, args: [] });
      i += 1;
    } else if (WITH_ARG.has(keyword)) {
      const arg = rest[i + 1];
      if (arg === undefined) return err(`server ${name}: '${keyword}' needs a value`);
      options.push({ keyword, args: [arg] });
      i += 2;
    } else {
      return err(`server ${name}: unknown server keyword '${keyword}' (cannot tell its arguments; reload instead)`);
    }
  }
  return ok({ name, address, options });
}

/** What to send to HAProxy 2.6 to add the server of a rendered `server` line at runtime. */
export function addServerSpec(line: string): Result<AddServerSpec> {
  const parsed = parseServerLine(line);
  if (!parsed.ok) return parsed;
  const args: string[] = [];
  const kept = new Set<string>();
  const dropped: DroppedOption[] = [];
  let enable = true;
  for (const o of parsed.value.options) {
    const refused = REFUSED[o.keyword];
    if (o.keyword === 'disabled') {
      enable = false;
      dropped.push({
        ...o,
        reason: 'translated: the server stays in maintenance (no enable server)',
        changesBehaviour: false,
      });
    } else if (o.keyword === 'enabled') {
      dropped.push({ ...o, reason: 'translated: enabled by enable server after its checks', changesBehaviour: false });
    } else if (refused) {
      dropped.push({
        ...o,
        reason: `HAProxy 2.6 refuses '${o.keyword}' for dynamic servers: ${refused.why}`,
        changesBehaviour: refused.changesBehaviour,
      });
    } else {
      args.push(o.keyword, ...o.args);
      kept.add(o.keyword);
    }
  }
  return ok({
    name: parsed.value.name,
    address: parsed.value.address,
    args,
    dropped,
    enable,
    enableHealth: kept.has('check'),
    enableAgent: kept.has('agent-check'),
    exact: dropped.every((d) => !d.changesBehaviour),
  });
}

/** The runtime API commands, in order: add (in maintenance), start checks, then enable. */
export function addServerCommands(backend: string, spec: AddServerSpec): string[] {
  const target = `${backend}/${spec.name}`;
  return [
    ['add server', target, spec.address, ...spec.args].join(' '),
    ...(spec.enableHealth ? [`enable health ${target}`] : []),
    ...(spec.enableAgent ? [`enable agent ${target}`] : []),
    ...(spec.enable ? [`enable server ${target}`] : []),
  ];
}
