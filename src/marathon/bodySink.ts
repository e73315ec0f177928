/**
 * A bound on a whole apps body, compressed or unpacked (a Marathon answer, an apps file): a whole
 * `/v2/apps` of a 5 000-app cluster is 15 MB (about 1 KB a task), so 256 MiB fits some 250 000
 * tasks, more than any Marathon runs, while a body that never ends (or a decompression bomb) cannot
 * take all the memory first. At 1 GiB, one gzip bomb took the controller to 1.2 GB of RSS, kept
 * after the read failed (the allocator keeps what it gave), past the DC/OS package's 1 GB.
 */
export const MAX_BODY_BYTES = 256 * 1024 * 1024;

/** Where the bytes of a buffered response's body gather as they arrive (requestHttp). */
export interface BodySink {
  push(chunk: Buffer): void;
  /** The whole body once it ended. */
  bytes(): Buffer;
}

/** The chunks, joined once at the end: for small answers. */
export function joinedChunks(): BodySink {
  const chunks: Buffer[] = [];
  return {
    push: (chunk) => void chunks.push(chunk),
    bytes: () => Buffer.concat(chunks),
  };
}

/**
 * Copies each chunk into `into` as it comes, growing it by half when full. At 10 000 apps a body is
 * 20 MB: joined at the end, its copy into fresh memory (every page faulted in then) held the event
 * loop for 26–67 ms at once; here that is spread over the chunks.
 */
export class GrowingSink implements BodySink {
  private size = 0;

  constructor(private into: Buffer) {}

  push(chunk: Buffer): void {
    const need = this.size + chunk.length;
    if (need > this.into.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(need, Math.ceil(this.into.length * 1.5)));
      this.into.copy(bigger, 0, 0, this.size);
      this.into = bigger;
    }
    chunk.copy(this.into, this.size);
    this.size = need;
  }

  bytes(): Buffer {
    return this.into.subarray(0, this.size);
  }
}
