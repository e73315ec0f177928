/** The `server` lines of each backend in a rendered config: what a runtime `add server` must reproduce. */
export function serverLinesByBackend(config: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of config.split('\n')) {
    const section = /^(\S+)\s+(\S+)/.exec(line);
    if (section !== null) {
      current = section[1] === 'backend' || section[1] === 'listen' ? new Map() : undefined;
      if (current !== undefined) out.set(section[2]!, current);
      continue;
    }
    const server = /^\s+server\s+(\S+)\s/.exec(line);
    if (server !== null && current !== undefined) current.set(server[1]!, line);
  }
  return out;
}
