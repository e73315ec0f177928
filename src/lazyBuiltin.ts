import { createRequire } from 'node:module';

/**
 * A Node built-in loaded at its first use instead of at start: most starts (a --dry of a few apps, a
 * check-labels) never hash, spawn or check a cipher, and node:crypto, node:child_process and node:tls
 * cost 5–9 ms each to load.
 */
export function lazyBuiltin<T>(id: `node:${string}`): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= createRequire(__filename)(id) as T);
}
