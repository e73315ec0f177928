/** A body as UTF-8 pieces (a big one is never one text nor one Buffer: slicedJson.ts). */
export type Body = readonly Buffer[];

/**
 * A response body made again only when what it shows changed (its version) or `freshMs` passed:
 * requests in between share its bytes.
 *
 * `/status` of a big cluster is megabytes of JSON: made per request, a flood of them (1 000
 * connections pipelining it) took the controller to 3.6 GB and held its event loop for seconds at a
 * time (found by an audit). Shared, they cost one serialization per change or per `freshMs`, and one
 * copy of the bytes however many sockets are still sending it. A reader after a change never gets
 * the body from before it; only the times in it (`generatedAt`, ages) may be up to `freshMs` old.
 */
export class RecentBody {
  private made: { readonly at: number; readonly version: number; readonly body: Promise<Body> } | null = null;

  constructor(
    private readonly make: () => Promise<Body>,
    private readonly freshMs: number,
    private readonly now: () => number,
  ) {}

  /** The body; requests while it is being made share that making. */
  get(version: number): Promise<Body> {
    const at = this.now();
    const made = this.made;
    // A clock that went back (a test's, or a stepped wall clock) makes it anew too.
    if (made !== null && made.version === version && at >= made.at && at - made.at < this.freshMs) return made.body;
    const body = this.make();
    this.made = { at, version, body };
    body.catch(() => {
      if (this.made?.body === body) this.made = null; // the next request tries again
    });
    return body;
  }
}
