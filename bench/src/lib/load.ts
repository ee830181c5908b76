/**
 * Load: autocannon against the webhook route with a unique X-Shopify-Webhook-Id per request (the body
 * and so its HMAC stay the same), recording each id's status so that every 200 can be checked for
 * its row afterwards.
 */
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';

export type LoadResult = {
  result: AutocannonResult;
  /** webhook id → status of its response */
  statuses: Map<string, number>;
  sent: number;
  /** requests/s of completed requests, from the start to the last response */
  throughput: number;
  /** performance.now() of the last response (autocannon calls back up to a second later) */
  endedAt: number;
  p50: number;
  p99: number;
};

export async function webhookLoad(options: {
  url: string;
  body: Buffer;
  headers: Record<string, string>;
  idPrefix: string;
  amount: number;
  connections: number;
  /** fixed rate (req/s) across all connections; omitted = as fast as the server answers */
  rate?: number;
  /** bound on the run, seconds */
  maxSeconds: number;
}): Promise<LoadResult> {
  const statuses = new Map<string, number>();
  let sent = 0;
  let lastResponseAt = 0;
  const request: AutocannonRequest = {
    method: 'POST',
    path: '/webhooks/shopify',
    body: options.body,
    setupRequest: (req, context) => {
      sent += 1;
      const id = `${options.idPrefix}-${sent}`;
      context.id = id;
      return { ...req, headers: { ...options.headers, 'x-shopify-webhook-id': id } };
    },
    onResponse: (status, _body, context) => {
      lastResponseAt = performance.now();
      if (typeof context.id === 'string') statuses.set(context.id, status);
    },
  };
  const started = performance.now();
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        amount: options.amount,
        timeout: 10,
        ...(options.rate ? { overallRate: options.rate } : {}),
        requests: [request],
      },
      (error, res) => (error ? reject(error) : resolve(res)),
    );
    setTimeout(() => instance.stop(), options.maxSeconds * 1000).unref();
  });
  // Wall time of the run up to its last response: autocannon's own duration is too coarse for short
  // runs, and it calls back on its next 1-second tick after the last response (a 15 s run measured
  // to its callback reads up to ~7% slow).
  const endedAt = lastResponseAt || performance.now();
  const seconds = (endedAt - started) / 1000;
  const done = result['2xx'] + result.non2xx;
  return {
    result,
    statuses,
    sent,
    throughput: done / Math.max(0.001, seconds),
    endedAt,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}
