import * as fs from 'node:fs';

/**
 * Whether process `pid` holds a listening TCP socket (IPv4 or IPv6), read from /proc: its file
 * descriptors' socket inodes against those /proc/net/tcp{,6} list in state LISTEN. False where /proc
 * cannot tell (another OS, the process gone).
 */
export function holdsListeningSocket(pid: number): boolean {
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  const own = new Set<string>();
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) own.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  if (own.size === 0) return false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode; st 0A is LISTEN.
      if (f[3] === '0A' && f[9] !== undefined && own.has(f[9])) return true;
    }
  }
  return false;
}
