import type * as Crypto from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { AppInputs } from './appKey';
import type { Problem, Server, Service } from './types';
import { lazyBuiltin } from '../lazyBuiltin';

const crypto = lazyBuiltin<typeof Crypto>('node:crypto');

const UNSAFE = /[^a-zA-Z0-9-]/g;

/** marathon-lb's friendly server name: host_ip_port, or ip_port when the host is the IP. */
export function serverName(host: string, ip: string, port: number): string {
  return (host !== ip ? `${host}_${ip}_${port}` : `${ip}_${port}`).replace(UNSAFE, '_');
}

/**
 * serverName for the servers of one snapshot: each distinct host and IP is cleaned once (its tasks run
 * on a few hundred agents). Cleaning keeps "_" and digits, so clean(host_ip_port) is
 * clean(host)_clean(ip)_port: no regular expression over every name.
 */
export class ServerNamer {
  private readonly cleaned = new Map<string, string>();
  private readonly taken = new Set<number>();
  /** Where each name's search for a free id goes on in the current backend (serverId's `resume`). */
  private readonly resume = new Map<string, number>();

  /**
   * `chains`: the re-hash chains of earlier snapshots (ServerMemo keeps them), else this build's own.
   * Without any, each of n servers sharing one name re-hashed the chain from its start: 8 000 tasks on
   * one host:port took 15 s (1 000 tries each), 41 s at 16 000. Without `resume`, each walked the
   * tries of those before it: 32 000 took 7 s.
   */
  constructor(private readonly chains: ServerIdChains = new ServerIdChains()) {}

  /** serverId, with the chains, in the backend of the last idsOfNextBackend (`taken` is its set). */
  id(name: string, taken: Set<number>): number {
    return serverId(name, taken, this.chains, taken === this.taken ? this.resume : undefined);
  }

  /** An empty set for serverId, for the next backend: one set per snapshot, not one per backend. */
  idsOfNextBackend(): Set<number> {
    this.taken.clear();
    this.resume.clear();
    return this.taken;
  }

  name(host: string, ip: string, port: number): string {
    const cleanIp = this.clean(ip);
    return host !== ip ? `${this.clean(host)}_${cleanIp}_${port}` : `${cleanIp}_${port}`;
  }

  private clean(s: string): string {
    let c = this.cleaned.get(s);
    if (c === undefined) this.cleaned.set(s, (c = cleanName(s)));
    return c;
  }
}

/** Replaces every character HAProxy identifiers cannot hold, like upstream's re.sub. */
export function cleanName(s: string): string {
  return s.replace(UNSAFE, '_');
}

// SHA-256 round constants (FIPS 180-4).
const K = Uint32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const W = new Uint32Array(64);
/** The last digest, as eight big-endian words (reused: one hash at a time, read before the next). */
const H = new Uint32Array(8);

/**
 * sha256 of an ASCII string into H, in JS; false (H undefined) at the first character above 0x7f.
 * Server names are short ASCII: a JS loop with no Buffer per call costs a third of a native crypto
 * call plus its Buffer (15 000 per cold 5 000-app render).
 */
function sha256Ascii(s: string): boolean {
  const len = s.length;
  const blocks = ((len + 8) >>> 6) + 1;
  let h0 = 0x6a09e667,
    h1 = 0xbb67ae85,
    h2 = 0x3c6ef372,
    h3 = 0xa54ff53a,
    h4 = 0x510e527f,
    h5 = 0x9b05688c,
    h6 = 0x1f83d9ab,
    h7 = 0x5be0cd19;
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < 16; i++) {
      let w = 0;
      for (let j = 0, p = b * 64 + i * 4; j < 4; j++, p++) {
        const c = p < len ? s.charCodeAt(p) : p === len ? 0x80 : 0;
        if (c > 0x7f && p < len) return false;
        w = (w << 8) | c;
      }
      W[i] = w;
    }
    if (b === blocks - 1) {
      W[14] = Math.floor(len / 0x20000000);
      W[15] = (len * 8) >>> 0;
    }
    for (let i = 16; i < 64; i++) {
      const x = W[i - 15]!,
        y = W[i - 2]!;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
    }
    let a = h0,
      c1 = h1,
      c = h2,
      d = h3,
      e = h4,
      f = h5,
      g = h6,
      h = h7;
    for (let i = 0; i < 64; i++) {
      const t1 =
        (h +
          (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
          ((e & f) ^ (~e & g)) +
          K[i]! +
          W[i]!) |
        0;
      const t2 =
        ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
          ((a & c1) ^ (a & c) ^ (c1 & c))) |
        0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = c1;
      c1 = a;
      a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + c1) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + h) | 0;
  }
  H[0] = h0;
  H[1] = h1;
  H[2] = h2;
  H[3] = h3;
  H[4] = h4;
  H[5] = h5;
  H[6] = h6;
  H[7] = h7;
  return true;
}

/** sha256(s) (UTF-8) into H: in JS for ASCII, by node:crypto otherwise. */
function sha256(s: string): void {
  if (sha256Ascii(s)) return;
  digestIntoH(crypto().createHash('sha256').update(s, 'utf8').digest());
}

function digestIntoH(digest: Buffer): void {
  for (let i = 0; i < 8; i++) H[i] = digest.readUInt32BE(i * 4);
}

/** The 256-bit digest in H as a big-endian number, mod 32767, two bytes at a time. */
function mod32767(): number {
  let r = 0;
  for (let i = 0; i < 8; i++) {
    r = (r * 65536 + (H[i]! >>> 16)) % 32767;
    r = (r * 65536 + (H[i]! & 0xffff)) % 32767;
  }
  return r;
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** The digest in H as lowercase hex (what upstream appends to a colliding name). */
function digestHex(): string {
  let out = '';
  for (let i = 0; i < 8; i++) {
    const w = H[i]!;
    out += HEX[w >>> 24]! + HEX[(w >>> 16) & 0xff]! + HEX[(w >>> 8) & 0xff]! + HEX[w & 0xff]!;
  }
  return out;
}

/**
 * A server id that is stable across renders as long as servers are visited in the same order:
 * sha256(name) mod 32767, re-hashing `name + ' ' + digest` on a collision or zero (upstream's
 * calculate_server_id). `taken` holds the ids already used in the backend and is extended. With
 * `chains`, re-hashes of earlier calls are looked up rather than computed again. With `resume` (one
 * per `taken`, see ServerNamer), a name given to several servers of the backend goes on where its
 * last search stopped: the tries before it are taken, and a backend's taken ids only grow.
 */
export function serverId(
  name: string,
  taken: Set<number>,
  chains?: ServerIdChains,
  resume?: Map<string, number>,
): number {
  const from = resume?.get(name) ?? 0;
  if (from === 0) {
    sha256(name);
    const id = mod32767();
    if (id > 0 && !taken.has(id)) {
      taken.add(id);
      return id;
    }
  }
  return idAfterCollision(name, taken, chains?.get(name) ?? new Rehashes(name), resume, Math.max(from, 1));
}

/** Ids sha256 mod 32767 can give: 1..32766. */
const HASHED_IDS = 32766;
/**
 * Upstream re-hashes by recursion, so Python stops it (RecursionError) before 1 000 tries; a backend
 * crowded enough to need more is one upstream cannot render at all.
 */
const MAX_TRIES = 1000;

/**
 * serverId from try `from` on (try 0 is the name's own hash, tries 1 to 999 its re-hash chain, the
 * tries after them wide ids, see wideId): the first whose id is free. When every hashed id is taken
 * (more than 32 766 servers in one backend) or the chain runs out, the id is a wide one. Hashing whole
 * names to the end took minutes for a backend of 30 000 servers and never ended past 32 766.
 */
function idAfterCollision(
  name: string,
  taken: Set<number>,
  chain: Rehashes,
  resume: Map<string, number> | undefined,
  from: number,
): number {
  let t = from;
  if (taken.size < HASHED_IDS) {
    for (; t < MAX_TRIES; t++) {
      const id = chain.at(t - 1);
      if (id > 0 && !taken.has(id)) {
        taken.add(id);
        resume?.set(name, t + 1);
        return id;
      }
    }
  }
  return wideId(name, taken, resume, Math.max(t, MAX_TRIES) - MAX_TRIES);
}

/** Ids HAProxy takes past upstream's: 32 767 up to the largest int (any positive int is a valid `id`). */
const FIRST_WIDE_ID = HASHED_IDS + 1;
const WIDE_IDS = 2 ** 31 - 1 - HASHED_IDS;

/**
 * An id past upstream's range for a server upstream could not number: from sha256(name) too, so
 * adding or removing another server seldom changes it (a changed id means a reload, not a runtime
 * update), and the next free one after it when it is taken (from `skip` places after it on: those
 * before are known to be taken).
 */
function wideId(name: string, taken: Set<number>, resume: Map<string, number> | undefined, skip: number): number {
  sha256(name);
  const start = H[0]! % WIDE_IDS;
  const at = (k: number): number => FIRST_WIDE_ID + ((start + k) % WIDE_IDS);
  let k = skip;
  while (taken.has(at(k))) k++;
  taken.add(at(k));
  resume?.set(name, MAX_TRIES + k + 1);
  return at(k);
}

/**
 * A name's re-hash chain, made as far as it was needed. Each re-hash appends the hex of the last
 * digest to the name, so the running hash is kept until the chain is whole: the next id costs one
 * more hash. (Made again from the name, the k-th id cost k: quadratic for a name many servers share.)
 */
class Rehashes {
  private readonly ids: number[] = [];
  private hash: Crypto.Hash | undefined;
  /** The hex of the last digest, which the next re-hash appends. */
  private lastHex = '';

  constructor(private readonly name: string) {}

  /** The i-th re-hash's id (0 <= i < MAX_TRIES - 1). */
  at(i: number): number {
    while (this.ids.length <= i) this.extend();
    return this.ids[i]!;
  }

  private extend(): void {
    if (this.hash === undefined) {
      sha256(this.name);
      this.lastHex = digestHex();
      this.hash = crypto().createHash('sha256').update(this.name, 'utf8');
    }
    this.hash.update(` ${this.lastHex}`);
    digestIntoH(this.hash.copy().digest());
    this.lastHex = digestHex();
    this.ids.push(mod32767());
    if (this.ids.length === MAX_TRIES - 1) this.hash = undefined; // whole: its state is no longer needed
  }
}

/**
 * The re-hash chains of server names that collided, kept across snapshots. The ids a name re-hashes
 * to depend on the name alone (which of them a server gets depends on the ids taken before it), and
 * each costs a native hash: a backend of 20 000 servers, re-rendered after one of its tasks changed,
 * walks ~20 000 chains instead of computing them again. Bounded: chains not used in the current
 * generation or the one before are dropped (ServerMemo starts one per snapshot).
 */
export class ServerIdChains {
  private current = new Map<string, Rehashes>();
  private previous = new Map<string, Rehashes>();

  /** The name's chain, kept for the next generation (a new, empty one the first time). */
  get(name: string): Rehashes {
    let chain = this.current.get(name);
    if (chain === undefined) {
      chain = this.previous.get(name) ?? new Rehashes(name);
      this.current.set(name, chain);
    }
    return chain;
  }

  nextGeneration(): void {
    this.previous = this.current;
    this.current = new Map();
  }
}

/**
 * The servers built for each backend in the last two snapshots. A controller re-renders mostly the
 * same tasks: when a backend's tasks are exactly those of a recent snapshot, its Server objects
 * (names, hashed ids) are reused instead of being built and hashed again. Ids are the same either
 * way, since they depend only on the ordered names. Bounded: backends not seen for a whole snapshot
 * are dropped when the next one starts.
 */
export class ServerMemo {
  /**
   * By backend, with the snapshot that last used it. One map each, kept across snapshots (no new
   * map of every backend per snapshot): what the last snapshot did not use goes when the next starts.
   */
  private readonly servers = new Map<string, { readonly servers: readonly Server[]; seen: number }>();
  private readonly services = new Map<string, { readonly service: Service; seen: number }>();
  /** By app id, with the snapshot that last used it: one map, no re-insertion on a hit. */
  private readonly apps = new Map<string, { built: BuiltApp; seen: number }>();
  private snapshot = 0;
  private options: string | undefined;
  /** Server ids' re-hash chains, for this memo's snapshots and for the event fast path's rebuilds. */
  readonly idChains = new ServerIdChains();

  /**
   * Call once per snapshot, before building it (run its steps to the end). `options` names what else
   * the model depends on (model options): apps built under other options are forgotten. In steps:
   * at 10 000 apps the sweep of the three maps took ~25 ms in one piece.
   */
  *nextSnapshotSteps(options = ''): Generator<void, void, undefined> {
    // What the snapshot that just ended (or the one before, for servers and services) did not use goes,
    // as do all apps when the options changed.
    const snapshot = this.snapshot;
    yield* sweep(this.servers, snapshot);
    yield* sweep(this.services, snapshot);
    if (options !== this.options) this.apps.clear();
    else yield* sweep(this.apps, snapshot);
    this.snapshot++;
    this.options = options;
    this.idChains.nextGeneration();
  }

  /** What the app with this id built in a recent snapshot (the caller compares its inputs), or undefined. */
  app(id: string): BuiltApp | undefined {
    return this.apps.get(id)?.built;
  }

  /** Keeps `built` (new, or reused from app()) for the next snapshot. */
  rememberApp(id: string, built: BuiltApp): void {
    const e = this.apps.get(id);
    if (e !== undefined && e.built === built) e.seen = this.snapshot;
    else this.apps.set(id, { built, seen: this.snapshot });
  }

  /** The equal Service of a recent snapshot (same object), or `built` itself, remembered for the next. */
  sameService(built: Service): Service {
    const e = this.services.get(built.backend);
    if (e !== undefined && sameService(e.service, built)) {
      e.seen = this.snapshot;
      return e.service;
    }
    this.services.set(built.backend, { service: built, seen: this.snapshot });
    return built;
  }

  /**
   * The servers remembered for `backend` when they are these targets, in this order (host, address,
   * port, draining and health-check port each): compared field by field, no key text built per backend.
   */
  get(
    backend: string,
    targets: readonly ServerTarget[],
    checkPort: (idx: number) => number | null,
  ): readonly Server[] | undefined {
    const hit = this.servers.get(backend);
    if (hit === undefined) return undefined;
    const servers = hit.servers;
    if (servers.length !== targets.length) return undefined;
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i]!;
      const t = targets[i]!;
      if (s.host !== t.host || s.ip !== t.ip || s.port !== t.port || s.draining !== t.draining) return undefined;
      if (s.healthCheckPort !== checkPort(i)) return undefined;
    }
    hit.seen = this.snapshot;
    return servers;
  }

  remember(backend: string, servers: readonly Server[]): void {
    this.servers.set(backend, { servers, seen: this.snapshot });
  }
}

/** Deletes the entries last seen before `snapshot`, a step per 2 048 entries (deleting while iterating is safe for a Map). */
function* sweep(map: Map<string, { readonly seen: number }>, snapshot: number): Generator<void, void, undefined> {
  let n = 0;
  for (const [key, e] of map) {
    if (++n % 2048 === 0) yield;
    if (e.seen < snapshot) map.delete(key);
  }
}

/** Where a server sends traffic: what its Server is made from, with its health-check port. */
export interface ServerTarget {
  readonly host: string;
  readonly ip: string;
  readonly port: number;
  readonly draining: boolean;
}

/** What toModel made of one app: replayed as it is when the app comes again unchanged. */
export interface BuiltApp {
  readonly inputs: AppInputs;
  readonly services: readonly Service[];
  readonly problems: readonly Problem[];
  readonly observed: readonly (readonly [string, boolean])[];
}

/** Field by field: servers by identity (the memo reuses the array), small objects structurally. */
function sameService(a: Service, b: Service): boolean {
  if (a.servers !== b.servers) return false;
  for (const k in b) {
    const x = a[k as keyof Service];
    const y = b[k as keyof Service];
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null || !isDeepStrictEqual(x, y))
      return false;
  }
  return true;
}

/** The sticky-session cookie value for a server: first 10 hex digits of sha1(name). */
export function cookieValue(name: string): string {
  return crypto().createHash('sha1').update(name).digest('hex').slice(0, 10);
}
