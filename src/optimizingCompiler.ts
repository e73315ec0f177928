import { setFlagsFromString } from 'node:v8';

/**
 * V8's optimizing compiler (TurboFan), held back until the work is big enough to pay for it.
 *
 * A `--dry` of a few hundred apps is over before optimized code would pay back its compiling: with
 * it held back, a 1-app or 100-app `--dry` takes as long or less and peaks 4–8 MiB lower (TurboFan's
 * own code pages in the node binary, its zones, the optimized code; 52 → 48 MiB at 1 app, 57 → 49
 * MiB at 100). From about a thousand apps on it pays many times over (a 5 000-app `--dry` takes
 * twice as long without it), and the controller runs for days. So the command starts with it held
 * back, and lets it go for everything but a small `--dry` (bin/marathon-lb.ts, dry.ts).
 *
 * Both are V8 flags the program sets itself, as Node allows (v8.setFlagsFromString): V8 reads this
 * one each time a function grows hot enough to optimize, so it takes effect from then on.
 */
export function holdOptimizingCompiler(): void {
  setFlagsFromString('--no-opt');
}

export function allowOptimizingCompiler(): void {
  setFlagsFromString('--opt');
}

/**
 * Input from this many bytes on is read and rendered with the optimizing compiler: ~360 apps of the
 * bench mix (at 300 apps, 0.8 MB, both take the same time; at 1 000, 2.8 MB, it saves a tenth).
 */
export const OPTIMIZE_FROM_BYTES = 1 << 20;
