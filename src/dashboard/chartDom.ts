/* Draws a traffic history as a small inline SVG (requests/s filled, 5xx/s as a line on the same scale). */
import type { TrafficPoint } from '../admin/statusTypes';
import { chartGeometry } from './chart';
import { shown } from './dom';
import { rate } from './format';

const SVG = 'http://www.w3.org/2000/svg';
const W = 160;
const H = 36;

function svg(tag: string, attrs: Readonly<Record<string, string>>): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/** The chart, with a text alternative that says what it shows (the last point's values and the peak). */
export function trafficChart(history: readonly TrafficPoint[], slots: number, stepSeconds: number): SVGElement {
  const requests = history.map((p) => p.requestsPerSecond);
  const errors = history.map((p) => p.http5xxPerSecond);
  const ats = history.map((p) => Date.parse(p.at));
  // The window the label names, slots × step (points come a step apart when reads keep up).
  const windowMs = (slots - 1) * stepSeconds * 1000;
  const g = chartGeometry(requests, ats, windowMs, stepSeconds * 1000, W, H);
  const e5 = chartGeometry(errors, ats, windowMs, stepSeconds * 1000, W, H, g.top);
  const minutes = Math.round((slots * stepSeconds) / 60);
  const label = `requests per second over the last ${minutes} min, peak ${rate(Math.max(0, ...requests))}`;
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`,
    width: String(W),
    height: String(H),
    role: 'img',
    class: 'chart',
    'aria-label': label,
    preserveAspectRatio: 'none',
  });
  const title = svg('title', {});
  title.textContent = shown(label);
  root.appendChild(title);
  root.appendChild(svg('line', { x1: '0', y1: String(H - 0.5), x2: String(W), y2: String(H - 0.5), class: 'base' }));
  if (g.area) root.appendChild(svg('path', { d: g.area, class: 'req-area' }));
  if (g.line) root.appendChild(svg('path', { d: g.line, class: 'req' }));
  if (e5.line && errors.some((v) => v > 0)) root.appendChild(svg('path', { d: e5.line, class: 'err' }));
  return root;
}
