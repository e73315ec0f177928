import type { IncomingMessage, ServerResponse } from 'node:http';
import { err, ok, type Result } from '../result';

/** Small HTTP helpers shared by the Marathon and control routes. */

const MAX_BODY_BYTES = 4 * 1024 * 1024;

export type Body = Result<unknown>;

/** Reads a JSON request body; an empty body reads as `{}`. */
export function readJson(req: IncomingMessage): Promise<Body> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('error', (e) => resolve(err(`could not read the request body: ${e.message}`)));
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return resolve(err(`request body larger than ${MAX_BODY_BYTES} bytes`));
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (text === '') return resolve(ok({}));
      try {
        resolve(ok(JSON.parse(text) as unknown));
      } catch (e) {
        resolve(err(`request body is not valid JSON: ${(e as Error).message}`));
      }
    });
  });
}

/** Response headers; an array value sends the header once per entry (Set-Cookie). */
export type Headers = Record<string, string | readonly string[]>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  sendText(res, status, JSON.stringify(body), { 'Content-Type': 'application/json; charset=utf-8', ...headers });
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Headers = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    ...headers,
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

export const sendError = (res: ServerResponse, status: number, message: string): void =>
  sendJson(res, status, { message });

/** Path without query and without trailing slashes (`/v2/apps/` → `/v2/apps`). */
export function pathOf(url: URL): string {
  const p = url.pathname.replace(/\/+$/, '');
  return p === '' ? '/' : p;
}
