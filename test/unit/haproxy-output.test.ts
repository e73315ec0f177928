import { HaproxyOutputLog } from '../../src/haproxy/haproxyOutput';

/** The level each line is logged at. */
function levels(lines: readonly string[]): string[] {
  const seen: string[] = [];
  const at = (level: string) => (): void => void seen.push(level);
  const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const log = new HaproxyOutputLog(logger, () => 0);
  for (const line of lines) log.line(line);
  return seen;
}

describe("HAProxy's output in the controller's log", () => {
  // Printed by HAProxy 2.6.12 for `add server`, `enable server`, `set server … state drain|maint` and
  // `del server` on its stats socket: the runtime API's own echo, two lines a server at a scale.
  test('the echo of the runtime commands the controller sends is at debug', () => {
    expect(
      levels([
        "[NOTICE]   (24173) : CLI : 'server b/t1' : New server registered.",
        '[WARNING]  (24173) : Server b/t1 is UP/READY (leaving forced maintenance).',
        '[WARNING]  (24173) : CLI : Server b/t1 enters drain state. 1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.',
        '[WARNING]  (24173) : Server b/t1 is going DOWN for maintenance. 1 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
        '[NOTICE]   (24173) : CLI : Server deleted.',
      ]),
    ).toEqual(['debug', 'debug', 'debug', 'debug', 'debug']);
  });

  test("a health check's verdict stays a warning, and an alert an error", () => {
    expect(
      levels([
        '[WARNING]  (24173) : Server b/s0 is DOWN, reason: Layer4 connection problem, info: "Connection refused", check duration: 0ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
        '[ALERT]    (24170) : Current worker (24173) exited with code 143 (Terminated)',
      ]),
    ).toEqual(['warn', 'error']);
  });

  // An audit: a --haproxy-bin that printed 3 000 random bytes made 310 lines of up to 4 KB at every retry.
  test('past 200 lines in 10 s the rest of a burst is counted, said once, then in a line when the next window opens', () => {
    const logged: [string, string][] = [];
    const at =
      (level: string) =>
      (msg: string): void =>
        void logged.push([level, msg]);
    const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
    let t = 0;
    const log = new HaproxyOutputLog(logger, () => t);
    for (let i = 0; i < 1000; i++) log.line(`garbage ${i} ${'x'.repeat(i === 0 ? 5000 : 10)}`);
    expect(logged.filter(([level]) => level === 'info')).toHaveLength(200);
    expect(logged[0]![1]).toMatch(/^haproxy: garbage 0 x+… \(5010 characters\)$/);
    expect(logged[0]![1].length).toBeLessThan(2100);
    expect(logged.filter(([level]) => level === 'warn').map(([, m]) => m)).toEqual([
      'haproxy: more than 200 lines of output in 10 s: the rest of this burst is counted, not logged',
    ]);
    t = 10_000;
    log.line('[ALERT] the next one');
    expect(logged.slice(-2)).toEqual([
      ['warn', 'haproxy: 800 more line(s) of its output were not logged (the last burst)'],
      ['error', 'haproxy: [ALERT] the next one'],
    ]);
  });
});
