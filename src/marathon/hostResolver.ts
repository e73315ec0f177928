import type * as Dns from 'node:dns/promises';
import { lazyBuiltin } from '../lazyBuiltin';
import { LOOKUP_PENDING } from '../model/networking';
import { namesOfApps, unresolvedTaskHosts, type AppHostNames } from './resolveHosts';

/** Loaded at the first lookup: a --dry of IP addresses only never loads the resolver. */
const dns = lazyBuiltin<typeof Dns>('node:dns/promises');

/** Resolves one name to an IPv4 address; rejects when it does not exist. */
export type Lookup = (host: string) => Promise<string>;

/** Resolves after `ms` unless cancelled. */
export type Deadline = (ms: number) => { readonly reached: Promise<void>; cancel(): void };

const systemLookup: Lookup = async (host) => (await dns().lookup(host, { family: 4 })).address;
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
  /** Epoch ms, for when a label's name may be looked up again. */
  readonly now?: () => number;
  /** A name the last resolve went without (its lookup not answered in time) has been answered since. */
  readonly onLateAnswer?: () => void;
  /**
   * One resolve, for a command that renders once (resolveOnce): no later snapshot asks for what this
   * one leaves, so every label name is looked up, within the whole timeout as task hosts are.
   */
  readonly oneShot?: boolean;
}

/**
 * Names written in labels (BIND_ADDR, a template label's servers and checks) are app owners', not
 * Marathon's: an app of any group could list 2 000 names that a dead name server never answers.
 * Every change waited 46 s for such names, and the first config at the start too (found by an
 * audit). So a snapshot waits at most LABEL_NAME_WAIT_MS for them (task hosts: the whole timeout);
 * at most LABEL_NAMES_PER_APP of an app's not known yet are looked up (the others at a later
 * snapshot); at most LABEL_LOOKUPS_AT_ONCE at a time (libuv runs lookups on four threads, which task
 * hosts need too), LABEL_LOOKUPS_QUEUED more waiting their turn, also after the snapshot (an answer
 * is cached); and one not answered is not asked again for LABEL_NAME_RETRY_MS. Until it answers, a
 * label naming it is refused (resolve gives LOOKUP_PENDING for it).
 */
const LABEL_NAME_WAIT_MS = 2000;
const LABEL_NAMES_PER_APP = 16;
const LABEL_LOOKUPS_AT_ONCE = 2;
const LABEL_LOOKUPS_QUEUED = 256;
const LABEL_NAME_RETRY_MS = 30_000;

/**
 * Resolves the host names of a snapshot (task hosts, BIND_ADDR labels) the way marathon-lb's
 * `resolve_ip` does: a name is looked up once and its address kept in an LRU cache of
 * `capacity` names, so a DNS blip or a dead name server never drops the tasks of a known host.
 * Only a name not in the cache is looked up; a failed lookup caches nothing and evicts nothing
 * (a task host is tried again at the next snapshot, a label's name after LABEL_NAME_RETRY_MS); a name
 * that does not exist is absent (its tasks are skipped, like upstream).
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
  private readonly now: () => number;
  /** Label names not answered in time, or not at all, by when: not asked again for LABEL_NAME_RETRY_MS. */
  private readonly unansweredLabelNames = new Map<string, number>();
  /** Names whose lookup answered that they have no address, by when (the oldest goes first past `capacity`). */
  private readonly failedLookups = new Map<string, number>();
  /** Label names being looked up or queued for it, and the queue's starters. */
  private readonly labelLookups = new Map<string, Promise<string | undefined>>();
  private readonly labelQueue: (() => void)[] = [];
  private labelsRunning = 0;
  /** Names the last resolve went without while their lookup went on: their answer calls onLateAnswer. */
  private readonly awaited = new Set<string>();
  private readonly onLateAnswer: (() => void) | undefined;
  private readonly oneShot: boolean;

  constructor(o: HostResolverOptions = {}) {
    this.capacity = Math.max(1, o.capacity ?? 1000);
    this.lookup = o.lookup ?? systemLookup;
    this.deadline = o.deadline ?? timerDeadline;
    this.now = o.now ?? Date.now;
    this.onLateAnswer = o.onLateAnswer;
    this.oneShot = o.oneShot === true;
  }

  async resolve(body: unknown, timeoutMs: number): Promise<Map<string, string>> {
    const taskHosts = new Set<string>();
    const labelNames = new Set<string>();
    const deferred = new Set<string>(); // past an app's share of lookups: asked at a later snapshot
    const now = this.now();
    const resting = (h: string): boolean => now - (this.unansweredLabelNames.get(h) ?? -Infinity) < LABEL_NAME_RETRY_MS;
    for (const names of namesOfApps(body, this.namesOfApp)) {
      for (const h of names.taskHosts) taskHosts.add(h);
      // Only names looked up now count: 16 names that fail, not asked again for a while, took the
      // share at every snapshot, and a 17th after them was never looked up, nor judged (an audit).
      let asked = 0;
      for (const h of [...names.loadedNames, ...names.labelTargets]) {
        if (labelNames.has(h) || deferred.has(h)) continue;
        if (this.cache.has(h) || this.oneShot || resting(h) || asked++ < LABEL_NAMES_PER_APP) labelNames.add(h);
        else deferred.add(h);
      }
    }
    const resolved = new Map<string, string>();
    const missingTaskHosts: string[] = [];
    const missingLabelNames: string[] = [];
    for (const h of taskHosts) {
      const address = this.get(h);
      if (address === undefined) missingTaskHosts.push(h);
      else resolved.set(h, address);
    }
    for (const h of labelNames) {
      if (taskHosts.has(h)) continue;
      const address = this.get(h);
      if (address !== undefined) resolved.set(h, address);
      else if (!resting(h)) missingLabelNames.push(h);
    }
    const answers = new Map<string, string>();
    const notAsked = new Set<string>(); // label names past LABEL_LOOKUPS_AT_ONCE: asked at a later snapshot
    await Promise.all([
      this.within(missingTaskHosts, timeoutMs, (h) => this.lookupOnce(h, answers)),
      this.within(missingLabelNames, this.oneShot ? timeoutMs : Math.min(timeoutMs, LABEL_NAME_WAIT_MS), (h) =>
        this.lookupLabelName(h, answers, notAsked),
      ),
    ]);
    this.awaited.clear();
    for (const h of missingTaskHosts) {
      const address = answers.get(h) ?? this.get(h);
      if (address !== undefined) resolved.set(h, address);
      else if (this.inFlight.has(h)) this.awaited.add(h);
    }
    for (const h of missingLabelNames) {
      const address = answers.get(h) ?? this.get(h);
      if (address !== undefined) resolved.set(h, address);
      else if (!notAsked.has(h)) this.labelNameUnanswered(h);
      if (address === undefined && (this.inFlight.has(h) || this.labelLookups.has(h))) this.awaited.add(h);
    }
    // A label's name without an address is one that does not exist only when its lookup said so;
    // one not looked up or not answered yet is pending: HAProxy would look it up itself at load,
    // past every check (to the loopback, say), so it is refused until it answers.
    for (const h of [...labelNames, ...deferred])
      if (!taskHosts.has(h) && !resolved.has(h) && !this.failedLately(h, now)) resolved.set(h, LOOKUP_PENDING);
    return resolved;
  }

  /** The lookups of `names`, waited for `ms` at most. */
  private async within(names: readonly string[], ms: number, lookup: (h: string) => Promise<void>): Promise<void> {
    if (names.length === 0) return;
    const deadline = this.deadline(ms);
    try {
      await Promise.race([Promise.all(names.map(lookup)), deadline.reached]);
    } finally {
      deadline.cancel();
    }
  }

  /**
   * lookupOnce for a label's name: at most LABEL_LOOKUPS_AT_ONCE at a time, the others queued (up to
   * LABEL_LOOKUPS_QUEUED names; past it, `notAsked`: asked at a later snapshot).
   */
  private lookupLabelName(host: string, answers: Map<string, string>, notAsked: Set<string>): Promise<void> {
    let address = this.labelLookups.get(host);
    if (address === undefined) {
      if (!this.oneShot && this.labelLookups.size >= LABEL_LOOKUPS_AT_ONCE + LABEL_LOOKUPS_QUEUED) {
        notAsked.add(host);
        return Promise.resolve();
      }
      address = new Promise<void>((start) => this.labelQueue.push(start))
        .then(() => this.addressOf(host))
        .finally(() => {
          this.labelLookups.delete(host);
          this.labelsRunning--;
          this.startLabelLookups();
        });
      this.labelLookups.set(host, address);
      this.startLabelLookups();
    }
    return address.then((a) => void (a !== undefined && answers.set(host, a)));
  }

  private startLabelLookups(): void {
    while (this.labelsRunning < LABEL_LOOKUPS_AT_ONCE && this.labelQueue.length > 0) {
      this.labelsRunning++;
      this.labelQueue.shift()!();
    }
  }

  private labelNameUnanswered(host: string): void {
    this.unansweredLabelNames.delete(host);
    if (this.unansweredLabelNames.size >= this.capacity)
      this.unansweredLabelNames.delete(this.unansweredLabelNames.keys().next().value as string);
    this.unansweredLabelNames.set(host, this.now());
  }

  /** Names the last resolve went without because their lookup had not answered in time (it goes on). */
  get unanswered(): ReadonlySet<string> {
    return this.awaited;
  }

  /** Lookups still running or queued: a command that ends now has no use for them (resolveOnce). */
  get busy(): boolean {
    return this.inFlight.size > 0 || this.labelLookups.size > 0;
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
    return this.addressOf(host).then((address) => void (address !== undefined && answers.set(host, address)));
  }

  /** Whether the last lookup of `host`, within LABEL_NAME_RETRY_MS, answered that it has no address. */
  private failedLately(host: string, now: number): boolean {
    return now - (this.failedLookups.get(host) ?? -Infinity) < LABEL_NAME_RETRY_MS;
  }

  /** The name's address, by one lookup at a time; undefined when it failed. */
  private addressOf(host: string): Promise<string | undefined> {
    let running = this.inFlight.get(host);
    if (running === undefined) {
      running = this.lookup(host)
        .then(
          (address) => {
            this.failedLookups.delete(host);
            this.set(host, address);
            if (this.awaited.delete(host)) this.onLateAnswer?.();
            return address;
          },
          () => {
            this.failedLookups.delete(host);
            if (this.failedLookups.size >= this.capacity)
              this.failedLookups.delete(this.failedLookups.keys().next().value as string);
            this.failedLookups.set(host, this.now());
            return undefined;
          },
        )
        .finally(() => this.inFlight.delete(host));
      this.inFlight.set(host, running);
    }
    return running;
  }
}

/**
 * The names of a command that renders once (`--dry`, check-labels), bounded in time as the
 * controller's task hosts are: all within `timeoutMs` (--request-timeout). Without a bound, 400 names a
 * name server never answered took 40 s, and 20 000 held a `--dry` for minutes (an audit). A lookup
 * cannot be cancelled: `leftRunning` is told when some go on, so the command can exit once its output
 * is written instead of waiting for them (exitOnceWritten.ts).
 */
export async function resolveOnce(
  body: unknown,
  timeoutMs: number,
  leftRunning: () => void,
  o: HostResolverOptions = {},
): Promise<{ readonly addresses: Map<string, string>; readonly resolver: HostResolver }> {
  const resolver = new HostResolver({ ...o, oneShot: true });
  const addresses = await resolver.resolve(body, timeoutMs);
  if (resolver.busy) leftRunning();
  return { addresses, resolver };
}
