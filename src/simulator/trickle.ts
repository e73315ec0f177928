import type { ServerResponse } from 'node:http';

/** How often a slowed answer sends its next piece (a big Marathon sends bytes all along, not in one go at the end). */
const TRICKLE_TICK_MS = 50;

/**
 * Sends `body` as JSON spread evenly over `totalMs`: the head at once, then one piece every
 * TRICKLE_TICK_MS, the last piece at `totalMs`. Stops if the client goes away. `schedule` is the
 * simulator's timer (cancelled when it closes).
 */
export function trickleJson(
  res: ServerResponse,
  body: unknown,
  totalMs: number,
  schedule: (ms: number, fn: () => void) => () => void,
): Promise<void> {
  const bytes = Buffer.from(JSON.stringify(body));
  const pieces = Math.max(1, Math.ceil(totalMs / TRICKLE_TICK_MS));
  const size = Math.ceil(bytes.length / pieces);
  const started = Date.now();
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
  return new Promise((resolve) => {
    let sent = 0;
    let cancel: () => void = () => undefined;
    res.once('close', () => {
      cancel();
      resolve();
    });
    const step = (): void => {
      if (res.destroyed) return resolve();
      const piece = bytes.subarray(sent * size, (sent + 1) * size);
      sent++;
      if (sent >= pieces) {
        res.end(piece, () => resolve());
        return;
      }
      res.write(piece);
      // Aim each piece at its slot so a slow event loop does not stretch the whole answer.
      cancel = schedule(Math.max(0, started + sent * TRICKLE_TICK_MS - Date.now()), step);
    };
    cancel = schedule(0, step);
  });
}
