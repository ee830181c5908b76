/**
 * A failed attempt's record names its attempt: recorded late (the worker retried it until the
 * database answered again), it must not end the lease of a later attempt at the same event — one the
 * same worker may have claimed after the first lease ran out.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';
import { claimWebhookEvents, recordWebhookEventAttemptFailure } from '../src/worker/events.ts';
import { buildFixtures } from './fixtures.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await buildFixtures(db.sql);
});
afterAll(async () => {
  await db?.drop();
});

it("ends only its own attempt's lease: a late record of an earlier attempt changes nothing", async () => {
  const [claimed] = await claimWebhookEvents(db.sql, 'attempt-test-worker', 1, 30);
  if (!claimed) throw new Error('the fixtures have no pending event');
  const first = claimed.attempts;
  // The lease ran out and the same worker claimed the event again: a second attempt.
  await db.sql`update webhook_events set attempts = attempts + 1 where id = ${claimed.id}`;
  const failure = { error: 'The database was unavailable.', final: false, worker: 'attempt-test-worker' };

  const late = await recordWebhookEventAttemptFailure(db.sql, claimed.id, {
    ...failure,
    attempt: first,
    retryInSeconds: 60,
  });
  expect(late).toBeNull();
  const [held] = await db.sql<{ locked_by: string | null; last_error: string | null }[]>`
    select locked_by, last_error from webhook_events where id = ${claimed.id}`;
  expect(held).toEqual({ locked_by: 'attempt-test-worker', last_error: null });

  const own = await recordWebhookEventAttemptFailure(db.sql, claimed.id, {
    ...failure,
    attempt: first + 1,
    retryInSeconds: 60,
  });
  expect(own).not.toBeNull();
  const [released] = await db.sql<{ locked_by: string | null; last_error: string | null; status: string }[]>`
    select locked_by, last_error, status from webhook_events where id = ${claimed.id}`;
  expect(released).toEqual({ locked_by: null, last_error: failure.error, status: 'pending' });
});
