import { isDeepStrictEqual } from 'node:util';
import type { Service } from './types';

/** Structural equality of plain readonly data (models are JSON-like: no identity, no classes). */
export const sameData = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b);

/** Everything of a service except its servers: what the runtime API cannot change. */
export function serviceShape(s: Service): Omit<Service, 'servers'> {
  const { servers: _servers, ...shape } = s;
  return shape;
}
