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
