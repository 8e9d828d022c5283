// Group commit: callers that write while a statement is already in flight wait for it, then go
// together as one statement. No timer and no added wait when nothing is in flight; under load, one
// round trip and one commit serve many callers. (Hand-written: DataLoader-style libraries batch by
// event-loop tick, which does not gather the writes that arrive while the database is busy.)

export interface GroupCommitOptions {
  /** Statements in flight at once (each a connection of the pool). */
  inFlight?: number;
  /** Most requests in one statement. */
  maxBatch?: number;
}

type Pending<Req, Res> = { req: Req; resolve: (r: Res) => void; reject: (e: unknown) => void };

/**
 * `write(requests)` answers each request, in order. When a batch of several fails, each of its
 * requests is written again on its own (all at once), so one bad request fails alone.
 */
export class GroupCommit<Req, Res> {
  private readonly queue: Pending<Req, Res>[] = [];
  private running = 0;
  private readonly inFlight: number;
  private readonly maxBatch: number;

  constructor(
    private readonly write: (requests: Req[]) => Promise<Res[]>,
    opts: GroupCommitOptions = {},
  ) {
    this.inFlight = Math.max(1, opts.inFlight ?? 1);
    this.maxBatch = Math.max(1, opts.maxBatch ?? 64);
  }

  submit(req: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.inFlight && this.queue.length) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.running++;
      void this.settle(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async settle(batch: Pending<Req, Res>[]): Promise<void> {
    try {
      const results = await this.write(batch.map((p) => p.req));
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      // side by side, so a database that is away fails them all within one timeout, not one after another
      await Promise.all(
        batch.map((p) =>
          this.write([p.req]).then(
            ([r]) => p.resolve(r!),
            (e: unknown) => p.reject(e),
          ),
        ),
      );
    }
  }
}
