/**
 * The most apps an apps body may list. A 31 MB body of ten million `{}` held a controller for
 * minutes and gigabytes while it was read; the largest Marathon clusters run tens of thousands of
 * apps. A body over it is refused as it is read (a failed read: the last config stays).
 */
export const MAX_APPS = 250_000;

export const TOO_MANY_APPS = `the body lists more than ${MAX_APPS} apps, the bound of an apps body (the largest Marathon clusters run tens of thousands)`;

/**
 * The most array items and object fields the reader makes for one apps body. Apps were bounded, their
 * tasks and labels not: a 60 MB body of one app with twenty million `{}` tasks held a controller 25 s
 * (/healthz unanswered) and took it to 2.3 GB (an audit). Counted as the reader makes them (fields
 * routing does not read are skipped, not made): the 5 000-app bench body makes 607 855, so this leaves
 * room for clusters of about 50 000 such apps, and bounds a hostile body near 0.7 GB.
 */
export const MAX_BODY_VALUES = 6_000_000;

const TOO_MANY_VALUES = `the body holds more than ${MAX_BODY_VALUES} array items and object fields, the bound of an apps body (5 000 apps with 3 tasks each make 607 855)`;

/** Thrown by the readers of an apps body at its app MAX_APPS + 1, or past MAX_BODY_VALUES values. */
export class TooManyAppsError extends Error {
  constructor(message = TOO_MANY_APPS) {
    super(message);
  }
}

/** The error for a body past MAX_BODY_VALUES. */
export const tooManyValues = (): TooManyAppsError => new TooManyAppsError(TOO_MANY_VALUES);
