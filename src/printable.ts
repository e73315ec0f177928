/**
 * Line breaks and other control characters (C0 but tab, DEL, C1, U+2028/2029), and the invisible
 * format characters (a byte-order mark, zero-width and bidirectional marks: Unicode's Cf): a line
 * break in a log line starts a line nobody logged, an escape sequence repaints the operator's
 * terminal, a right-to-left override shows a line's text in another order than it has.
 */
const CONTROL = /(?!\t)[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/** Whether printable() would change `text`. */
export const hasControlCharacters = (text: string): boolean => text.search(CONTROL) >= 0;

const escaped = (c: string): string =>
  c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * Text from outside (Marathon, labels, HAProxy's answers) as one line of a log or a message: its
 * control characters escaped the way JSON writes them, everything else (tabs too) as it is.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, escaped);
}
