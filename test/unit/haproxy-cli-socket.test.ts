import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { CliSocket, MasterSocket, splitAnswers } from '../../src/haproxy/masterSocket';

/** A unix socket that answers each command with `answer`, written in the given byte pieces, then closes. */
async function answering(pieces: readonly Buffer[]): Promise<{ path: string; commands: string[]; close(): void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-socket-'));
  const socketPath = path.join(dir, 'cli.sock');
  const commands: string[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    let got = '';
    c.on('data', (d) => (got += d.toString()));
    c.on('end', () => {
      commands.push(got);
      const write = (i: number): void => {
        if (i === pieces.length) return void c.end();
        c.write(pieces[i]!, () => setTimeout(() => write(i + 1), 20)); // apart, so they arrive apart
      };
      write(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { path: socketPath, commands, close: () => server.close() };
}

describe('CliSocket timeout', () => {
  test('an answer that came while this process was busy is read, not taken for silence (its timer ran late, in the same turn)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-socket-'));
    const socketPath = path.join(dir, 'cli.sock');
    // HAProxy in a process of its own: it answers 150 ms after the command, while this one is busy.
    const server = `require('net').createServer({ allowHalfOpen: true }, (c) => {
      c.resume();
      c.on('end', () => setTimeout(() => c.end('answer\\n'), 150));
    }).listen(${JSON.stringify(socketPath)}, () => console.log('ready'));`;
    const child = spawn(process.execPath, ['-e', server], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      const socket = new CliSocket({ path: socketPath, timeoutMs: 200 });
      const pieces: string[] = [];
      const done = socket.stream('show stat', (t) => pieces.push(t));
      await new Promise((r) => setTimeout(r, 50)); // connected, the command sent
      // Busy as when taking in a flood of events: in a turn's I/O callbacks, so that the next turn runs
      // its timers (the expired timeout) before it reads sockets.
      await new Promise((r) => setImmediate(r));
      const until = Date.now() + 600;
      while (Date.now() < until); // busy past the answer and past the timeout
      expect(await done).toEqual({ ok: true, value: undefined });
      expect(pieces.join('')).toBe('answer\n');
    } finally {
      child.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('silence is still a timeout', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-socket-'));
    const socketPath = path.join(dir, 'cli.sock');
    const server = net.createServer({ allowHalfOpen: true }, (c) => c.resume());
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const socket = new CliSocket({ path: socketPath, timeoutMs: 100 });
      expect(await socket.stream('show stat', () => undefined)).toEqual({
        ok: false,
        error: `HAProxy socket ${socketPath} gave no complete answer to "show stat": nothing came for 100 ms`,
      });
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CliSocket.stream', () => {
  test('hands over the answer piece by piece as it arrives, a character split between pieces whole', async () => {
    const bytes = Buffer.from('# pxname,svname\nbe,é→ü\n', 'utf8');
    const cut = bytes.indexOf(Buffer.from('→')) + 1; // inside the 3-byte character
    const server = await answering([bytes.subarray(0, cut), bytes.subarray(cut)]);
    try {
      const socket = new CliSocket({ path: server.path, timeoutMs: 5000 });
      const pieces: string[] = [];
      expect(await socket.stream('show stat', (t) => pieces.push(t))).toEqual({ ok: true, value: undefined });
      expect(pieces.join('')).toBe(bytes.toString('utf8'));
      expect(pieces.length).toBeGreaterThan(1);
      expect(pieces.every((p) => !p.includes('\ufffd'))).toBe(true);
      // Through the master socket's worker channel: the command goes to the current worker (`@1`).
      const worker = new MasterSocket(socket).worker();
      const again: string[] = [];
      expect(await worker.stream?.('show stat', (t) => again.push(t))).toEqual({ ok: true, value: undefined });
      expect(again.join('')).toBe(bytes.toString('utf8'));
      expect(server.commands).toEqual(['show stat\n', '@1 show stat\n']);
    } finally {
      server.close();
    }
  });

  test('paced: reading stops after each piece until the pace resumes it, and the answer is whole', async () => {
    const bytes = Buffer.from('# pxname,svname\nbe,s1\nbe,s2\n');
    const server = await answering([bytes.subarray(0, 10), bytes.subarray(10, 20), bytes.subarray(20)]);
    try {
      const resumes: (() => void)[] = [];
      const socket = new CliSocket({ path: server.path, timeoutMs: 5000, pace: (resume) => resumes.push(resume) });
      const pieces: string[] = [];
      const done = socket.stream('show stat', (t) => {
        pieces.push(t);
        // Each piece comes only after the one before was paced and resumed.
        expect(resumes).toHaveLength(pieces.length - 1);
        setImmediate(() => resumes[pieces.length - 1]!());
      });
      expect(await done).toEqual({ ok: true, value: undefined });
      expect(pieces.join('')).toBe(bytes.toString());
      expect(resumes).toHaveLength(pieces.length);
      // send (a whole answer) is not paced.
      expect(await socket.send('show stat')).toEqual({ ok: true, value: bytes.toString() });
      expect(resumes).toHaveLength(pieces.length);
    } finally {
      server.close();
    }
  });

  test('an answer larger than the bound fails naming the command; nothing listening is an error too', async () => {
    const server = await answering([Buffer.alloc(3000, 'x'), Buffer.alloc(3000, 'y')]);
    try {
      const socket = new CliSocket({ path: server.path, timeoutMs: 5000, maxAnswerBytes: 4000 });
      expect(await socket.stream('show stat', () => undefined)).toEqual({
        ok: false,
        error: `HAProxy's answer to "show stat" is larger than 4000 bytes`,
      });
    } finally {
      server.close();
    }
    const none = new CliSocket({ path: path.join(os.tmpdir(), 'no-such-cli.sock'), timeoutMs: 5000 });
    expect(await none.stream('show stat', () => undefined)).toMatchObject({ ok: false });
  });
});

describe('a socket that answers slowly', () => {
  test('an answer that keeps coming is read to its end, however long the whole takes', async () => {
    // HAProxy answers a batch command by command: 256 `add server`s into a backend of 40 000 servers
    // took it more than 5 s, each answer coming ~20 ms after the one before.
    const answers = Array.from({ length: 12 }, () => Buffer.from('New server registered.\n\n'));
    const server = await answering(answers); // 20 ms apart: 240 ms in all, more than the bound of 150
    try {
      const socket = new CliSocket({ path: server.path, timeoutMs: 150 });
      const adds = Array.from({ length: 12 }, (_, i) => `add server be/s${i} 10.0.0.${i}:80`);
      expect(await socket.sendAll(adds)).toEqual({ ok: true, value: adds.map(() => 'New server registered.\n') });
    } finally {
      server.close();
    }
  });
});

describe('a socket that never answers', () => {
  test('a batch times out with one short message: its first command and how many there were', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-socket-'));
    const socketPath = path.join(dir, 'cli.sock');
    const server = net.createServer({ allowHalfOpen: true }, () => undefined); // reads, never answers
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const worker = new MasterSocket(new CliSocket({ path: socketPath, timeoutMs: 200 })).worker();
      const adds = Array.from(
        { length: 256 },
        (_, i) => `add server app_10000/10_0_${i >> 8}_${i & 255}_31000 10.0.${i >> 8}.${i & 255}:31000 check`,
      );
      const r = await worker.sendAll!(adds);
      expect(r).toEqual({
        ok: false,
        error: `HAProxy socket ${socketPath} gave no complete answer to "@1 ${adds[0]};…" (256 commands): nothing came for 200 ms`,
      });
      // One command is quoted whole.
      expect(await worker.send('show stat')).toEqual({
        ok: false,
        error: `HAProxy socket ${socketPath} gave no complete answer to "@1 show stat": nothing came for 200 ms`,
      });
    } finally {
      server.close();
    }
  });
});

describe("splitAnswers: HAProxy's answer to `a;b;c`, one per command", () => {
  const cmds = (n: number): string[] => Array.from({ length: n }, (_, i) => `c${i}`);

  test('empty answers, one-line and many-line answers, each ended by an empty line', () => {
    expect(splitAnswers('\n\n', cmds(2))).toEqual({ ok: true, value: ['', ''] });
    expect(splitAnswers('New server registered.\n\n\nNo such server.\n\n', cmds(3))).toEqual({
      ok: true,
      value: ['New server registered.\n', '', 'No such server.\n'],
    });
    expect(splitAnswers('1\n# be_id be_name\n2 app\n\n\n', cmds(2))).toEqual({
      ok: true,
      value: ['1\n# be_id be_name\n2 app\n', ''],
    });
    expect(splitAnswers('', [])).toEqual({ ok: true, value: [] });
  });

  test('del server answers one line with no empty line after it (HAProxy 2.6): a batch of them is read by lines', () => {
    const dels = ['@1 del server be/a', '@1 del server be/b', '@1 del server be/c'];
    const value = ['Server deleted.\n', 'No such server.\n', 'Server deleted.\n'];
    expect(splitAnswers('Server deleted.\nNo such server.\nServer deleted.\n', dels)).toEqual({ ok: true, value });
    // Should a release end them with an empty line like the others, they read the same.
    expect(splitAnswers('Server deleted.\n\nNo such server.\n\nServer deleted.\n\n', dels)).toEqual({
      ok: true,
      value,
    });
    expect(splitAnswers('Server deleted.\n', dels).ok).toBe(false);
    // Beside other commands, the answers cannot be told apart.
    expect(splitAnswers('Server deleted.\n\n', ['del server be/a', 'enable server be/b']).ok).toBe(false);
  });

  test('any answers of lines, each ended by an empty line, split back into those answers', () => {
    const line = fc.string({ minLength: 1, maxLength: 20 }).filter((l) => !l.includes('\n'));
    const answer = fc.array(line, { maxLength: 4 }).map((lines) => lines.map((l) => `${l}\n`).join(''));
    fc.assert(
      fc.property(fc.array(answer, { minLength: 1, maxLength: 30 }), (answers) => {
        const text = answers.map((a) => `${a}\n`).join('');
        expect(splitAnswers(text, cmds(answers.length))).toEqual({ ok: true, value: answers });
        expect(splitAnswers(text, cmds(answers.length + 1)).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  test('more or fewer answers than commands, or an answer not ended, is an error naming the first command', () => {
    for (const [text, n] of [
      ['\n\n\n', 2], // one answer too many
      ['\n', 2], // one missing
      ['New server registered.\n', 1], // not ended by an empty line
      ['a\n\nb\n\n', 1],
    ] as const) {
      const r = splitAnswers(text, cmds(n));
      expect(r.ok).toBe(false);
      if (!r.ok)
        expect(r.error).toMatch(/^HAProxy's answer to \d+ commands \(c0; …\) does not split into one answer each/);
    }
  });
});

describe('CliSocket refuses what HAProxy would run as another command', () => {
  test('a ; or a line break in a command: nothing is sent, the error says why', async () => {
    const server = await answering([Buffer.from('\n')]);
    try {
      const socket = new CliSocket({ path: server.path, timeoutMs: 5000 });
      for (const bad of ['add server be/x 127.0.0.1:1 agent-send a;reload', 'show proc\nreload', 'show stat\r'])
        expect(await socket.send(bad)).toEqual({
          ok: false,
          error: `refusing a command with a line break or ';' (HAProxy would run what follows as another command): ${JSON.stringify(bad)}`,
        });
      expect((await socket.stream('show stat;reload', () => undefined)).ok).toBe(false);
      expect((await socket.sendAll(['show info', 'set server be/x weight 1;reload'])).ok).toBe(false);
      expect(server.commands).toEqual([]);
      // What it does send: the commands joined by `;`, on one line.
      expect(await socket.sendAll(['set server be/x weight 1'])).toEqual({ ok: true, value: [''] });
      expect(server.commands).toEqual(['set server be/x weight 1\n']);
    } finally {
      server.close();
    }
  });
});
