import { sseSizeLimit } from '../../src/marathon/sseLimit';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('sseSizeLimit', () => {
  test('lines and events within the limit pass, across chunk boundaries and every line break style', () => {
    const check = sseSizeLimit(16);
    for (const chunk of ['data: 1234', '\n', '\n', 'data: 12', '34\r\n\r\n', 'data: x\rdata: y\r\r', ': keep\n\n'])
      expect(check(b(chunk))).toBeNull();
  });

  test('a line that never ends is caught once it passes the limit, even in one huge chunk', () => {
    const check = sseSizeLimit(1024);
    expect(check(b('data: '))).toBeNull();
    expect(check(Buffer.alloc(1018, 'x'))).toBeNull(); // 1024 bytes so far
    expect(check(b('x'))).toEqual({ what: 'line', limit: 1024 });
    expect(sseSizeLimit(1024)(Buffer.alloc(1 << 20, 'x'))).toEqual({ what: 'line', limit: 1024 });
  });

  test('an event of many short lines is bounded too; a blank line (LF, CRLF or CR) starts a new one', () => {
    const check = sseSizeLimit(20);
    expect(check(b('data: 1234\ndata: 12\n'))).toBeNull(); // 16 bytes in the event
    expect(check(b('\r\ndata: 1234\r\ndata: 12\r\n\r\n'))).toBeNull();
    expect(check(b('data: 1234\rdata: 12\r\r'))).toBeNull();
    expect(check(b('data: 1234\ndata: 12345\n'))).toEqual({ what: 'event', limit: 20 });
  });

  test('CRLF split across chunks is one line break, not a blank line', () => {
    const check = sseSizeLimit(20);
    expect(check(b('data: 1234\r'))).toBeNull();
    expect(check(b('\ndata: 1'))).toBeNull();
    expect(check(b('234'))).toBeNull(); // 20 bytes in one event
    expect(check(b('5'))).toEqual({ what: 'event', limit: 20 });
  });

  // Found by an audit: keep-alive comments with no blank line got the stream dropped as an endless event.
  test('comment lines are no part of an event: keep-alives never add up, but a comment line itself is bounded', () => {
    const check = sseSizeLimit(20);
    for (let i = 0; i < 1000; i++) expect(check(b(':ping-ping-ping\n'))).toBeNull();
    expect(check(b('data: 1234\n'))).toBeNull();
    expect(sseSizeLimit(20)(b(`:${'x'.repeat(20)}`))).toEqual({ what: 'line', limit: 20 });
    expect(check(b('data: 123456789'))).toEqual({ what: 'event', limit: 20 }); // data lines still add up
  });
});
