/**
 * The items whose presence makes `throws` true, found by halving: a part that still throws is
 * split until single items remain. Null when the whole does not throw, or when no single item
 * throws on its own (only a combination does, or the cause is not in the items at all).
 *
 * Why: an exception while building a snapshot is a bug, and it must cost the app that triggers it,
 * not every app's routing. Costs O(k·log n) calls of `throws` for k throwing items among n.
 */
export function throwingItems<T>(items: readonly T[], throws: (subset: readonly T[]) => boolean): T[] | null {
  if (items.length === 0 || !throws(items)) return null;
  const found: T[] = [];
  // `part` is known to throw.
  const split = (part: readonly T[]): void => {
    if (part.length === 1) {
      found.push(part[0]!);
      return;
    }
    const mid = part.length >> 1;
    for (const half of [part.slice(0, mid), part.slice(mid)]) if (throws(half)) split(half);
  };
  split(items);
  return found.length > 0 ? found : null;
}
