/**
 * A file operation's error as one line a user can act on: Node's text without its syscall and paths,
 * then the code ("no space left on device (ENOSPC)"). Errors without a code give their message.
 */
export function fileErrorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (!e?.code) return String(e?.message ?? err);
  const text = e.message.replace(/^\w+: /, '').replace(/, \w+( '.*')?( -> '.*')?$/, '');
  return `${text} (${e.code})`;
}
