/**
 * HAProxy's word rules for one config line (configuration.txt §2.2, the same in 2.0 and 2.6):
 * blanks separate words, `"` quotes weakly, `'` strongly, `\` escapes outside single quotes
 * (`\ `, `\\`, `\#`, `\"`, `\'`, `\$`, `\t`, `\n`, `\r`, `\xNN`; any other pair such as `\1` is
 * kept as is), and an unquoted `#` starts a comment.
 */
import { TextCopy } from '../model/textCopy';
import { err, ok, type Result } from '../result';

export interface Word {
  /** The text as written, quotes and escapes included. */
  readonly raw: string;
  /** What HAProxy passes on. */
  readonly value: string;
  /** `$NAME` or `${NAME}` inside double quotes: HAProxy would read the environment. */
  readonly env: boolean;
}

export interface Line {
  readonly indent: string;
  readonly words: readonly Word[];
  /** The comment, from its `#`, or ''. */
  readonly comment: string;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  ' ': ' ',
  '\t': '\t',
  '\\': '\\',
  '#': '#',
  '"': '"',
  "'": "'",
  $: '$',
  t: '\t',
  n: '\n',
  r: '\r',
};

export function splitWords(text: string): Line {
  const indent = /^[ \t]*/.exec(text)![0];
  const words: Word[] = [];
  let i = indent.length;
  let comment = '';
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') {
      comment = text.slice(i);
      break;
    }
    const start = i;
    const value = new TextCopy(text, i);
    let env = false;
    let q: '' | '"' | "'" = '';
    for (; i < text.length; i++) {
      const d = text[i]!;
      if (q === "'") {
        if (d === "'") {
          q = '';
          value.replace(i, 1, '');
        }
        continue;
      }
      if (q === '' && (d === ' ' || d === '\t' || d === '#')) break;
      if (d === '"' || (d === "'" && q === '')) {
        q = q === d ? '' : d;
        value.replace(i, 1, '');
        continue;
      }
      if (d === '\\') {
        const next = text[i + 1];
        if (next !== undefined && next in SIMPLE_ESCAPES) {
          value.replace(i, 2, SIMPLE_ESCAPES[next]!);
          i++;
          continue;
        }
        if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
          value.replace(i, 4, String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16)));
          i += 3;
        }
        continue;
      }
      if (d === '$' && q === '"' && /[A-Za-z_{]/.test(text[i + 1] ?? '')) env = true;
    }
    words.push({ raw: text.slice(start, i), value: value.upTo(i), env });
  }
  return { indent, words, comment };
}

/** A word HAProxy 2.6 reads back as `value`: bare when nothing in it is special, else strongly quoted when possible. */
export function quoteWord(value: string): string {
  if (value !== '' && !/[\s'"#\\]/.test(value)) return value;
  if (!/['\n\r]/.test(value)) return `'${value}'`;
  return `"${value
    .replace(/[\\"$]/g, (c) => `\\${c}`)
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')}"`;
}

/** One term of an ACL condition: `name`, `!name`, `{ anonymous acl }` or `!{ … }`, as written. */
export interface Term {
  readonly negated: boolean;
  readonly raw: string;
}

/** A condition in disjunctive normal form: any of these all-of lists. */
export type Dnf = readonly (readonly Term[])[];

/** `if a b || !c` / `unless …` (the words after the action) as a DNF, or an error. */
export function conditionDnf(words: readonly Word[]): Result<Dnf> {
  const kind = words[0]?.value;
  if (kind !== 'if' && kind !== 'unless') return err(`expected "if" or "unless", found "${words[0]?.raw ?? ''}"`);
  const ors: Term[][] = [[]];
  for (let i = 1; i < words.length; i++) {
    let w = words[i]!.raw;
    if (w === '||' || w === 'or') {
      ors.push([]);
      continue;
    }
    let negated = false;
    if (w === '!') {
      negated = true;
      w = words[++i]?.raw ?? '';
    } else if (w.startsWith('!')) {
      negated = true;
      w = w.slice(1);
    }
    if (w === '{') {
      const end = words.findIndex((x, k) => k > i && x.raw === '}');
      if (end < 0) return err('an anonymous ACL "{" is never closed');
      w = words
        .slice(i, end + 1)
        .map((x) => x.raw)
        .join(' ');
      i = end;
    }
    if (w === '') return err('a "!" is not followed by an ACL');
    ors[ors.length - 1]!.push({ negated, raw: w });
  }
  if (ors.some((and) => and.length === 0)) return err('an empty alternative around "||"');
  if (kind === 'if') return ok(ors);
  // unless (A1 ∧ A2) ∨ B1  ≡  (¬A1 ∨ ¬A2) ∧ ¬B1: one negated term from each alternative, in every combination.
  let product: Term[][] = [[]];
  for (const and of ors) {
    product = product.flatMap((p) => and.map((t) => [...p, { negated: !t.negated, raw: t.raw }]));
    if (product.length > 16) return err('an "unless" condition with too many alternatives to rewrite');
  }
  return ok(product);
}

/** `if <extra> <and…> || <extra> <and…>`: the condition that holds when `extra` and `dnf` both hold. */
export function withTerm(extra: string, dnf: Dnf | null): string {
  if (dnf === null) return `if ${extra}`;
  return `if ${dnf.map((and) => [extra, ...and.map((t) => `${t.negated ? '!' : ''}${t.raw}`)].join(' ')).join(' || ')}`;
}
