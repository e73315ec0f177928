import { NotText, sseLiveness } from '../../src/marathon/sseLiveness';

/** Whether each chunk, fed in order to one stream's checker, shows the stream alive. */
const alive = (...chunks: string[]): boolean[] => {
  const live = sseLiveness();
  return chunks.map((c) => live(Buffer.from(c, 'utf8')));
};

describe('what on an event stream shows Marathon is there', () => {
  test("Jetty's heartbeat (a bare CRLF between events) and comment lines do", () => {
    expect(alive('\r\n', ':ping\n', ': keep-alive\r\n\r\n', '\n')).toEqual([true, true, true, true]);
  });

  // An event's own worth is judged once parsed (events.ts): its closing blank line is no heartbeat.
  test('an event, its blank line included, does not by its bytes alone', () => {
    expect(alive('event: x\r\ndata: {"eventType":"a"}\r\n\r\n')).toEqual([false]);
    expect(alive('data: not json\n\n', 'garbage line\r\n', 'more: of it\r\n\r\n')).toEqual([false, false, false]);
  });

  test('a heartbeat after an event, in the same chunk or split across chunks, does', () => {
    expect(alive('data: {}\r\n\r\n\r\n')).toEqual([true]);
    expect(alive('data: {}\r\n\r', '\n', '\r\n')).toEqual([false, false, true]);
    expect(alive('data: {}\n', '\n', ':', 'x\n')).toEqual([false, false, true, false]);
  });

  test('bytes that are not UTF-8 throw NotText; a character split across chunks does not', () => {
    const live = sseLiveness();
    const euro = Buffer.from('data: "€"\n', 'utf8');
    expect(live(euro.subarray(0, 8))).toBe(false);
    expect(live(euro.subarray(8))).toBe(false);
    expect(() => live(Buffer.from([0x0d, 0x0a, 0xff, 0xfe]))).toThrow(NotText);
  });
});
