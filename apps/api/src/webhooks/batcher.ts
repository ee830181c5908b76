/**
 * Group commit for concurrent requests: items submitted while earlier batches are in flight wait and
 * go together in the next batch. With nothing in flight an item goes at once, so an idle server adds
 * no delay; under load one database round trip (or commit) serves many requests.
 */

/** What a batch gives back for one item: its value, or the error that item alone failed with. */
export type ItemResult<O> = { ok: true; value: O } | { ok: false; error: unknown };

export type BatcherOptions<I, O> = {
  /**
   * Runs one batch; returns one result per item, in order. A throw fails every item of the batch
   * with that error.
   */
  run: (items: I[]) => Promise<ItemResult<O>[]>;
  /** At most this many items per batch. */
  maxBatch: number;
  /** At most this many batches running at once. */
  maxInFlight: number;
  /**
   * A batch still running after this long stops holding its slot, so one stuck batch (a connection
   * that hangs while the database goes away, say) cannot hold up those behind it; its items still
   * get its result. Default: never.
   */
  stallMs?: number;
  /** With `maxWeight`: a batch stops growing before its items weigh more (a batch takes one item at least). */
  weigh?: (item: I) => number;
  maxWeight?: number;
};

export type Batcher<I, O> = {
  submit: (item: I) => Promise<O>;
};

type Waiting<I, O> = { item: I; resolve: (value: O) => void; reject: (error: unknown) => void };

export function createBatcher<I, O>(options: BatcherOptions<I, O>): Batcher<I, O> {
  if (options.maxBatch < 1 || options.maxInFlight < 1) {
    throw new RangeError('maxBatch and maxInFlight must be at least 1');
  }
  const queue: Waiting<I, O>[] = [];
  let inFlight = 0;

  const settle = (batch: Waiting<I, O>[], results: ItemResult<O>[]): void => {
    if (results.length !== batch.length) {
      const error = new Error(`batch returned ${results.length} results for ${batch.length} items`);
      for (const w of batch) w.reject(error);
      return;
    }
    batch.forEach((w, i) => {
      const result = results[i] as ItemResult<O>;
      if (result.ok) w.resolve(result.value);
      else w.reject(result.error);
    });
  };

  /** How many of the waiting items the next batch takes. */
  const batchLength = (): number => {
    const { weigh, maxWeight } = options;
    const limit = Math.min(options.maxBatch, queue.length);
    if (!weigh || maxWeight === undefined) return limit;
    let weight = 0;
    for (let n = 0; n < limit; n += 1) {
      weight += weigh((queue[n] as Waiting<I, O>).item);
      if (weight > maxWeight) return Math.max(1, n);
    }
    return limit;
  };

  const pump = (): void => {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, batchLength());
      inFlight += 1;
      let slotHeld = true;
      const freeSlot = (): void => {
        if (!slotHeld) return;
        slotHeld = false;
        inFlight -= 1;
        pump();
      };
      const stall = options.stallMs === undefined ? undefined : setTimeout(freeSlot, options.stallMs);
      let running: Promise<ItemResult<O>[]>;
      try {
        running = options.run(batch.map((w) => w.item));
      } catch (error) {
        running = Promise.reject(error);
      }
      running
        .then(
          (results) => settle(batch, results),
          (error: unknown) => {
            for (const w of batch) w.reject(error);
          },
        )
        .finally(() => {
          clearTimeout(stall);
          freeSlot();
        });
    }
  };

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        pump();
      });
    },
  };
}
