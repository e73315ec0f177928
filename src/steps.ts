/**
 * Work done a piece at a time: each `next()` does one piece (what it yields means nothing), and the
 * value it returns when done is the result. Generator functions make these; the controller runs
 * them in slices (streams/inSlices.ts), one-shot callers such as `--dry` all at once (`drain`).
 */
export type Steps<T> = Generator<unknown, T, undefined>;

/** Steps already done: `value` is their result. */
// eslint-disable-next-line require-yield -- done at once, by definition
export function* finished<T>(value: T): Steps<T> {
  return value;
}

/** Runs steps to the end at once. */
export function drain<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}
