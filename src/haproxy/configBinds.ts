/** One address and port a config's `bind` line listens on. */
export interface ConfigListener {
  /** The frontend or listen section of the bind line ('' before any). */
  readonly section: string;
  readonly address: string;
  readonly port: number;
  /** The rest of the bind line (its options). */
  readonly options: string;
}

/**
 * The TCP addresses and ports the `bind` lines of a config's frontends and listen sections listen on: `host:port` or `[v6]:port`,
 * comma lists, `ipv4@`/`ipv6@` prefixes. Port ranges, UNIX sockets and the other families
 * (`unix@`, `abns@`, `fd@`, `sockpair@`, a path) are not listed.
 */
export function configListeners(configText: string): ConfigListener[] {
  const out: ConfigListener[] = [];
  let section = '';
  for (const m of configText.matchAll(
    /^[ \t]*(?:(frontend|listen|backend|defaults|global|userlist|peers|resolvers|program|mailers|cache|ring|http-errors)\b[ \t]*(\S*)|bind[ \t]+(\S+)([^\n]*))/gm,
  )) {
    if (m[1] !== undefined) {
      section = m[1] === 'frontend' || m[1] === 'listen' ? m[2]! : '';
      continue;
    }
    if (section === '') continue; // a bind of another kind of section (peers)
    const options = m[4]!.trim();
    for (const spec of m[3]!.split(',')) {
      const at = spec.lastIndexOf(':');
      if (at < 0 || /^(?:unix|abns|fd|sockpair|udp[46]?|quic[46]?)@|^\//.test(spec)) continue;
      const port = Number(spec.slice(at + 1));
      if (!Number.isInteger(port) || port < 1 || port > 65535) continue;
      out.push({ section, address: spec.slice(0, at), port, options });
    }
  }
  return out;
}
