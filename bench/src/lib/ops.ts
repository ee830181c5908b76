/**
 * The ingest bench's switch for the server's operational instrumentation. BENCH_INGEST_OPS=on runs
 * the server with JSON logs at info (one line per delivery, read by the bench as stdout) and metrics
 * on (METRICS_ENABLED=true: the route's counters and ack histogram); unset or `off` as before
 * (LOG_LEVEL=silent, metrics off). `npm run bench -- ops` compares both in one run.
 */
export const OPS_ON: Record<string, string> = { LOG_LEVEL: 'info', METRICS_ENABLED: 'true' };
export const OPS_OFF: Record<string, string> = { LOG_LEVEL: 'silent', METRICS_ENABLED: 'false' };

export function ingestOpsEnv(): Record<string, string> {
  const flag = process.env.BENCH_INGEST_OPS ?? 'off';
  if (flag !== 'on' && flag !== 'off') throw new Error(`BENCH_INGEST_OPS must be on or off (got ${flag})`);
  return flag === 'on' ? OPS_ON : OPS_OFF;
}
