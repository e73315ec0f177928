/**
 * JSON.parse's message without the input text it quotes. V8 quotes up to ten characters of it
 * (`Unexpected token 'i', "fileuser:Fi"... is not valid JSON`): the start of a secret when a
 * credentials file is given where JSON is expected (found by an audit). Its other messages give a
 * position and no text; this one keeps its token, which says what was found.
 */
export function jsonErrorMessage(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^(Unexpected token .+?), ".*?"(?:\.\.\.)? is not valid JSON$/s, '$1');
}
