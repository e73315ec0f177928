/**
 * Python's json.dumps, for the text zdd.py users see and hooks parse: `compact` is the default
 * `", "` / `": "` form (the pre-kill hook's arguments), `indent` the `indent=2, sort_keys=True`
 * form (the final app definition). Non-ASCII is escaped like ensure_ascii.
 */
export function pyJsonDumps(
  value: unknown,
  opts: { readonly indent?: number; readonly sortKeys?: boolean } = {},
): string {
  const ascii = (s: string): string =>
    JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const walk = (v: unknown, depth: number): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'string') return ascii(v);
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    const pad = opts.indent === undefined ? '' : '\n' + ' '.repeat(opts.indent * (depth + 1));
    const end = opts.indent === undefined ? '' : '\n' + ' '.repeat(opts.indent * depth);
    const sep = opts.indent === undefined ? ', ' : ',';
    if (Array.isArray(v))
      return v.length === 0 ? '[]' : `[${pad}${v.map((x) => walk(x, depth + 1)).join(sep + pad)}${end}]`;
    const keys = Object.keys(v as object).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
    if (opts.sortKeys === true) keys.sort();
    if (keys.length === 0) return '{}';
    return `{${pad}${keys.map((k) => `${ascii(k)}: ${walk((v as Record<string, unknown>)[k], depth + 1)}`).join(sep + pad)}${end}}`;
  };
  return walk(value, 0);
}
