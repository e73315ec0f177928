import { setFlagsFromString } from 'node:v8';

/**
 * V8's young generation (its two semi-spaces), kept small for a command that exits after one render:
 * V8 doubles it at a scavenge when much survives, to save later scavenges, and a `--dry` keeps almost
 * all it reads until it exits. With growth factor 1 it takes only V8's first step (1 to 2 MiB a
 * semi-space). Held from the command's start, a 1-app `--dry` peaks ~1 MiB lower and a 100-app one
 * ~2 MiB (the semi-spaces had doubled again while the flags were parsed); at 5 000 apps the doubling
 * cost ~25 MiB of peak RSS and saved no time. The controller runs for days: it lets the young
 * generation grow as V8 would.
 *
 * Both set V8's --semi-space-growth-factor, a flag the program sets itself (v8.setFlagsFromString):
 * V8 reads it each time it would grow the young generation, so it takes effect from then on.
 */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/** V8's default factor. */
export function letYoungGenerationGrow(): void {
  setFlagsFromString('--semi-space-growth-factor=2');
}
