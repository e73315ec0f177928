import * as crypto from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { AppInputs } from './appKey';
import type { Problem, Server, Service } from './types';

const UNSAFE = /[^a-zA-Z0-9-]/g;

/** marathon-lb's friendly server name: host_ip_port, or ip_port when the host is the IP. */
export function serverName(host: string, ip: string, port: number): string {
  return (host !== ip ? `${host}_${ip}_${port}` : `${ip}_${port}`).replace(UNSAFE, '_');
}

/** Replaces every character HAProxy identifiers cannot hold, like upstream's re.sub. */
export function cleanName(s: string): string {
  return s.replace(UNSAFE, '_');
}

// crypto.hash (Node >= 20.12) is the one-shot form, about twice as fast as createHash for short input.
const oneShot = (crypto as unknown as { hash?: (alg: string, data: string, enc: 'buffer') => Buffer }).hash;
const sha256 = (s: string): Buffer => (oneShot ? oneShot('sha256', s, 'buffer') : crypto.createHash('sha256').update(s, 'utf8').digest());

/** The 256-bit digest as a big-endian number, mod 32767, two bytes at a time. */
function mod32767(digest: Buffer): number {
  let r = 0;
  for (let i = 0; i < digest.length; i += 2) r = (r * 65536 + digest.readUInt16BE(i)) % 32767;
  return r;
}

/**
 * A server id that is stable across renders as long as servers are visited in the same order:
 * sha256(name) mod 32767, re-hashing `name + ' ' + digest` on a collision or zero (upstream's
 * calculate_server_id). `taken` holds the ids already used in the backend and is extended.
 */
export function serverId(name: string, taken: Set<number>): number {
  let candidate = name;
  for (;;) {
    const digest = sha256(candidate);
    const id = mod32767(digest);
    if (id > 0 && !taken.has(id)) {
      taken.add(id);
      return id;
    }
    candidate = `${candidate} ${digest.toString('hex')}`;
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
  private current = new Map<string, { readonly key: string; readonly servers: readonly Server[] }>();
  private previous = new Map<string, { readonly key: string; readonly servers: readonly Server[] }>();
  private currentServices = new Map<string, Service>();
  private previousServices = new Map<string, Service>();
  /** By app id, with the snapshot that last used it: one map, no re-insertion on a hit. */
  private readonly apps = new Map<string, { built: BuiltApp; seen: number }>();
  private snapshot = 0;
  private options: string | undefined;

  /**
   * Call once per snapshot, before building it. `options` names what else the model depends on
   * (model options): apps built under other options are forgotten.
   */
  nextSnapshot(options = ''): void {
    this.previous = this.current;
    this.current = new Map();
    this.previousServices = this.currentServices;
    this.currentServices = new Map();
    // Apps not seen in the last snapshot go, as do all when the options changed.
    if (options !== this.options) this.apps.clear();
    else for (const [id, e] of this.apps) if (e.seen < this.snapshot) this.apps.delete(id);
    this.snapshot++;
    this.options = options;
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
    const old = this.currentServices.get(built.backend) ?? this.previousServices.get(built.backend);
    const kept = old !== undefined && sameService(old, built) ? old : built;
    this.currentServices.set(built.backend, kept);
    return kept;
  }

  get(backend: string, key: string): readonly Server[] | undefined {
    const hit = this.current.get(backend) ?? this.previous.get(backend);
    if (hit === undefined || hit.key !== key) return undefined;
    this.current.set(backend, hit);
    return hit.servers;
  }

  remember(backend: string, key: string, servers: readonly Server[]): void {
    this.current.set(backend, { key, servers });
  }
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
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null || !isDeepStrictEqual(x, y)) return false;
  }
  return true;
}

/** The sticky-session cookie value for a server: first 10 hex digits of sha1(name). */
export function cookieValue(name: string): string {
  return crypto.createHash('sha1').update(name).digest('hex').slice(0, 10);
}
