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
 * Scales `values` (oldest first, taken at times `ats` in ms) into a `width`×`height` box over the last
 * `windowMs` before the newest, which is at the right edge: each point where its time puts it. Spaced
 * by index, points of slow reads (a minute apart at 10 000 backends) were drawn 10 s apart, and a chart
 * said "last 5 min" over half an hour (found by an audit). A lone point is drawn `stepMs` wide.
 */
export function chartGeometry(
  values: readonly number[],
  ats: readonly number[],
  windowMs: number,
  stepMs: number,
  width: number,
  height: number,
  minTop = 1,
): ChartGeometry {
  const newest = ats[ats.length - 1] ?? 0;
  const kept: (readonly [number, number])[] = [];
  for (let i = 0; i < values.length; i++) {
    const age = newest - (ats[i] ?? newest);
    if (age > windowMs) continue;
    const v = values[i]!;
    kept.push([width - (windowMs > 0 ? (age / windowMs) * width : 0), Number.isFinite(v) ? Math.max(0, v) : 0]);
  }
  const top = Math.max(minTop, ...kept.map(([, v]) => v));
  if (kept.length === 0) return { line: '', area: '', top };
  const pts = kept.map(([x, v]) => [x, height - (v / top) * height] as const);
  if (pts.length === 1)
    pts.unshift([Math.max(0, pts[0]![0] - (windowMs > 0 ? (stepMs / windowMs) * width : 0)), pts[0]![1]]);
  const line = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${round(x)} ${round(y)}`).join(' ');
  const first = pts[0]!;
  const last = pts[pts.length - 1]!;
  return { line, area: `${line} L${round(last[0])} ${height} L${round(first[0])} ${height} Z`, top };
}
