/**
 * Python argparse's `allow_abbrev`: a long flag may be shortened to any prefix that names exactly
 * one flag (`--strict` is `--strict-mode`, `--health` is `--health-check`), as marathon_lb.py's
 * users script it. An exact name always wins over longer names it prefixes (`--sse` is not
 * ambiguous with `--sse-idle-timeout`); a prefix of several names is an error naming them, in
 * argparse's words. Tokens after `--` are operands, not flags. Environment variables are full names
 * and are not touched here.
 */

import { err, ok, type Result } from '../result';

/** The argv with prefixes expanded, or argparse's "ambiguous option" message. */
export type Expanded = Result<readonly string[]>;

/**
 * `argv` with every unique long-flag prefix replaced by the full flag; `names` without dashes, in help
 * order. A prefix of several of `names` that upstream's parser (its flags: `upstream`) read as one of
 * its own still means that one: flags added here must not make a migrating user's `--haproxy-m`
 * (`--haproxy-map` there; `--haproxy-master-socket` too here) or `--co` (`--command`) an error.
 */
export function expandAbbreviations(
  argv: readonly string[],
  names: readonly string[],
  upstream: readonly string[] = [],
): Expanded {
  const known = new Set(names);
  const out: string[] = [];
  const end = operandsAt(argv);
  for (let i = 0; i < end; i++) {
    const token = argv[i] as string;
    if (!token.startsWith('--') || token.length === 2) {
      out.push(token);
      continue;
    }
    const eq = token.indexOf('=');
    const name = token.slice(2, eq === -1 ? undefined : eq);
    const rest = eq === -1 ? '' : token.slice(eq);
    if (name === '' || known.has(name)) {
      out.push(token);
      continue;
    }
    let matches = names.filter((n) => n.startsWith(name));
    if (matches.length > 1) {
      const theirs = upstream.filter((n) => n.startsWith(name));
      if (theirs.length === 1) matches = theirs;
    }
    if (matches.length > 1) {
      return err(`ambiguous option: ${token} could match ${matches.map((n) => `--${n}`).join(', ')}`);
    }
    // No match: left as typed, so the parser reports it as unrecognized.
    out.push(matches.length === 1 ? `--${matches[0] as string}${rest}` : token);
  }
  out.push(...argv.slice(end));
  return ok(out);
}

/**
 * argparse's short options: several flags in one token (`-sHd`), and a value attached to the one that
 * takes it (`-mhttp://marathon:8080`, `-csv`), the rest of the token being that value. yargs read
 * `-mhttp://…` as `-m -h -t -t -p …` and printed the help (exit 0: nothing ran). `shorts` maps each
 * short flag to whether it takes a value; a token with any other letter is left as typed.
 */
export function expandShortClusters(argv: readonly string[], shorts: ReadonlyMap<string, boolean>): readonly string[] {
  const out: string[] = [];
  const end = operandsAt(argv);
  for (let i = 0; i < end; i++) {
    const token = argv[i] as string;
    if (token.length <= 2 || !token.startsWith('-') || token.startsWith('--') || !shorts.has(token[1]!)) {
      out.push(token);
      continue;
    }
    const split: string[] = [];
    for (let c = 1; c < token.length; c++) {
      const takesValue = shorts.get(token[c]!);
      if (takesValue === undefined) {
        split.length = 0;
        split.push(token); // an unknown letter: the parser names the token
        break;
      }
      split.push(`-${token[c]!}`);
      if (takesValue) {
        const value = token.slice(c + 1);
        // `-m=URL`, as argparse reads it.
        if (value !== '') split.push(value.startsWith('=') && c === 1 ? value.slice(1) : value);
        break;
      }
    }
    out.push(...split);
  }
  out.push(...argv.slice(end));
  return out;
}

/** Where the operands start: `--` and every token after it are never flags (argv.length without one). */
function operandsAt(argv: readonly string[]): number {
  const i = argv.indexOf('--');
  return i < 0 ? argv.length : i;
}
