import { parseEncryptionKey } from '@crm/db';
import { SHOPIFY_API_VERSION } from '@crm/shopify';
import { z } from 'zod';

/**
 * Runtime settings: ONE zod schema for the whole environment of `npm start` and `npm run worker`,
 * parsed once at start. A bad value stops the process with a message naming the variable and what it
 * expects (ConfigError), before anything connects or listens.
 *
 * Adding a variable: add it to `envSchema` (with a `.describe()`), map it in `toConfig`, and add a row
 * for it to README.md's "Configuration" table — test/config.test.ts fails until the table has it.
 * Empty values count as unset.
 */

/** Job workers per process unless WORKER_CONCURRENCY says otherwise (the processing bench runs this too). */
export const DEFAULT_WORKER_CONCURRENCY = 4;

const bool = (name: string) =>
  z
    .enum(['true', 'false', '1', '0'], { error: `${name} must be true or false` })
    .transform((v) => v === 'true' || v === '1');

const int = (min: number, max: number, what: string) =>
  z
    .string()
    .regex(/^\d+$/, { error: `expected ${what}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { error: `expected ${what}` })
        .max(max, { error: `expected ${what}` }),
    );

const httpUrl = (what: string) =>
  z.string().refine(
    (v) => {
      try {
        const u = new URL(v);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    },
    { error: `expected ${what}` },
  );

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Variables whose values never appear in an error message (they may carry credentials). */
const SECRET_VARIABLES = new Set([
  'APP_ENCRYPTION_KEY',
  'DATABASE_URL',
  'METRICS_TOKEN',
  'DEMO_SHOPIFY_SECRET',
  'SHOPIFY_API_SECRET',
]);

export const envSchema = z.object({
  PORT: int(0, 65535, 'a port number, 0–65535').default(3000).describe('HTTP port'),
  PUBLIC_URL: httpUrl('an http(s) URL, e.g. https://crm.example.com').optional(),
  DATABASE_URL: z
    .string()
    .refine((v) => /^postgres(ql)?:\/\/.+/.test(v) && URL.canParse(v) && new URL(v).host !== '', {
      // With no host the URL cannot name the roles the app logs in as (roleUrl in @crm/db).
      error:
        'expected a postgres://user:password@host:port/database URL with a host (a Unix socket: postgres://user@localhost/crm?host=/var/run/postgresql)',
    })
    .optional(),
  APP_ENCRYPTION_KEY: z
    .string()
    .refine(
      (v) => {
        try {
          parseEncryptionKey(v);
          return true;
        } catch {
          return false;
        }
      },
      { error: 'expected 32 bytes written as 64 hex characters or base64' },
    )
    .optional(),
  SHOPIFY_ADMIN_BASE_URL: z
    .string()
    .refine((v) => URL.canParse(v.replaceAll('{shop}', 'shop.myshopify.com')), {
      error: 'expected a URL, {shop} standing for the shop domain (e.g. https://{shop})',
    })
    .default('https://{shop}'),
  SHOPIFY_API_VERSION: z
    .string()
    .regex(/^\d{4}-(01|04|07|10)$/, {
      error: `expected a Shopify API version such as ${SHOPIFY_API_VERSION}`,
    })
    .default(SHOPIFY_API_VERSION),
  SHOPIFY_API_KEY: z.string().trim().min(1).max(200).optional(),
  SHOPIFY_API_SECRET: z.string().min(1).optional(),
  SHOPIFY_SCOPES: z
    .string()
    .regex(/^[a-z_]+(,[a-z_]+)*$/, {
      error: 'expected comma-separated scopes, e.g. read_orders,read_customers',
    })
    .default('read_orders,read_customers,read_products'),
  WORKER_CONCURRENCY: int(0, 1000, 'a whole number of job workers, 0–1000 (0: none in this process)').default(
    DEFAULT_WORKER_CONCURRENCY,
  ),
  DB_POOL_SIZE: int(1, 1000, 'a whole number of connections, 1–1000').optional(),
  SEED: bool('SEED').default(false),
  WEB_DIST: z.string().optional(),
  SECURE_COOKIES: bool('SECURE_COOKIES').default(false),
  DEMO_SHOPIFY_SECRET: z.string().optional(),
  DATA_DIR: z.string().optional(),
  EMBEDDED_PG_PORT: int(1, 65535, 'a port number, 1–65535').default(54329),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  LOG_PRETTY: bool('LOG_PRETTY').default(false),
  METRICS_ENABLED: bool('METRICS_ENABLED').default(false),
  METRICS_TOKEN: z.string().min(16, { error: 'expected at least 16 characters' }).optional(),
  METRICS_PORT: int(0, 65535, 'a port number, 0–65535').default(9464),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000, 'milliseconds, 0–600000').default(25_000),
  EVENT_ATTEMPT_TIMEOUT_SECONDS: int(1, 86_400, 'seconds, 1–86400').default(300),
  EVENT_LEASE_SECONDS: int(3, 3600, 'seconds, 3–3600').default(30),
});

export type Env = z.infer<typeof envSchema>;

export type AppConfig = {
  port: number;
  /** The public base URL Shopify posts webhooks to (shown to owners as the URL to paste). */
  publicUrl: string;
  /** Base URL of the Shopify Admin API; `{shop}` is replaced by the shop domain. Tests and demos point it at a local fake. */
  shopifyAdminBaseUrl: string;
  shopifyApiVersion: string;
  /**
   * The operator's distributed app for "Connect with Shopify" (SHOPIFY_API_KEY, SHOPIFY_API_SECRET,
   * SHOPIFY_SCOPES); null when unset, and the button is hidden.
   */
  shopifyApp: { apiKey: string; apiSecret: string; scopes: string[] } | null;
  /** Worker concurrency of the in-process job runner; 0 runs no workers in this process. */
  workerConcurrency: number;
  /** Serve the built SPA from this folder (absent: API only). */
  webDist: string | null;
  /** Mark session cookies Secure (behind HTTPS). */
  secureCookies: boolean;
  logLevel: LogLevel;
  /** Human-readable log lines (development only). */
  logPretty: boolean;
  /** GET /metrics: served when enabled or when a token is set (then only with `Authorization: Bearer <token>`). */
  metrics: { enabled: boolean; token: string | null; workerPort: number };
  /** How long SIGTERM waits for in-flight requests and running jobs before releasing them. */
  shutdownTimeoutMs: number;
  /** How long a webhook event's attempt may run before its worker cuts it (jobs/event-workers.ts). */
  eventAttemptTimeoutMs: number;
  /** How long a claim holds a webhook event without renewal: a dead worker's events are due again after it. */
  eventLeaseSeconds: number;
};

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; expected: string }[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.expected}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The validated environment (throws ConfigError naming every bad variable). */
export function parseEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const present: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && (value !== '' || key === 'WEB_DIST')) present[key] = value;
  }
  const parsed = envSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? '(environment)');
      const got = SECRET_VARIABLES.has(variable) ? '' : ` (got ${JSON.stringify(present[variable])})`;
      return { variable, expected: `${issue.message}${got}` };
    }),
  );
}

export function toConfig(env: Env): AppConfig {
  return {
    port: env.PORT,
    publicUrl: (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    shopifyAdminBaseUrl: env.SHOPIFY_ADMIN_BASE_URL,
    shopifyApiVersion: env.SHOPIFY_API_VERSION,
    shopifyApp:
      env.SHOPIFY_API_KEY && env.SHOPIFY_API_SECRET
        ? {
            apiKey: env.SHOPIFY_API_KEY,
            apiSecret: env.SHOPIFY_API_SECRET,
            scopes: env.SHOPIFY_SCOPES.split(','),
          }
        : null,
    workerConcurrency: env.WORKER_CONCURRENCY,
    webDist:
      env.WEB_DIST === '' ? null : (env.WEB_DIST ?? new URL('../../web/dist/', import.meta.url).pathname),
    secureCookies: env.SECURE_COOKIES,
    logLevel: env.LOG_LEVEL,
    logPretty: env.LOG_PRETTY,
    metrics: { enabled: env.METRICS_ENABLED, token: env.METRICS_TOKEN ?? null, workerPort: env.METRICS_PORT },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    eventAttemptTimeoutMs: env.EVENT_ATTEMPT_TIMEOUT_SECONDS * 1000,
    eventLeaseSeconds: env.EVENT_LEASE_SECONDS,
  };
}

/** The settings from the environment, with the zero-setup defaults; throws ConfigError on a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return toConfig(parseEnv(env));
}
