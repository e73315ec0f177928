import { regexProblem } from './pcreSubset';

/**
 * `HAPROXY_{n}_PATH` is printed after `acl path_<backend> path_beg` (marathon-lb: "the syntax of
 * path_beg"): flags, then patterns. Of HAProxy's ACL flags, `-i`, `-n` and `-m <method>` are
 * taken; `-f` and `-M` would read files on the load balancer and `-u` could clash with another
 * ACL's id, so they are refused. Patterns are checked where HAProxy would refuse them and with
 * them the whole config: regexes (`-m reg`) and numbers (`-m len`, `-m int`).
 */
const MATCH_METHODS = ['str', 'beg', 'end', 'sub', 'dir', 'dom', 'reg', 'len', 'int', 'found', 'bool'] as const;
const METHODS: ReadonlySet<string> = new Set(MATCH_METHODS);
/** Integer patterns: `5`, `1:5`, `3:`, `:8`, or an operator word before a number. */
const INTEGER_PATTERN = /^(\d{1,18}(:\d{0,18})?|:\d{1,18})$/;
const INTEGER_OPERATOR = /^(eq|ge|gt|le|lt)$/;
const NUMBER = /^\d{1,18}$/;

/** Why HAProxy would refuse (or this project will not print) these words of a PATH label; null when fine. */
export function pathProblem(words: readonly string[]): string | null {
  let method = 'beg';
  let i = 0;
  for (; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-i' || w === '-n') continue;
    if (w === '-m') {
      const m = words[++i];
      if (m === undefined || !METHODS.has(m))
        return `has -m ${m === undefined ? 'without a method' : `with the unknown method ${JSON.stringify(m)}`} (use one of ${MATCH_METHODS.join(', ')})`;
      method = m;
      continue;
    }
    if (w === '--') {
      i++;
      break;
    }
    if (w.startsWith('-')) return `has the unsupported ACL flag ${w} (only -i, -n and -m)`;
    break;
  }
  // No pattern at all (`-i`, blanks): HAProxy takes an ACL that never matches, and marathon-lb prints
  // it; the service port is served, its path route never taken.
  const patterns = words.slice(i);
  for (let k = 0; k < patterns.length; k++) {
    const p = patterns[k]!;
    if (method === 'reg') {
      const why = regexProblem(p);
      if (why !== null) return `regex ${JSON.stringify(p)} ${why}`;
    } else if (method === 'len' || method === 'int') {
      const operator = INTEGER_OPERATOR.test(p);
      const operand = operator ? patterns[++k] : p;
      if (operand === undefined || !(operator ? NUMBER : INTEGER_PATTERN).test(operand))
        return `has ${JSON.stringify(operand ?? p)} where -m ${method} needs a number${operator ? '' : ' or a range (1:5)'}`;
      const [from, to] = operand.split(':');
      if (from && to && Number(from) > Number(to)) return `has the range ${operand}, whose start is above its end`;
    }
  }
  return null;
}
