/**
 * Time for the HAProxy side (polling a reload, retry intervals, deadlines), injected so that unit
 * tests run without real waits. The RxJS stages keep their schedulers; this is for the promise code.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A clock whose sleep returns at once and moves time forward (unit tests). */
export function fakeClock(start = 0): Clock & { readonly slept: number[] } {
  let t = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: (ms) => {
      slept.push(ms);
      t += ms;
      return Promise.resolve();
    },
  };
}
