/**
 * A URL as it may be shown: without the user and password it may hold (http://user:password@host).
 * Everything up to its last `@` goes, so a password that breaks the URL (a raw `/` or `@` in it) does too.
 */
export function withoutCredentials(raw: string): string {
  return raw.replace(/\/\/.*@/s, '//');
}
