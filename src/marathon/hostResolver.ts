import { lookup as dnsLookup } from 'node:dns/promises';
import { hostNamesOf } from './resolveHosts';

/** Resolves one name to an IPv4 address; rejects when it does not exist. */
export type Lookup = (host: string) => Promise<string>;

/** Resolves after `ms` unless cancelled. */
export type Deadline = (ms: number) => { readonly reached: Promise<void>; cancel(): void };

const systemLookup: Lookup = async (host) => (await dnsLookup(host, { family: 4 })).address;
const timerDeadline: Deadline = (ms) => {
  let timer: NodeJS.Timeout | undefined;
  const reached = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return { reached, cancel: () => clearTimeout(timer) };
};

/**
 * Resolves the host names of a snapshot (task hosts, BIND_ADDR labels) within a time bound.
 *
 * Why: lookups run on libuv's four threads without a deadline, and app owners can write names
 * (BIND_ADDR) that a dead name server never answers: one snapshot would wait for minutes and hold
 * every later change with it. A name not answered in time keeps its last known address for this
 * snapshot (absent if it never had one); its lookup goes on in the background, only one per name
 * at a time, so a stuck name does not queue up new lookups snapshot after snapshot. A name that
 * does not exist is absent (its tasks are skipped, like upstream). Names no longer in a snapshot
 * are forgotten.
 */
export class HostResolver {
  private readonly known = new Map<string, string>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly lookup: Lookup = systemLookup, private readonly deadline: Deadline = timerDeadline) {}

  async resolve(body: unknown, timeoutMs: number): Promise<Map<string, string>> {
    const hosts = hostNamesOf(body);
    for (const h of [...this.known.keys()]) if (!hosts.has(h)) this.known.delete(h);
    const deadline = this.deadline(timeoutMs);
    try {
      await Promise.race([Promise.all([...hosts].map((h) => this.lookupOnce(h))), deadline.reached]);
    } finally {
      deadline.cancel();
    }
    const resolved = new Map<string, string>();
    for (const h of hosts) {
      const address = this.known.get(h);
      if (address !== undefined) resolved.set(h, address);
    }
    return resolved;
  }

  private lookupOnce(host: string): Promise<void> {
    let running = this.inFlight.get(host);
    if (running === undefined) {
      running = this.lookup(host)
        .then((address) => void this.known.set(host, address), () => void this.known.delete(host))
        .finally(() => this.inFlight.delete(host));
      this.inFlight.set(host, running);
    }
    return running;
  }
}
