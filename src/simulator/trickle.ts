import type { ServerResponse } from 'node:http';

/** How often a slowed answer sends its next piece (a big Marathon sends bytes all along, not in one go at the end). */
const TRICKLE_TICK_MS = 50;

/**
 * Sends `{"apps": [...]}` spread evenly over `totalMs`: the head at once, then one piece every
 * TRICKLE_TICK_MS, the last piece at `totalMs`. Each piece's apps are rendered when it is sent, so a
 * 10 000-app answer never holds this process for the second it takes to serialize it at once (a
 * real Marathon answers other requests meanwhile; the simulator's scale requests and events must
 * not wait behind it either). `render` must read a state fixed when the request came, so the body is
 * one moment's, as Marathon's is. Stops if the client goes away. `schedule` is the simulator's timer
 * (cancelled when it closes).
 */
export function trickleApps<T>(
  res: ServerResponse,
  apps: readonly T[],
  render: (app: T) => unknown,
  totalMs: number,
  schedule: (ms: number, fn: () => void) => () => void,
): Promise<void> {
  const pieces = Math.max(1, Math.ceil(totalMs / TRICKLE_TICK_MS));
  // Fewer apps than pieces: the whole (small) text at once, cut evenly, so bytes still flow all along.
  const whole = apps.length < pieces ? Buffer.from(JSON.stringify({ apps: apps.map(render) })) : null;
  const started = Date.now();
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
  return new Promise((resolve) => {
    let sent = 0;
    let cancel: () => void = () => undefined;
    res.once('close', () => {
      cancel();
      resolve();
    });
    // Piece k: apps [k·n/pieces, (k+1)·n/pieces), at least one each.
    const piece = (k: number): string | Buffer => {
      if (whole !== null) {
        const size = Math.ceil(whole.length / pieces);
        return whole.subarray(k * size, (k + 1) * size);
      }
      const from = Math.floor((k * apps.length) / pieces);
      const to = Math.floor(((k + 1) * apps.length) / pieces);
      const items = apps.slice(from, to).map((a) => JSON.stringify(render(a)));
      return (k === 0 ? '{"apps":[' : ',') + items.join(',') + (k === pieces - 1 ? ']}' : '');
    };
    const step = (): void => {
      if (res.destroyed) return resolve();
      const text = piece(sent);
      sent++;
      if (sent >= pieces) {
        res.end(text, () => resolve());
        return;
      }
      res.write(text);
      // Aim each piece at its slot so a slow event loop does not stretch the whole answer.
      cancel = schedule(Math.max(0, started + sent * TRICKLE_TICK_MS - Date.now()), step);
    };
    cancel = schedule(0, step);
  });
}
