import type { SimApp } from './types';

/**
 * Apps by id, for findApp. A state's list of apps never changes, so a list's index is built once, at
 * its first lookup. The transitions that make a new list from an old one by one app (append, replace,
 * remove) hand the old list's index on, changed for that app, so creating 20 000 apps one by one is
 * linear: scanning the list made it quadratic (109 s for 20 000 apps). An older list looked up again
 * gets a new index.
 *
 * A memo keyed by lists that never change: it holds no list alive and changes no result.
 */
const indexes = new WeakMap<readonly SimApp[], Map<string, SimApp>>();

/** The app with this (normalized) id; the first one if a list holds it twice. */
export function appById(apps: readonly SimApp[], id: string): SimApp | undefined {
  let index = indexes.get(apps);
  if (index === undefined) {
    index = new Map();
    for (const a of apps) if (!index.has(a.def.id)) index.set(a.def.id, a);
    indexes.set(apps, index);
  }
  return index.get(id);
}

/** The old list's index, if it has one, moved to the new list and changed by `change`. */
function handOn(from: readonly SimApp[], to: readonly SimApp[], change: (index: Map<string, SimApp>) => void): void {
  const index = indexes.get(from);
  if (index === undefined) return;
  indexes.delete(from);
  change(index);
  indexes.set(to, index);
}

/** `apps` and a new app whose id none of them has. */
export function appended(apps: readonly SimApp[], app: SimApp): readonly SimApp[] {
  const next = [...apps, app];
  handOn(apps, next, (index) => index.set(app.def.id, app));
  return next;
}

/** `apps` with the app of `app`'s id replaced by it. */
export function replaced(apps: readonly SimApp[], app: SimApp): readonly SimApp[] {
  const next = apps.map((a) => (a.def.id === app.def.id ? app : a));
  handOn(apps, next, (index) => index.set(app.def.id, app));
  return next;
}

/** `apps` without `app`. */
export function removed(apps: readonly SimApp[], app: SimApp): readonly SimApp[] {
  const next = apps.filter((a) => a !== app);
  handOn(apps, next, (index) => index.delete(app.def.id));
  return next;
}
