import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';
import { isUuid, isWebhookEventStatus, WEBHOOK_EVENT_STATUSES } from '../src/values.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

describe('shared values', () => {
  it('WEBHOOK_EVENT_STATUSES are exactly what the webhook_events.status check allows', async () => {
    const rows = await db.sql<{ def: string }[]>`
      select pg_get_constraintdef(c.oid) as def from pg_constraint c
      where c.conrelid = 'public.webhook_events'::regclass and c.contype = 'c'
        and pg_get_constraintdef(c.oid) like '%status%'`;
    expect(rows).toHaveLength(1);
    const allowed = [...(rows[0]?.def ?? '').matchAll(/'([^']+)'::text/g)].map((m) => m[1]);
    expect(allowed.sort()).toEqual([...WEBHOOK_EVENT_STATUSES].sort());
  });

  it('tells event statuses and UUIDs', () => {
    expect(WEBHOOK_EVENT_STATUSES.every(isWebhookEventStatus)).toBe(true);
    expect(isWebhookEventStatus('exploded')).toBe(false);
    expect(isUuid('6f1c2b9e-3d4a-4c5b-8e7f-0a1b2c3d4e5f')).toBe(true);
    expect(isUuid('6F1C2B9E-3D4A-4C5B-8E7F-0A1B2C3D4E5F')).toBe(true);
    expect(isUuid('6f1c2b9e3d4a4c5b8e7f0a1b2c3d4e5f')).toBe(false);
    expect(isUuid('6f1c2b9e-3d4a-4c5b-8e7f-0a1b2c3d4e5f\n')).toBe(false);
  });
});
