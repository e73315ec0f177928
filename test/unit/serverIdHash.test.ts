import * as crypto from 'node:crypto';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { serverId, ServerIdChains, ServerNamer } from '../../src/model/serverIds';

/** upstream's calculate_server_id, with node:crypto: the reference the JS sha256 must match. */
function reference(name: string, taken: Set<number>): number {
  let candidate = name;
  for (;;) {
    const digest = crypto.createHash('sha256').update(candidate, 'utf8').digest();
    let id = 0;
    for (let i = 0; i < digest.length; i += 2) id = (id * 65536 + digest.readUInt16BE(i)) % 32767;
    if (id > 0 && !taken.has(id)) {
      taken.add(id);
      return id;
    }
    candidate = `${candidate} ${digest.toString('hex')}`;
  }
}

describe('serverId', () => {
  it('matches sha256 mod 32767 for ASCII, non-ASCII and multi-block names', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.fullUnicodeString({ maxLength: 80 }),
          fc.asciiString({ minLength: 50, maxLength: 140 }),
        ),
        (name) => {
          expect(serverId(name, new Set())).toBe(reference(name, new Set()));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('re-hashes on collisions as upstream does, whatever ids are taken', () => {
    fc.assert(
      fc.property(
        fc.array(fc.asciiString({ maxLength: 30 }), { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 32766 }), { maxLength: 200 }),
        (names, ids) => {
          const ours = new Set(ids);
          const theirs = new Set(ids);
          for (const n of names) expect(serverId(n, ours)).toBe(reference(n, theirs));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('re-hashes as upstream in a crowded backend, where names collide many times over', () => {
    const crowded = Array.from({ length: 32766 }, (_, i) => i + 1).filter((id) => id % 64 !== 0); // 511 free
    fc.assert(
      fc.property(fc.array(fc.asciiString({ maxLength: 30 }), { minLength: 1, maxLength: 20 }), (names) => {
        const ours = new Set(crowded);
        const theirs = new Set(crowded);
        for (const n of names) expect(serverId(n, ours)).toBe(reference(n, theirs));
      }),
      { numRuns: 20 },
    );
  });

  it('numbers a backend of more servers than hashed ids (32 766) uniquely and stably, and ends', () => {
    const names = Array.from({ length: 40_000 }, (_, i) => `10_0_${i >> 8}_${i & 255}_${10000 + i}`);
    const once = (): number[] => {
      const taken = new Set<number>();
      return names.map((n) => serverId(n, taken));
    };
    const ids = once();
    expect(new Set(ids).size).toBe(names.length);
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect(Math.max(...ids)).toBeGreaterThan(32766);
    expect(once()).toEqual(ids);
    expect(Math.max(...ids)).toBeLessThanOrEqual(2 ** 31 - 1); // HAProxy's largest id
    // Ids past upstream's are hashed too: a server gone from the middle changes few others (a changed id is a reload).
    const taken = new Set<number>();
    const without = names.filter((_, i) => i !== 20_000).map((n) => serverId(n, taken));
    const changed = without.filter((id, i) => id !== ids[i < 20_000 ? i : i + 1]).length;
    expect(changed).toBeLessThan(names.length / 100);
    // While hashed ids are plentiful, they are upstream's.
    const theirs = new Set<number>();
    for (let i = 0; i < 1000; i++) expect(ids[i]).toBe(reference(names[i]!, theirs));
  }, 60_000);

  it('gives the same ids with re-hash chains kept across calls, in backends of any crowding', () => {
    // Names from a small pool meet other taken sets in later runs: their chains are walked further.
    const chains = new ServerIdChains();
    const pool = Array.from({ length: 40 }, (_, i) => `10_0_0_${i}_31000`);
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...pool), { maxLength: 30 }),
        fc.integer({ min: 0, max: 99 }),
        fc.nat(),
        fc.boolean(),
        (names, density, offset, nextGeneration) => {
          const crowded = Array.from({ length: 32766 }, (_, i) => i + 1).filter(
            (id) => (id * 7919 + offset) % 100 < density,
          );
          const ours = new Set(crowded);
          const plain = new Set(crowded);
          for (const n of names) expect(serverId(n, ours, chains)).toBe(serverId(n, plain));
          if (nextGeneration) chains.nextGeneration();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('re-hashes a name shared by many servers of one build once, not once more for every server after it', () => {
    // 3 000 tasks on one host:port (bad task data, or ports reported twice): each server walks the name's
    // chain one id further. Each namer keeps the chains it hashed, with or without earlier snapshots'.
    // The module object itself (what the code under test loads), not the import's read-only namespace.
    const hashes = jest.spyOn(createRequire(__filename)('node:crypto') as typeof crypto, 'createHash');
    try {
      const namer = new ServerNamer();
      const taken = namer.idsOfNextBackend();
      const ids = Array.from({ length: 3000 }, () => namer.id('10_0_0_1_31000', taken));
      // The chain is extended by the servers that need a longer one (upstream's 999 tries), no more.
      expect(hashes.mock.calls.length).toBeLessThan(1000);
      // The same ids as without chains (checked past upstream's 999 tries; without chains that is the slow part).
      const plain = new Set<number>();
      expect(ids.slice(0, 1100)).toEqual(ids.slice(0, 1100).map(() => serverId('10_0_0_1_31000', plain)));
      expect(new Set(ids).size).toBe(3000);
    } finally {
      hashes.mockRestore();
    }
  }, 60_000);

  it('numbers 30 000 servers sharing one name with work linear in their count, as one by one would', () => {
    // Each server of a shared name goes on where the one before it stopped: its chain is hashed once,
    // each step one hash, and no server probes the ids those before it took.
    const nodeCrypto = createRequire(__filename)('node:crypto') as typeof crypto;
    const copies = jest.spyOn(nodeCrypto.Hash.prototype, 'copy');
    const namer = new ServerNamer();
    const taken = namer.idsOfNextBackend();
    const probes = jest.spyOn(taken, 'has');
    try {
      const name = '10_0_0_1_31000';
      const ids = Array.from({ length: 30_000 }, () => namer.id(name, taken));
      expect(copies.mock.calls.length).toBe(999); // upstream's 999 re-hashes, each once
      expect(probes.mock.calls.length).toBeLessThan(3 * 30_000);
      expect(new Set(ids).size).toBe(30_000);
      // The id each gets from scratch, with the ids of those before it taken.
      for (const i of [0, 1, 2, 500, 998, 999, 1000, 1001, 5000, 29_999])
        expect(serverId(name, new Set(ids.slice(0, i)))).toBe(ids[i]);
      // A new backend starts over.
      const again = namer.idsOfNextBackend();
      expect(namer.id(name, again)).toBe(ids[0]);
      expect(namer.id(name, again)).toBe(ids[1]);
    } finally {
      copies.mockRestore();
      probes.mockRestore();
    }
  }, 60_000);

  it('keeps the ids of known names (10.1.0.197:26115 -> 20513 in the shared bench file)', () => {
    expect(serverId('10_1_0_197_26115', new Set())).toBe(20513);
    expect(serverId('', new Set())).toBe(reference('', new Set()));
  });
});
