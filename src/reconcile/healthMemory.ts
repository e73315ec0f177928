/**
 * marathon-lb's health-check LRU cache: the last verdict seen for a task, used when Marathon omits
 * `healthCheckResults` from a later snapshot. Bounded by --lru-cache-capacity.
 */
export class HealthMemory {
  private readonly verdicts = new Map<string, boolean>();

  constructor(private readonly capacity: number) {}

  get view(): ReadonlyMap<string, boolean> {
    return this.verdicts;
  }

  remember(observed: ReadonlyMap<string, boolean>): void {
    for (const [task, alive] of observed) {
      this.verdicts.delete(task); // re-insert: Map order is the recency order
      this.verdicts.set(task, alive);
    }
    for (const task of this.verdicts.keys()) {
      if (this.verdicts.size <= this.capacity) break;
      this.verdicts.delete(task);
    }
  }
}
