import { loadMigrations, pendingMigrations } from '@crm/db';
import { queueOwnerPool, workerPool } from '@crm/db/worker';
import { Hono } from 'hono';
import type { AppDeps } from './deps.ts';

/** What readiness knows beyond the database: whether this process drains, and its job workers. */
export type ReadinessState = {
  /** Set on SIGTERM: the load balancer must stop sending work here. */
  draining: boolean;
  /** Whether this process's job workers run; null when it runs none (WORKER_CONCURRENCY=0). */
  workers: (() => boolean) | null;
};

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS).unref(),
    ),
  ]);
}

type Check = { ok: boolean; detail: string };

/**
 * GET /healthz — liveness: 200 when the database answers within 2 s, 503 otherwise.
 * GET /readyz — readiness: 200 only when the database answers, its migrations are at this build's
 * head, and this process's job workers run (where it has any) and it is not draining; else 503 with
 * `failed` naming the checks that failed and `checks` saying what each found.
 */
export function healthRoutes(
  deps: Pick<AppDeps, 'sql'>,
  state: ReadinessState = { draining: false, workers: null },
): Hono {
  const app = new Hono();
  const migrations = loadMigrations();
  migrations.catch(() => {});

  app.get('/healthz', async (c) => {
    try {
      await withTimeout(workerPool(deps.sql)`select 1`);
      return c.json({ ok: true, database: 'up' });
    } catch {
      return c.json({ ok: false, database: 'down' }, 503);
    }
  });

  app.get('/readyz', async (c) => {
    const [database, migrated] = await Promise.all([
      withTimeout(workerPool(deps.sql)`select 1`).then(
        (): Check => ({ ok: true, detail: 'up' }),
        (): Check => ({ ok: false, detail: 'down' }),
      ),
      withTimeout(migrations.then((all) => pendingMigrations(queueOwnerPool(deps.sql), all))).then(
        (pending): Check =>
          pending.length === 0
            ? { ok: true, detail: 'at head' }
            : { ok: false, detail: `pending: ${pending.join(', ')}` },
        (): Check => ({ ok: false, detail: 'unknown (database unreachable)' }),
      ),
    ]);
    const checks: Record<string, Check> = { database, migrations: migrated };
    if (state.workers) {
      checks.workers = state.workers()
        ? { ok: true, detail: 'running' }
        : { ok: false, detail: 'not running' };
    }
    checks.shutdown = state.draining ? { ok: false, detail: 'draining' } : { ok: true, detail: 'no' };
    const failed = Object.keys(checks).filter((k) => !checks[k]?.ok);
    const body = {
      ok: failed.length === 0,
      failed,
      checks: Object.fromEntries(Object.entries(checks).map(([k, v]) => [k, v.detail])),
    };
    return c.json(body, failed.length === 0 ? 200 : 503);
  });
  return app;
}
