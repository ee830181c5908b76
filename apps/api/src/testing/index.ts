/**
 * Test support for the API: a real server over a real (test) database, on a free port.
 */
import { connectRolePools } from '@crm/db';
import type { TestDatabase } from '@crm/db/testing';
import { countBusyJobs, describeBusyJobs, describeDatabaseSessions } from '@crm/db/worker';
import { type AppConfig, loadConfig } from '../config.ts';
import type { AppDeps } from '../deps.ts';
import { type JobRunner, startJobRunner } from '../jobs/runner.ts';
import { createLogger } from '../log.ts';
import { type RunningServer, startServer } from '../server.ts';

export type TestApp = RunningServer & {
  deps: AppDeps;
  /**
   * Runs the job queue until no job is running or due (retries scheduled for later stay queued). The
   * first call starts workers in this process (unless the app runs some already); they keep running,
   * picking up new jobs at once, until close().
   */
  runJobs: (options?: { timeoutMs?: number }) => Promise<void>;
};

/** Waits until no job of the queue is running or due now. */
export async function waitForIdleQueue(deps: AppDeps, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await countBusyJobs(deps.sql)) > 0) {
    if (Date.now() > deadline) {
      const busy = await describeBusyJobs(deps.sql).catch((e: unknown) => [`(not described: ${e})`]);
      const sessions = await describeDatabaseSessions(deps.sql).catch((e: unknown) => [
        `(not described: ${e})`,
      ]);
      throw new Error(
        `the job queue was still busy after ${timeoutMs} ms:\n${busy.join('\n')}\nsessions:\n${sessions.join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 15));
  }
}

export async function startTestApp(db: TestDatabase, overrides: Partial<AppConfig> = {}): Promise<TestApp> {
  const config: AppConfig = { ...loadConfig({}), webDist: null, workerConcurrency: 0, ...overrides };
  // The app's own connections, as in production: one pool per role, each logged in as that role.
  const pools = await connectRolePools(db.url, { applicationName: 'crm-test' });
  const deps: AppDeps = {
    sql: pools,
    key: db.key,
    config,
    log: createLogger(process.env.TEST_LOGS === 'true'),
  };
  const server = await startServer(deps, { port: 0, hostname: '127.0.0.1', databaseUrl: db.url });
  let workers: Promise<JobRunner> | null = null;
  return {
    ...server,
    deps,
    runJobs: async (options = {}) => {
      if (!server.runner && !workers) workers = startJobRunner(deps, { concurrency: 4, databaseUrl: db.url });
      await workers;
      await waitForIdleQueue(deps, options.timeoutMs);
    },
    close: async () => {
      await server.close();
      await (await workers)?.stop();
      await pools.end({ timeout: 1 });
    },
  };
}

export { serveWebhookRouteWithoutDatabase } from './webhook-floor.ts';
