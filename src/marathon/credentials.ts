/** A URL as it may be shown: without the user and password it may hold (http://user:password@host). */
export function withoutCredentials(raw: string): string {
  return raw.replace(/\/\/[^@/]*@/, '//');
}
