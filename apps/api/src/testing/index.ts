/**
 * Test support for the API: a real server over a real (test) database, on a free port.
 */
import type { TestDatabase } from '@crm/db/testing';
import { type AppConfig, loadConfig } from '../config.ts';
import type { AppDeps } from '../deps.ts';
import { runDueJobs } from '../jobs/runner.ts';
import { createLogger } from '../log.ts';
import { type RunningServer, startServer } from '../server.ts';

export type TestApp = RunningServer & {
  deps: AppDeps;
  /** Runs, in this process, every job that is due until none is left (retries scheduled later stay). */
  runJobs: () => Promise<void>;
};

export async function startTestApp(db: TestDatabase, overrides: Partial<AppConfig> = {}): Promise<TestApp> {
  const config: AppConfig = { ...loadConfig({}), webDist: null, workerConcurrency: 0, ...overrides };
  const deps: AppDeps = {
    sql: db.sql,
    key: db.key,
    config,
    log: createLogger(process.env.TEST_LOGS === 'true'),
  };
  const server = await startServer(deps, { port: 0, hostname: '127.0.0.1', databaseUrl: db.url });
  return { ...server, deps, runJobs: () => runDueJobs(deps, { databaseUrl: db.url }) };
}
