/*
 * Text for times and numbers on the dashboard. Pure: no DOM, no clock (the caller passes `now`),
 * so the node tests import it as is.
 */

/** "12 s ago", "3 min ago", "2 h 5 min ago"; "never" for null. */
export function ago(iso: string | null, now: number): string {
  if (iso === null) return 'never';
  return `${duration((now - Date.parse(iso)) / 1000)} ago`;
}

/** A span of seconds for people: "12 s", "3 min", "2 h 5 min". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** A per-second rate: two decimals under 10/s, one under 100/s, whole above. */
export function rate(perSecond: number): string {
  const v = Math.max(0, perSecond);
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v).toString()}/s`;
}

/** Lines of a unified diff: added (not the +++ header), removed (not ---), hunk header, or context. */
export type DiffLineKind = 'add' | 'del' | 'hunk' | '';

export function diffLineKind(line: string): DiffLineKind {
  if (/^\+(?!\+\+ )/.test(line)) return 'add';
  if (/^-(?!-- )/.test(line)) return 'del';
  return /^@@/.test(line) ? 'hunk' : '';
}
