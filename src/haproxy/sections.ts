/**
 * HAProxy config sections, found in the text without walking it line by line. At 10 000 apps the
 * config is megabytes of backends, and what the controller needs from it per apply (the global and
 * defaults sections, the bind lines) is a few lines: native string search finds a keyword's
 * occurrences, and only those are looked at. One definition of a section header for every reader:
 * a line whose text after its leading blanks is a section keyword followed by a blank or the end.
 */

/** A section's first line (trimmed), by HAProxy's section keywords. */
export const SECTION =
  /^(global|defaults|frontend|backend|listen|userlist|peers|resolvers|program|mailers|cache|ring|http-errors|crt-store|traces)(?=\s|$)/;

/** Whether a line (blanks before its keyword allowed) opens a section. */
export const opensSection = (line: string): boolean => SECTION.test(line.replace(/^[ \t]+/, ''));

/** The next line that is a section header, from a line break on. */
const NEXT_HEADER = new RegExp(`\\n[^\\S\\n]*${SECTION.source.slice(1)}`, 'g');
const BLANK = /[^\S\n]/;
const SPACE = /\s/;

/** A section in the text: its keyword, where its header line starts and ends, where the next section starts. */
export interface Span {
  readonly kind: string;
  /** Offset of the header line's first character. */
  readonly start: number;
  /** Offset of the line break ending the header line (the text's length when there is none). */
  readonly headerEnd: number;
  /** Offset of the next section's header line; the text's length for the last section. */
  readonly end: number;
}

/** Offset where the line holding `at` starts, when everything before `at` on it is blank; else -1. */
function blankLineStart(text: string, at: number): number {
  let i = at - 1;
  while (i >= 0 && text[i] !== '\n') {
    if (!BLANK.test(text[i]!)) return -1;
    i--;
  }
  return i + 1;
}

const lineEnd = (text: string, at: number): number => {
  const end = text.indexOf('\n', at);
  return end < 0 ? text.length : end;
};

/**
 * The lines whose first word is `word` (followed by whitespace or the end of the text): each as
 * [line start, line end). A line that holds the word more than once is given once.
 */
export function* linesStartingWith(text: string, word: string): Generator<readonly [number, number]> {
  let after = 0; // lines before this were given already
  for (let at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1)) {
    if (at < after) continue;
    const next = at + word.length;
    if (next < text.length && !SPACE.test(text[next]!)) continue;
    const start = blankLineStart(text, at);
    if (start < 0) continue;
    const end = lineEnd(text, next);
    after = end;
    yield [start, end];
  }
}

/** Offset of the first header line after the line break at `from` (or after); the text's length when none. */
function nextHeader(text: string, from: number): number {
  NEXT_HEADER.lastIndex = from;
  const m = NEXT_HEADER.exec(text);
  return m === null ? text.length : m.index + 1;
}

/** The sections of one kind, in order. */
export function sectionsOf(text: string, kind: string): Span[] {
  const spans: Span[] = [];
  for (const [start, headerEnd] of linesStartingWith(text, kind))
    spans.push({ kind, start, headerEnd, end: nextHeader(text, headerEnd) });
  return spans;
}

const SECTION_AT = new RegExp(SECTION.source.slice(1), 'y');

/** Offset of the first section header line; the text's length when there is none. */
export function firstHeader(text: string): number {
  let at = 0;
  while (at < text.length && BLANK.test(text[at]!)) at++;
  SECTION_AT.lastIndex = at;
  return SECTION_AT.test(text) ? 0 : nextHeader(text, 0);
}
