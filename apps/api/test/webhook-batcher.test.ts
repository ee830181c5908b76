/**
 * Group commit (src/webhooks/batcher.ts): what the webhook route relies on to share one transaction
 * between concurrent deliveries without changing any delivery's answer.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher, type ItemResult } from '../src/webhooks/batcher.ts';

type Gate = { promise: Promise<void>; open: () => void };
function gate(): Gate {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

/** A batcher whose batches wait for a gate each, recording what every batch held. */
function recording(options: { maxBatch?: number; maxInFlight?: number; stallMs?: number } = {}) {
  const batches: number[][] = [];
  const gates: Gate[] = [];
  const batcher = createBatcher<number, number>({
    maxBatch: options.maxBatch ?? 100,
    maxInFlight: options.maxInFlight ?? 1,
    stallMs: options.stallMs,
    run: async (items) => {
      batches.push(items);
      const g = gate();
      gates.push(g);
      await g.promise;
      return items.map((i): ItemResult<number> => ({ ok: true, value: i * 10 }));
    },
  });
  return { batcher, batches, gates };
}

describe('createBatcher', () => {
  it('sends an item at once when nothing is in flight, and groups those that arrive meanwhile', async () => {
    const { batcher, batches, gates } = recording();
    const first = batcher.submit(1);
    expect(batches).toEqual([[1]]);
    const rest = [2, 3, 4].map((i) => batcher.submit(i));
    await tick();
    expect(batches).toEqual([[1]]);
    gates[0]?.open();
    expect(await first).toBe(10);
    await tick();
    expect(batches).toEqual([[1], [2, 3, 4]]);
    gates[1]?.open();
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
  });

  it('runs up to maxInFlight batches at once and never more than maxBatch items in one', async () => {
    const { batcher, batches, gates } = recording({ maxBatch: 2, maxInFlight: 2 });
    const all = [1, 2, 3, 4, 5, 6, 7].map((i) => batcher.submit(i));
    expect(batches).toEqual([[1], [2]]);
    gates[0]?.open();
    gates[1]?.open();
    await tick();
    await tick();
    expect(batches).toEqual([[1], [2], [3, 4], [5, 6]]);
    gates[2]?.open();
    gates[3]?.open();
    await tick();
    await tick();
    gates[4]?.open();
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(batches.at(-1)).toEqual([7]);
  });

  it('stops a batch growing before its items weigh more than maxWeight, but always takes one', async () => {
    const batches: string[][] = [];
    const hold = gate();
    const batcher = createBatcher<string, number>({
      maxBatch: 100,
      maxInFlight: 1,
      weigh: (s) => s.length,
      maxWeight: 5,
      run: async (items) => {
        batches.push(items);
        await hold.promise;
        return items.map((s) => ({ ok: true, value: s.length }));
      },
    });
    const all = ['a', 'bb', 'ccc', 'dddddddd', 'e'].map((s) => batcher.submit(s));
    hold.open();
    expect(await Promise.all(all)).toEqual([1, 2, 3, 8, 1]);
    expect(batches).toEqual([['a'], ['bb', 'ccc'], ['dddddddd'], ['e']]);
  });

  it('fails only the items a batch reports failed; a throw fails its whole batch; the next batch still runs', async () => {
    let call = 0;
    const batcher = createBatcher<number, number>({
      maxBatch: 10,
      maxInFlight: 1,
      run: async (items) => {
        call += 1;
        await tick();
        if (call === 2) throw new Error('database gone');
        return items.map((i) =>
          i < 0 ? { ok: false, error: new Error(`bad ${i}`) } : { ok: true, value: i },
        );
      },
    });
    const settled = Promise.allSettled([1, 2, 3, 4, -5].map((i) => batcher.submit(i)));
    const results = await settled;
    expect(results[0]).toEqual({ status: 'fulfilled', value: 1 });
    expect(results.slice(1)).toEqual([
      { status: 'rejected', reason: new Error('database gone') },
      { status: 'rejected', reason: new Error('database gone') },
      { status: 'rejected', reason: new Error('database gone') },
      { status: 'rejected', reason: new Error('database gone') },
    ]);
    const after = await Promise.allSettled([batcher.submit(4), batcher.submit(-5)]);
    expect(after[0]).toEqual({ status: 'fulfilled', value: 4 });
    expect(after[1]).toMatchObject({ status: 'rejected', reason: new Error('bad -5') });
  });

  it('rejects every item of a batch that returns the wrong number of results', async () => {
    const batcher = createBatcher<number, number>({
      maxBatch: 10,
      maxInFlight: 1,
      run: async () => [{ ok: true, value: 1 }],
    });
    const results = await Promise.allSettled([1, 2, 3].map((i) => batcher.submit(i)));
    expect(results[0]).toEqual({ status: 'fulfilled', value: 1 });
    expect(results.slice(1).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toContain('1 results for 2 items');
  });

  it('lets the next batch go when one has been stuck for stallMs, and still answers the stuck one', async () => {
    const { batcher, batches, gates } = recording({ maxInFlight: 1, stallMs: 20 });
    const stuck = batcher.submit(1);
    const next = batcher.submit(2);
    await tick();
    expect(batches).toEqual([[1]]);
    await new Promise((r) => setTimeout(r, 40));
    expect(batches).toEqual([[1], [2]]);
    gates[1]?.open();
    expect(await next).toBe(20);
    gates[0]?.open();
    expect(await stuck).toBe(10);
  });

  it('refuses limits below one', () => {
    expect(() => createBatcher({ maxBatch: 0, maxInFlight: 1, run: async () => [] })).toThrow(RangeError);
    expect(() => createBatcher({ maxBatch: 1, maxInFlight: 0, run: async () => [] })).toThrow(RangeError);
  });
});
