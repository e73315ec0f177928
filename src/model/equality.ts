import { isDeepStrictEqual } from 'node:util';
import type { Service } from './types';

/** Structural equality of plain readonly data (models are JSON-like: no identity, no classes). */
export const sameData = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b);

/**
 * Everything of a service except its servers: what the runtime API cannot change. Which apps a
 * deployment group merges only names them in problems (a new colour joining is server churn). The backend
 * check port follows the first server, so it is left to the rendered text: it matters only when a
 * template prints it, and then the config outside server lines changes (see plan).
 */
export function serviceShape(s: Service): Omit<Service, 'servers' | 'backendCheckPort' | 'deploymentMembers'> {
  const { servers: _servers, backendCheckPort: _port, deploymentMembers: _members, ...shape } = s;
  return shape;
}

/** An indented `server` line with the line break before it (one native scan, not 200 000 line strings). */
const SERVER_LINE = /\n[^\S\n]+server[^\S\n][^\n]*/g;

/** The config without its `server` lines: what a runtime-API-only change must leave identical. */
export function configOutsideServers(config: string): string {
  return config.replace(SERVER_LINE, '');
}

/** Server lines between two steps of configOutsideServersSteps. */
const LINES_PER_STEP = 4096;

/** configOutsideServers a few thousand server lines at a time (streams/inSlices.ts): ~60 ms for a 10 MB config. */
export function* configOutsideServersSteps(config: string): Generator<void, string, undefined> {
  const line = new RegExp(SERVER_LINE.source, 'g');
  const kept: string[] = [];
  let from = 0;
  let found = 0;
  for (let m = line.exec(config); m !== null; m = line.exec(config)) {
    kept.push(config.slice(from, m.index));
    from = m.index + m[0].length;
    if (++found % LINES_PER_STEP === 0) yield;
  }
  kept.push(config.slice(from));
  return kept.join('');
}
