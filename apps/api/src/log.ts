/**
 * Structured logs: one JSON object per line on stdout. Callers pass facts, never credentials; values
 * under keys that look like secrets are masked as a last line of defence.
 */
export type LogFields = Record<string, string | number | boolean | null | undefined>;
export type Logger = {
  info: (msg: string, fields?: LogFields) => void;
  warn: (msg: string, fields?: LogFields) => void;
  error: (msg: string, fields?: LogFields) => void;
};

const SECRET_KEY = /secret|token|password|hmac|authorization|cookie/i;

function write(level: string, msg: string, fields: LogFields = {}): void {
  const safe: LogFields = {};
  for (const [k, v] of Object.entries(fields)) safe[k] = SECRET_KEY.test(k) ? '[masked]' : v;
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...safe })}\n`);
}

export function createLogger(enabled = process.env.LOG_LEVEL !== 'silent'): Logger {
  if (!enabled) return { info: () => {}, warn: () => {}, error: () => {} };
  return {
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
  };
}
