import type { Argv } from 'yargs';
// The factory alone: the package's main entry also builds a global instance from process.argv on import.
import yargs from 'yargs/yargs';

/**
 * A yargs parser configured the way every marathon-lb command parses: no process exit, no env or
 * locale, strict flags, numbers left as text (the flag table converts and bounds them), `-h`/`--help`.
 */
export function baseParser(o: { scriptName: string; usage: string; epilog: string; helpText: string }): Argv {
  return yargs([])
    .scriptName(o.scriptName)
    .usage(o.usage)
    .epilog(o.epilog)
    .exitProcess(false)
    .env(false)
    .detectLocale(false)
    .version(false)
    .strict()
    .wrap(100)
    .parserConfiguration({ 'parse-numbers': false, 'parse-positional-numbers': false })
    .help('help')
    .alias('help', 'h')
    .describe('help', o.helpText);
}
