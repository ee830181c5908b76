/**
 * Structured logs on pino: one JSON object per line (`time`, `level` as a word, `msg`, fields), the
 * level set by LOG_LEVEL, human-readable with LOG_PRETTY=true (development only).
 *
 * Call shape: `log.info('what happened', { eventId, workspaceId })` — the message first, facts after —
 * and `log.child({ requestId })` for a logger that adds those facts to every line (request id, webhook
 * id, event id, job id, workspace id: one delivery can be followed from ack to order).
 *
 * Callers pass facts, never credentials. As the wall behind that, pino's `redact` censors every
 * secret-bearing field by path — at the top level and inside the objects that carry them
 * (`headers.authorization`, `request.accessToken`, …) — and a formatter masks any other key that
 * looks like a secret (`...Token`, `...Secret`, `password...`) at the top level and one level down
 * in any object. No wildcard paths (`*.token`): pino's redaction then walks every line, which cost
 * ~140 µs per line (10× the line itself) and most of the ingest loss with logs on (BENCHMARKS.md).
 *
 * Lines are written asynchronously and in batches (sonic-boom: up to 4 KiB buffered, flushed at least
 * every 250 ms, and synchronously on exit), so a busy route pays no write syscall per line.
 */
import { createRequire } from 'node:module';
import pino from 'pino';
import { LOG_LEVELS, type LogLevel } from './config.ts';

export type LogFields = Record<string, unknown>;
type LogMethod = (msg: string, fields?: LogFields) => void;
export type Logger = {
  trace: LogMethod;
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  fatal: LogMethod;
  /** A logger that adds `bindings` to each of its lines. */
  child: (bindings: LogFields) => Logger;
  /** Whether lines of this level are written (skip building costly fields when not). */
  isLevelEnabled: (level: Exclude<LogLevel, 'silent'>) => boolean;
};

/** Field names that carry credentials, wherever they appear (top level or one level down). */
export const SECRET_FIELDS = [
  'password',
  'newPassword',
  'currentPassword',
  'passwordHash',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'sessionToken',
  'secret',
  'clientSecret',
  'client_secret',
  'apiSecret',
  'webhookSecret',
  'previousSecret',
  'signingSecret',
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'x-shopify-hmac-sha256',
  'x-shopify-access-token',
  'X-Shopify-Access-Token',
  'hmac',
  'encryptionKey',
  'APP_ENCRYPTION_KEY',
  'METRICS_TOKEN',
  'DATABASE_URL',
  'databaseUrl',
];

/** Objects that carry credentials one level down (headers, a request's or a config's fields). */
export const SECRET_CARRIERS = [
  'headers',
  'request',
  'req',
  'res',
  'body',
  'input',
  'config',
  'credentials',
  'integration',
  'grant',
];

const pathKey = (f: string) => (/^[A-Za-z_$][\w$]*$/.test(f) ? `.${f}` : `["${f}"]`);
const REDACT_PATHS = [
  ...SECRET_FIELDS.map((f) => pathKey(f).replace(/^\./, '')),
  ...SECRET_CARRIERS.flatMap((carrier) => SECRET_FIELDS.map((f) => `${carrier}${pathKey(f)}`)),
];
export const CENSOR = '[redacted]';
/** Keys that look like credentials (e.g. `shopifyAccessToken`), masked even if not listed. */
const SECRET_KEY =
  /secret|token|password|passwd|authorization|cookie|hmac|credential|api_?key|encryption_?key|database_?url/i;
/** …except these, which only describe one. */
const SAFE_KEY = /(?:last4|Last4|Set|Present|ExpiresAt|expiresAt|Configured)$|^has[A-Z]/;

export type LoggerOptions = {
  level?: LogLevel;
  pretty?: boolean;
  /** Where lines go (default stdout); tests pass a stream to read them. */
  destination?: pino.DestinationStream;
};

function wrap(p: pino.Logger): Logger {
  const at =
    (level: Exclude<LogLevel, 'silent'>): LogMethod =>
    (msg, fields) => {
      if (fields === undefined) p[level](msg);
      else p[level](fields, msg);
    };
  return {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: (bindings) => wrap(p.child(bindings)),
    isLevelEnabled: (level) => p.isLevelEnabled(level),
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Masks keys that look like credentials, at the top level and (plain objects) one level down. */
function maskSecretKeys(object: Record<string, unknown>, depth = 0): Record<string, unknown> {
  let out: Record<string, unknown> | null = null;
  for (const key in object) {
    const value = object[key];
    let masked: unknown = value;
    if (SECRET_KEY.test(key) && !SAFE_KEY.test(key)) masked = CENSOR;
    else if (depth === 0 && isPlainObject(value)) masked = maskSecretKeys(value, 1);
    if (masked !== value) {
      out ??= { ...object };
      out[key] = masked;
    }
  }
  return out ?? object;
}

/** The pino options every logger of the app uses (redaction, level words, ISO time). */
export function pinoOptions(level: LogLevel): pino.LoggerOptions {
  return {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    formatters: {
      level: (label) => ({ level: label }),
      log: (o) => maskSecretKeys(o),
      bindings: (b) => maskSecretKeys(b),
    },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
}

/**
 * The app's logger. `createLogger(false)` is silent; `createLogger(true)` or no argument logs at
 * LOG_LEVEL (from the environment; `info` by default).
 */
export function createLogger(options: boolean | LoggerOptions = true): Logger {
  const opts: LoggerOptions =
    typeof options === 'boolean' ? { level: options ? envLevel() : 'silent' } : options;
  const level = opts.level ?? envLevel();
  let destination = opts.destination;
  if (!destination && opts.pretty) {
    // pino-pretty as a stream in this thread: development only, one flag (LOG_PRETTY=true).
    const require = createRequire(import.meta.url);
    const pretty = require('pino-pretty') as (o: Record<string, unknown>) => pino.DestinationStream;
    destination = pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  }
  return wrap(pino(pinoOptions(level), destination ?? batchedStdout()));
}

/**
 * stdout, written asynchronously in batches of up to 4 KiB (at least every 250 ms; pino flushes
 * synchronously on exit): one write syscall per line cost the ingest route about 5% of its CPU.
 */
function batchedStdout(): pino.DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 250 });
}

function envLevel(): LogLevel {
  const v = process.env.LOG_LEVEL;
  return v && (LOG_LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : 'info';
}

export type CapturedLine = { level: string; msg: string; fields: LogFields };

/**
 * A real logger (same options, redaction included) whose lines are kept in memory, for tests: `lines`
 * parsed, `text()` the raw JSON lines exactly as they would have been written.
 */
export function captureLogs(level: LogLevel = 'trace'): {
  log: Logger;
  lines: CapturedLine[];
  text: () => string;
} {
  const raw: string[] = [];
  const lines: CapturedLine[] = [];
  const destination = {
    write: (line: string) => {
      raw.push(line);
      const { level: lv, msg, time: _t, pid: _p, ...fields } = JSON.parse(line) as LogFields;
      lines.push({ level: String(lv), msg: String(msg ?? ''), fields });
    },
  };
  return { log: createLogger({ level, destination }), lines, text: () => raw.join('') };
}
