/**
 * Sends prepared deliveries with bounded concurrency (and optionally a fixed rate), recording each
 * one's status and the time its answer came back. Retries like Shopify when asked (503 or no answer),
 * bounded in count.
 */
import { post } from './webhooks.ts';

export type Prepared = { id: string; body: Buffer; headers: Record<string, string> };
export type Sent = { id: string; status: number; ackAt: number; ms: number; tries: number };

export async function sendAll(
  url: string,
  deliveries: readonly Prepared[],
  options: {
    concurrency: number;
    /** deliveries per second; omitted = as fast as answered */
    rate?: number;
    /** retry 503 and connection errors this many times (0 = never), with `retryDelayMs` between */
    retries?: number;
    retryDelayMs?: number;
    /** stop starting new deliveries after this long */
    maxMs: number;
    onSent?: (sent: Sent) => void;
  },
): Promise<Sent[]> {
  const results: Sent[] = [];
  const started = performance.now();
  let next = 0;
  const interval = options.rate ? 1000 / options.rate : 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      const d = deliveries[i];
      if (!d) return;
      if (performance.now() - started > options.maxMs) return;
      if (interval > 0) {
        const due = started + i * interval;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      let tries = 0;
      let r = await post(url, d.body, d.headers);
      tries++;
      while ((r.status === 503 || r.status === 0) && tries <= (options.retries ?? 0)) {
        if (performance.now() - started > options.maxMs * 2) break;
        await new Promise((res) => setTimeout(res, options.retryDelayMs ?? 500));
        r = await post(url, d.body, d.headers);
        tries++;
      }
      const sent = { id: d.id, status: r.status, ackAt: performance.now(), ms: r.ms, tries };
      results.push(sent);
      options.onSent?.(sent);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return results;
}
