import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/log';
import { pythonLogLine } from '../../src/pythonLogFormat';
import { tempDir } from '../support/render';
import { waitFor } from '../support/wait';

const capture = () => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
};

describe('logging', () => {
  test("marathon-lb's --log-format placeholders keep working", () => {
    expect(
      pythonLogLine('%(asctime)-15s %(name)s: %(message)s', {
        asctime: '2026-01-01',
        name: 'marathon_lb',
        message: 'hi',
      }),
    ).toBe('2026-01-01      marathon_lb: hi');
    const out = capture();
    createLogger({ level: 'INFO', format: '%(levelname)s %(name)s: %(message)s', stream: out.stream }).info(
      'reloading HAProxy',
    );
    expect(out.text()).toBe('INFO marathon_lb: reloading HAProxy\n');
  });

  test("Python logging's printf fields print what Python printed (found by a flags audit: they came out literally)", () => {
    // Expected texts from Python 3: fmt % {...} with the same values.
    const record = {
      process: 4242,
      msecs: 895.37,
      levelno: 20,
      created: 1764986996.895,
      lineno: 0,
      name: 'marathon_lb',
    };
    expect(pythonLogLine('[%(process)d] %(msecs)03d %(levelno)s %(created)f %% %(lineno)d', record)).toBe(
      '[4242] 895 20 1764986996.895000 % 0',
    );
    expect(pythonLogLine('%(process)8d|%(process)-8d|%(process)08d|%(name).6s|%(process)x', record)).toBe(
      '    4242|4242    |00004242|marath|1092',
    );
    expect(pythonLogLine('%(unknown)s|%(msecs).1f', record)).toBe('|895.4');
    // As Python prints them: a length modifier ignored, repr() and ascii() of text.
    expect(pythonLogLine('%(process)ld|%(name)r|%(name)a', { ...record, name: 'mlb é' })).toBe(
      "4242|'mlb é'|'mlb \\xe9'",
    );
    const out = capture();
    createLogger({
      level: 'INFO',
      format: '[%(process)d] %(levelno)s %(levelname)s %(message)s',
      stream: out.stream,
    }).info('x');
    expect(out.text()).toBe(`[${process.pid}] 20 INFO x\n`);
  });

  test('a record is one line: what a message quotes from outside cannot start a line or send escapes', () => {
    const out = capture();
    const logger = createLogger({ level: 'INFO', format: '%(levelname)s %(name)s: %(message)s', stream: out.stream });
    logger.info('received event of type x\nINFO marathon_lb: forged\u001b[31m\u2028end\ttab');
    expect(out.text()).toBe(
      'INFO marathon_lb: received event of type x\\nINFO marathon_lb: forged\\u001b[31m\\u2028end\ttab\n',
    );
  });

  test('--log-format json gives one JSON object per line; --log-level filters', () => {
    const out = capture();
    const log = createLogger({ level: 'WARNING', format: 'json', stream: out.stream });
    log.info('hidden');
    log.warn('left out app /x', { app: '/x' });
    const lines = out
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', message: 'left out app /x', app: '/x' });
    expect(typeof lines[0]!['timestamp']).toBe('string');
  });

  test('--log-format json writes a lone surrogate of a message or field as U+FFFD, not an escape strict readers refuse', () => {
    const out = capture();
    const log = createLogger({ level: 'INFO', format: 'json', stream: out.stream });
    log.warn('left out app /id x\ud800y', { app: '/id x\udc00', text: 'a \\ud800 b' });
    const line = out.text().trim();
    expect(line).not.toMatch(/(?<!\\)(?:\\\\)*\\ud[89a-f]/i);
    expect(JSON.parse(line)).toMatchObject({
      message: 'left out app /id x\ufffdy',
      app: '/id x\ufffd',
      text: 'a \\ud800 b',
    });
  });

  test('--syslog-socket: lines reach a real Unix datagram socket with their priority and tag', async () => {
    const dir = tempDir('mlb-syslog-');
    const socket = path.join(dir, 'log.sock');
    const received = path.join(dir, 'received');
    // A tiny syslog daemon: Node has no Unix datagram sockets, Python does.
    const daemon = spawn(
      'python3',
      [
        '-c',
        [
          'import socket,sys',
          `s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(${JSON.stringify(socket)})`,
          `f=open(${JSON.stringify(received)},"ab",buffering=0)`,
          'print("ready", flush=True)',
          'while True: f.write(s.recv(65536)+b"\\n")',
        ].join('\n'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise((r) => daemon.stdout!.once('data', r));
      const log = createLogger({
        level: 'DEBUG',
        format: '%(name)s: %(message)s',
        stream: new PassThrough(),
        syslogSocket: socket,
      });
      log.error('HAProxy reload failed');
      log.info('HAProxy reloaded and healthy');
      // Found by an audit: logger(1) cut a long line and read "<128>" at the cut as a new record's priority.
      for (const pad of [973, 8100, 20000])
        log.warn(`left out app /${'A'.repeat(pad)}<128>FORGED: root login accepted label id: too long`);
      log.info('last line'); // logger sends in order: a forged record would come before this one
      await waitFor(
        'the last line at the syslog socket',
        () => fs.existsSync(received) && fs.readFileSync(received, 'utf8').includes('marathon_lb: last line'),
        5000,
      );
      const lines = fs.readFileSync(received, 'utf8').split('\n').filter(Boolean);
      expect(lines[0]).toMatch(/^<131>.*marathon_lb.*marathon_lb: HAProxy reload failed$/); // local0.err
      expect(lines[1]).toMatch(/^<134>.*marathon_lb: HAProxy reloaded and healthy$/); // local0.info
      // local0.warning, one record each, then the last line: no record of FORGED's own.
      expect(lines.map((l) => l.slice(0, 5))).toEqual(['<131>', '<134>', '<132>', '<132>', '<132>', '<134>']);
      expect(lines[4]).toMatch(/…\(cut\)$/);
    } finally {
      daemon.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a syslog socket that does not exist is reported once, and logging goes on', () => {
    const out = capture();
    const log = createLogger({
      level: 'INFO',
      format: '%(message)s',
      stream: out.stream,
      syslogSocket: '/nonexistent/dev/log',
    });
    log.info('still here');
    expect(out.text()).toBe(
      '--syslog-socket /nonexistent/dev/log is not a socket here: logging to stderr only (use /dev/null to silence this)\nstill here\n',
    );
  });
});
