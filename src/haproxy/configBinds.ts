/** One address and port a config's `bind` line listens on. */
export interface ConfigListener {
  readonly address: string;
  readonly port: number;
  /** The rest of the bind line (its options). */
  readonly options: string;
}

/**
 * The TCP addresses and ports the `bind` lines of a config listen on: `host:port` or `[v6]:port`,
 * comma lists, `ipv4@`/`ipv6@` prefixes. Port ranges, UNIX sockets and the other families
 * (`unix@`, `abns@`, `fd@`, `sockpair@`, a path) are not listed.
 */
export function configListeners(configText: string): ConfigListener[] {
  const out: ConfigListener[] = [];
  for (const m of configText.matchAll(/^[ \t]*bind[ \t]+(\S+)([^\n]*)$/gm)) {
    const options = m[2]!.trim();
    for (const spec of m[1]!.split(',')) {
      const at = spec.lastIndexOf(':');
      if (at < 0 || /^(?:unix|abns|fd|sockpair|udp[46]?|quic[46]?)@|^\//.test(spec)) continue;
      const port = Number(spec.slice(at + 1));
      if (!Number.isInteger(port) || port < 1 || port > 65535) continue;
      out.push({ address: spec.slice(0, at), port, options });
    }
  }
  return out;
}
