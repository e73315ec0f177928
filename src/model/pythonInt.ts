/** Blanks Python's str.strip() takes off (its isspace), as int() does around the digits. */
const PY_BLANK = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
/** A sign and ASCII digits, `_` between two of them (`8_080`), blanks around. */
const PY_INT = new RegExp(`^${PY_BLANK}*[+-]?\\d(?:_?\\d)*${PY_BLANK}*$`);
const NOT_DIGIT = new RegExp(`${PY_BLANK}|_|\\+`, 'g');

/**
 * Python's int() of a label's text (marathon-lb and zdd.py read integer labels so), or NaN where it
 * raises; a number past 2^53 is NaN too (no label means one). Other scripts' digits (`８０８０`)
 * are not read.
 */
export function pythonInt(text: string): number {
  const n = pythonIntNear(text);
  return Number.isSafeInteger(n) ? n : Number.NaN;
}

/**
 * pythonInt for a label that only orders things (BACKEND_WEIGHT): an integer past 2^53, which Python
 * reads exactly, is its nearest double here. Two such weights a double cannot tell apart keep the
 * model's order; refused, the app's port was left out, where marathon-lb served it.
 */
export function pythonIntNear(text: string): number {
  if (!PY_INT.test(text)) return Number.NaN;
  return Number(text.replace(NOT_DIGIT, ''));
}
