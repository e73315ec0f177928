/*
 * Geometry of the small traffic charts: pure, so it is tested in node; chartDom.ts draws it as SVG.
 */

export interface ChartGeometry {
  /** SVG path data of the line (empty when there are no points). */
  readonly line: string;
  /** The same line closed down to the base, for the filled area. */
  readonly area: string;
  /** The value at the top of the chart (at least `minTop`, so a quiet backend draws a flat low line). */
  readonly top: number;
}

const round = (n: number): string => (Math.round(n * 10) / 10).toString();

/**
 * Scales `values` (oldest first) into a `width`×`height` box, the newest at the right edge; missing
 * older points leave the left part empty, so the time axis stays the same as points fill in.
 */
export function chartGeometry(
  values: readonly number[],
  slots: number,
  width: number,
  height: number,
  minTop = 1,
): ChartGeometry {
  const shown = values.slice(-Math.max(1, slots)).map((v) => (Number.isFinite(v) ? Math.max(0, v) : 0));
  const top = Math.max(minTop, ...shown);
  if (shown.length === 0) return { line: '', area: '', top };
  const step = slots > 1 ? width / (slots - 1) : 0;
  const x0 = width - step * (shown.length - 1);
  const pts = shown.map((v, i) => [x0 + step * i, height - (v / top) * height] as const);
  if (pts.length === 1) pts.unshift([Math.max(0, x0 - step), pts[0]![1]]);
  const line = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${round(x)} ${round(y)}`).join(' ');
  const first = pts[0]!;
  const last = pts[pts.length - 1]!;
  return { line, area: `${line} L${round(last[0])} ${height} L${round(first[0])} ${height} Z`, top };
}
