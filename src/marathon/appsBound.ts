/**
 * The most apps an apps body may list. A 31 MB body of ten million `{}` held a controller for
 * minutes and gigabytes while it was read; the largest Marathon clusters run tens of thousands of
 * apps. A body over it is refused as it is read (a failed read: the last config stays).
 */
export const MAX_APPS = 250_000;

export const TOO_MANY_APPS = `the body lists more than ${MAX_APPS} apps, the bound of an apps body (the largest Marathon clusters run tens of thousands)`;

/** Thrown by the readers of an apps body at its app MAX_APPS + 1. */
export class TooManyAppsError extends Error {
  constructor() {
    super(TOO_MANY_APPS);
  }
}
