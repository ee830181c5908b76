import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../src/testing/index.ts';

let db: TestDatabase;
let app: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db, { workerConcurrency: 1 });
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

type Readiness = { ok: boolean; failed: string[]; checks: Record<string, string> };

async function readyz(): Promise<{ status: number; body: Readiness }> {
  const r = await fetch(`${app.url}/readyz`);
  return { status: r.status, body: (await r.json()) as Readiness };
}

describe('/readyz', () => {
  it('is 200 with the database up, migrations at head and the workers running', async () => {
    const r = await readyz();
    expect(r).toEqual({
      status: 200,
      body: {
        ok: true,
        failed: [],
        checks: { database: 'up', migrations: 'at head', workers: 'running', shutdown: 'no' },
      },
    });
  });

  it('is 503 naming the migrations when one of this build is not applied, while /healthz stays 200', async () => {
    const [last] = await db.sql<{ name: string; checksum: string }[]>`
      select name, checksum from schema_migrations order by name desc limit 1`;
    if (!last) throw new Error('no migrations');
    await db.sql`delete from schema_migrations where name = ${last.name}`;
    try {
      const r = await readyz();
      expect(r.status).toBe(503);
      expect(r.body.failed).toEqual(['migrations']);
      expect(r.body.checks.migrations).toBe(`pending: ${last.name}`);
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    } finally {
      await db.sql`insert into schema_migrations (name, checksum) values (${last.name}, ${last.checksum})`;
    }
    expect((await readyz()).status).toBe(200);
  });

  it('is 503 naming the workers when they do not run, and the shutdown while draining', async () => {
    await app.runner?.stop();
    let r = await readyz();
    expect(r.status).toBe(503);
    expect(r.body.failed).toEqual(['workers']);
    app.readiness.draining = true;
    r = await readyz();
    expect(r.body.failed).toEqual(['workers', 'shutdown']);
    expect(r.body.checks.shutdown).toBe('draining');
  });
});
