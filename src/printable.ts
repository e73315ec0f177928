/**
 * Line breaks and other control characters (C0, DEL, C1, U+2028/2029): a line break in a log line
 * starts a line nobody logged, an escape sequence repaints the operator's terminal.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is its purpose
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;

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
