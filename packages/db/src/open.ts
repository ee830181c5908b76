import { dataDir, embeddedPort } from './config.ts';
import { startEmbeddedPostgres } from './embedded.ts';

export type OpenedDatabase = {
  url: string;
  embedded: boolean;
  stop: () => Promise<void>;
};

/**
 * DATABASE_URL when set; otherwise the embedded PostgreSQL in the local data folder, started now.
 */
export async function openDatabase(env = process.env, log?: (line: string) => void): Promise<OpenedDatabase> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, embedded: false, stop: async () => {} };
  const db = await startEmbeddedPostgres({
    dataDir: dataDir(env),
    port: embeddedPort(env),
    ...(log ? { log } : {}),
  });
  return { url: db.url, embedded: true, stop: db.stop };
}
