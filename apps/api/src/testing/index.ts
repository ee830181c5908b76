/**
 * Test support for the API: a real server over a real (test) database, on a free port.
 */
import type { TestDatabase } from '@crm/db/testing';
import { type AppConfig, loadConfig } from '../config.ts';
import type { AppDeps } from '../deps.ts';
import { createLogger } from '../log.ts';
import { type RunningServer, startServer } from '../server.ts';

export type TestApp = RunningServer & { deps: AppDeps };

export async function startTestApp(db: TestDatabase, overrides: Partial<AppConfig> = {}): Promise<TestApp> {
  const config: AppConfig = { ...loadConfig({}), webDist: null, workerConcurrency: 0, ...overrides };
  const deps: AppDeps = {
    sql: db.sql,
    key: db.key,
    config,
    log: createLogger(process.env.TEST_LOGS === 'true'),
  };
  const server = await startServer(deps, { port: 0, hostname: '127.0.0.1' });
  return { ...server, deps };
}
