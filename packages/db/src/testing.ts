/**
 * Test support: a real PostgreSQL for every test run, never a mock. With DATABASE_URL the tests use
 * that cluster; without it the global setup starts an embedded PostgreSQL in a temporary folder.
 * Each test file creates its own database (migrated) and drops it at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSql, type Sql, withDatabaseName } from './client.ts';
import { startEmbeddedPostgres } from './embedded.ts';
import { migrate } from './migrate.ts';
import { type EncryptionKey, generateEncryptionKey, parseEncryptionKey } from './secrets.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export type TestCluster = { adminUrl: string; embedded: boolean; stop: () => Promise<void> };

/** DATABASE_URL's cluster, or a fresh embedded cluster in a temporary folder. */
export async function startTestCluster(env = process.env): Promise<TestCluster> {
  if (env.DATABASE_URL) return { adminUrl: env.DATABASE_URL, embedded: false, stop: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'crm-test-pg-'));
  const db = await startEmbeddedPostgres({ dataDir: dir, port: await freePort() });
  return {
    adminUrl: db.adminUrl,
    embedded: true,
    stop: async () => {
      await db.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Vitest global setup: starts the cluster once per run and tells the test files where it is. */
export async function vitestGlobalSetup(): Promise<() => Promise<void>> {
  const cluster = await startTestCluster();
  process.env.TEST_ADMIN_DATABASE_URL = cluster.adminUrl;
  return cluster.stop;
}

export function testAdminUrl(env = process.env): string {
  const url = env.TEST_ADMIN_DATABASE_URL ?? env.DATABASE_URL;
  if (!url) throw new Error('No test cluster: run tests through vitest (its global setup starts one).');
  return url;
}

export type TestDatabase = {
  name: string;
  /** Connection URL as the migrating (super)user. */
  url: string;
  /** A pool as the migrating (super)user: bypasses RLS, for arranging and inspecting. */
  sql: Sql;
  key: EncryptionKey;
  drop: () => Promise<void>;
};

/** A new, migrated database of its own. Call drop() in afterAll. */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = testAdminUrl();
  const name = `crm_test_${randomBytes(6).toString('hex')}`;
  const admin = createSql(adminUrl, { max: 1 });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = withDatabaseName(adminUrl, name);
  const sql = createSql(url, { max: 10 });
  if (options.migrate !== false) await migrate(sql);
  return {
    name,
    url,
    sql,
    key: parseEncryptionKey(generateEncryptionKey()),
    drop: async () => {
      await sql.end({ timeout: 5 });
      const a = createSql(adminUrl, { max: 1 });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/**
 * Takes a test database away — it refuses new connections (`allow_connections = false`) and every open
 * session to it is terminated: the errors an app sees when its server stops, but fast and reliable on
 * a shared cluster — or gives it back (`down = false`).
 */
export async function setTestDatabaseDown(name: string, down: boolean): Promise<void> {
  const admin = createSql(testAdminUrl(), { max: 1 });
  try {
    await admin`alter database ${admin(name)} with allow_connections ${admin.unsafe(down ? 'false' : 'true')}`;
    if (down)
      await admin`
        select pg_terminate_backend(pid) from pg_stat_activity
        where datname = ${name} and pid <> pg_backend_pid()`;
  } finally {
    await admin.end();
  }
}
