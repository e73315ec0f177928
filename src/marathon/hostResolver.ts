import { lookup as dnsLookup } from 'node:dns/promises';
import { hostNamesOf, unresolvedTaskHosts, type AppHostNames } from './resolveHosts';

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

export interface HostResolverOptions {
  /** Names kept (marathon-lb's --lru-cache-capacity, default 1000): the least recently used goes first. */
  readonly capacity?: number;
  readonly lookup?: Lookup;
  readonly deadline?: Deadline;
}

/**
 * Resolves the host names of a snapshot (task hosts, BIND_ADDR labels) the way marathon-lb's
 * `resolve_ip` does: a name is looked up once and its address kept in an LRU cache of
 * `capacity` names, so a DNS blip or a dead name server never drops the tasks of a known host.
 * Only a name not in the cache is looked up; a failed lookup caches nothing and evicts nothing
 * (the name is tried again at the next snapshot); a name that does not exist is absent (its tasks
 * are skipped, like upstream).
 *
 * Beyond marathon-lb, lookups are bounded in time: they run on libuv's four threads without a
 * deadline, and app owners can write names (BIND_ADDR) that a dead name server never answers, so
 * one snapshot would wait for minutes and hold every later change with it. A name not answered
 * within `timeoutMs` is absent from this snapshot; its lookup goes on in the background (one per
 * name at a time) and its answer is cached for the next one.
 */
export class HostResolver {
  /** Insertion order is recency order: the first key is the least recently used. */
  private readonly cache = new Map<string, string>();
  private readonly inFlight = new Map<string, Promise<string | undefined>>();
  /** The names of each app object seen (an app unchanged since the last answer is the same object). */
  private readonly namesOfApp = new WeakMap<object, AppHostNames>();
  private readonly capacity: number;
  private readonly lookup: Lookup;
  private readonly deadline: Deadline;

  constructor(o: HostResolverOptions = {}) {
    this.capacity = Math.max(1, o.capacity ?? 1000);
    this.lookup = o.lookup ?? systemLookup;
    this.deadline = o.deadline ?? timerDeadline;
  }

  async resolve(body: unknown, timeoutMs: number): Promise<Map<string, string>> {
    const hosts = hostNamesOf(body, this.namesOfApp);
    const resolved = new Map<string, string>();
    const missing: string[] = [];
    for (const h of hosts) {
      const address = this.get(h);
      if (address === undefined) missing.push(h);
      else resolved.set(h, address);
    }
    if (missing.length === 0) return resolved;
    const deadline = this.deadline(timeoutMs);
    const answers = new Map<string, string>();
    try {
      await Promise.race([Promise.all(missing.map((h) => this.lookupOnce(h, answers))), deadline.reached]);
    } finally {
      deadline.cancel();
    }
    for (const h of missing) {
      const address = answers.get(h) ?? this.get(h);
      if (address !== undefined) resolved.set(h, address);
    }
    return resolved;
  }

  /** The task hosts of `body` that `addresses` (what resolve gave for it) has no address for. */
  unresolvedTaskHosts(body: unknown, addresses: ReadonlyMap<string, string>): string[] {
    return unresolvedTaskHosts(body, addresses, this.namesOfApp);
  }

  /** The cached address, now the most recently used. */
  private get(host: string): string | undefined {
    const address = this.cache.get(host);
    if (address !== undefined) {
      this.cache.delete(host);
      this.cache.set(host, address);
    }
    return address;
  }

  private set(host: string, address: string): void {
    this.cache.delete(host);
    if (this.cache.size >= this.capacity) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(host, address);
  }

  /** `answers` gets the address even when a small cache has already evicted it again. */
  private lookupOnce(host: string, answers: Map<string, string>): Promise<void> {
    let running = this.inFlight.get(host);
    if (running === undefined) {
      running = this.lookup(host)
        .then(
          (address) => (this.set(host, address), address),
          () => undefined,
        )
        .finally(() => this.inFlight.delete(host));
      this.inFlight.set(host, running);
    }
    return running.then((address) => void (address !== undefined && answers.set(host, address)));
  }
}
