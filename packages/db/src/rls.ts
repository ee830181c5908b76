import type postgres from 'postgres';
import type { Sql, Tx } from './client.ts';
import { isRolePools, type RolePools } from './role-pools.ts';
import { isUuid } from './values.ts';

/**
 * Where a transaction runs: the application's role pools (each logged in as its role — production),
 * or a single pool of the migrating role (tests arranging data, tools), which switches role per
 * transaction.
 */
export type Db = Sql | RolePools;

type PoolRole = 'user' | 'worker' | 'ingest' | 'auth';

function poolFor(db: Db, role: PoolRole): Sql {
  return isRolePools(db) ? db[role] : db;
}

function assertUuid(value: string, what: string): void {
  if (!isUuid(value)) throw new Error(`${what} must be a UUID`);
}

const CONNECTION_ERRORS = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

/** The connection is gone (or going): the server ended the session, or the socket failed. */
export function isConnectionLost(error: unknown): boolean {
  const e = error as { code?: unknown; severity?: unknown };
  if (typeof e?.code !== 'string') return false;
  return (
    CONNECTION_ERRORS.has(e.code) ||
    e.severity === 'FATAL' ||
    e.severity === 'PANIC' ||
    /^(08|57P0)/.test(e.code)
  );
}

/**
 * Runs `body` (which opens and ends a transaction) on a reserved connection of `pool`, and rolls back
 * when it fails.
 *
 * Not `sql.begin`: postgres.js 3.4.9 sends its ROLLBACK on a connection that has just closed, which
 * throws an uncaught TypeError from a timer and takes the process down when the database goes away
 * mid-transaction. Here nothing more is sent, and the connection is not handed back, once it is lost
 * (the pool reconnects it): the caller gets the error, the process lives.
 */
async function onReservedConnection<T>(
  pool: Sql,
  body: (tx: Tx) => Promise<T>,
  reserveTimeoutMs?: number,
  { opensTransaction = true }: { opensTransaction?: boolean } = {},
): Promise<T> {
  const tx =
    reserveTimeoutMs === undefined ? await pool.reserve() : await reserveWithin(pool, reserveTimeoutMs);
  let lost = false;
  try {
    return await body(tx);
  } catch (error) {
    lost = isConnectionLost(error);
    if (!lost && opensTransaction) {
      // After a failed statement of a pipelined transaction its COMMIT has already ended it as
      // ROLLBACK (this one then changes nothing).
      await tx`rollback`.catch((e: unknown) => {
        lost = isConnectionLost(e);
      });
    }
    throw error;
  } finally {
    if (!lost) tx.release();
  }
}

/**
 * A reserved connection, or a CONNECT_TIMEOUT error after `ms`: while the database refuses
 * connections postgres.js can keep a reservation waiting until it is back. A connection that comes
 * after the timeout is handed back.
 */
async function reserveWithin(pool: Sql, ms: number): Promise<Tx> {
  const pending = pool.reserve();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          Object.assign(new Error(`no database connection within ${ms} ms`), { code: 'CONNECT_TIMEOUT' }),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([pending, timeout]);
  } catch (error) {
    pending.then(
      (tx) => tx.release(),
      () => {},
    );
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The statement that applies transaction-local settings (role and the RLS context, planner settings);
 * null for none. Unsent until awaited or executed. Exported for tools that drive a transaction of their
 * own as the app's do (the lookup bench, tests).
 */
export function applyTransactionSettings(tx: Tx, settings: Record<string, string>) {
  const names = Object.keys(settings);
  if (names.length === 0) return null;
  const values = names.map((n) => settings[n] ?? '');
  return tx`select set_config(name, value, true) from unnest(${names}::text[], ${values}::text[]) as s(name, value)`;
}

/**
 * One transaction on a reserved connection of `pool`, with transaction-local settings (role and the
 * RLS context) applied first, sent with BEGIN and fn's first statement; `last`, if given, goes out with
 * COMMIT.
 */
function inTransaction<T>(
  pool: Sql,
  settings: Record<string, string>,
  fn: (tx: Tx) => Promise<T>,
  last?: LastStatements<T>,
): Promise<T> {
  return onReservedConnection(
    pool,
    async (tx) => {
      // BEGIN and the settings are not waited for alone: they go out with fn's first statement, in
      // one write, and PostgreSQL runs them in order before it — one round trip less per transaction.
      const opened = Promise.all([
        tx`begin`.execute(),
        applyTransactionSettings(tx, settings)?.execute(),
      ]).then(
        () => null,
        (error: unknown) => ({ error }),
      );
      let running: Promise<T>;
      try {
        running = fn(tx);
      } catch (error) {
        running = Promise.reject(error);
      }
      const ran = running.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      const notOpened = await opened;
      if (notOpened) {
        // fn's statements fail behind it: let fn end before the ROLLBACK goes out, so that nothing of
        // it runs outside the transaction. Not when the connection is gone: what was queued behind a
        // statement still being described is then never answered (see commitWith).
        if (!isConnectionLost(notOpened.error)) await ran;
        throw notOpened.error;
      }
      const outcome = await ran;
      if (!outcome.ok) throw outcome.error;
      await commitWith(tx, last?.(tx, outcome.value) ?? []);
      return outcome.value;
    },
    RESERVE_TIMEOUT_MS,
  );
}

/**
 * The statements a transaction ends with, written and not yet sent (a PendingQuery, never awaited by
 * the writer), given what the transaction's body returned: they go out together with COMMIT, in the
 * order given — one round trip for a transaction's last writes and its end. Null entries are skipped.
 */
export type LastStatements<T> = (tx: Tx, value: T) => ReadonlyArray<PendingStatement | null>;
type PendingStatement = postgres.PendingQuery<postgres.Row[]>;

/**
 * Sends `last` and COMMIT together; throws the first failure, or if the transaction did not commit.
 *
 * A failure of `last` is thrown at once, without waiting for COMMIT's answer: postgres.js (3.4.9)
 * describes a statement with parameters before its first run on a connection and holds what is sent
 * behind it on a reserved connection in a queue of its own, which nothing empties or fails once the
 * connection is gone. COMMIT held there is never answered; waiting for it hung an event attempt for
 * good when the database went away (pipelined-transaction.test.ts; the same trap in `sql.begin`'s
 * queue is porsager/postgres#1186, open). After any other failure PostgreSQL answers COMMIT with
 * ROLLBACK, and the caller's ROLLBACK goes out behind it.
 */
async function commitWith(tx: Tx, last: ReadonlyArray<PendingStatement | null>): Promise<void> {
  // execute() queues each on the connection now, in this order, and COMMIT after them.
  const sent = last.flatMap((q) => (q ? [q.execute()] : []));
  const commit = tx`commit`.execute();
  const committed = commit.then(
    (answer) => ({ ok: true as const, answer }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  await Promise.all(sent);
  const outcome = await committed;
  if (!outcome.ok) throw outcome.error;
  assertCommitted(outcome.answer);
}

/**
 * Throws unless COMMIT's answer says the transaction committed: after a failed statement that was
 * sent in the same round trip, PostgreSQL answers a COMMIT with ROLLBACK.
 */
function assertCommitted(answer: { command: string }): void {
  if (answer.command !== 'COMMIT') throw new Error(`the transaction ended with ${answer.command}`);
}

/**
 * How long a transaction waits for a connection before failing: postgres.js 3.4.9 drops a reservation
 * that was queued when one of the pool's connections closed (porsager/postgres#1195: it is handed to
 * that connection's reconnect, which discards it), so after an outage a reservation can wait for good,
 * and a job worker waiting on it would hold its job locked. Failing instead lets the queue retry the
 * job.
 */
const RESERVE_TIMEOUT_MS = 10_000;

/** Thrown by a pipelined transaction's `tx` used after its COMMIT was sent. */
export class PipelineClosedError extends Error {}

/**
 * One transaction in ONE round trip: BEGIN, the settings, the statements `fn` writes (sent in the
 * order written), and COMMIT go out together. `fn` must write every statement before it returns (no
 * `await` before a statement): `tx` refuses statements once COMMIT is sent. If a statement fails,
 * PostgreSQL rolls the whole transaction back (its COMMIT answers ROLLBACK) and the failure is
 * thrown; resolves only once COMMIT has succeeded.
 */
function inPipelinedTransaction<T>(
  pool: Sql,
  settings: Record<string, string>,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  return onReservedConnection(pool, pipelined(settings, fn), PIPELINE_RESERVE_TIMEOUT_MS);
}

/** How long a pipelined transaction (the webhook route's) waits for a connection before failing. */
const PIPELINE_RESERVE_TIMEOUT_MS = 1500;

function pipelined<T>(settings: Record<string, string>, fn: (tx: Tx) => Promise<T>): (tx: Tx) => Promise<T> {
  return async (tx) => {
    let closed = false;
    const guarded = new Proxy(tx, {
      apply(target, thisArg, args) {
        if (closed) throw new PipelineClosedError('a statement was sent after the pipelined COMMIT');
        // Sent in the order written, whenever it is awaited.
        return (Reflect.apply(target, thisArg, args) as ReturnType<Tx>).execute();
      },
    });
    // postgres.js sends a statement when it is first awaited or executed: each is executed as it is
    // written — BEGIN and the settings, fn's statements, COMMIT.
    const begin = tx`begin`.execute();
    const set = applyTransactionSettings(tx, settings)?.execute() ?? null;
    let result: Promise<T>;
    try {
      result = fn(guarded);
    } catch (error) {
      result = Promise.reject(error); // awaited with the rest, so BEGIN's outcome is never left unhandled
    }
    closed = true;
    const commit = tx`commit`.execute();
    const [, , value, committed] = await Promise.all([begin, set, result, commit]);
    assertCommitted(committed);
    return value;
  };
}

/** One transaction on `pool` as whoever the pool logs in as (the migrating role: seed, tools, tests). */
export function transaction<T>(pool: Sql, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return inTransaction(pool, {}, fn);
}

/**
 * Runs fn inside a savepoint of an open transaction: its failure is rolled back to the savepoint and
 * rethrown, leaving the transaction usable.
 */
export async function savepoint<T>(tx: Tx, fn: (tx: Tx) => Promise<T>): Promise<T> {
  await tx`savepoint crm_sp`;
  try {
    const result = await fn(tx);
    await tx`release savepoint crm_sp`;
    return result;
  } catch (error) {
    await tx`rollback to savepoint crm_sp`;
    throw error;
  }
}

/**
 * Runs fn in one transaction as `app_user` for the given user: every row it touches passes the
 * row-level security policies for that user. The setting is transaction-local, so it cannot leak to
 * the next request that borrows the connection.
 */
export async function withUser<T>(db: Db, userId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  assertUuid(userId, 'userId');
  return inTransaction(poolFor(db, 'user'), { role: 'app_user', 'app.user_id': userId }, fn);
}

/**
 * How the statements of a worker transaction for a workspace are planned: once per connection (a
 * generic plan), not again for each of a statement's first five executions (PostgreSQL's custom plans)
 * and then for as long as the generic plan's estimate looks dearer. The fuzzy lookup has 64 statement
 * texts (one per trigram bucket, the bucket a constant in its text), so on a connection most of them
 * were still being planned anew at every execution. Measured (BENCHMARKS.md, session 11): per order on
 * one connection 8.68 → 8.09 ms; the lookup at 100k contacts p95 6.12 → 3.83 ms warmed, 11.2 → 10.5 ms
 * on a new connection. Every statement of the worker path keeps its index conditions in a generic
 * plan (apps/api/test/processing-no-seq-scan.test.ts runs them with this setting).
 */
export const WORKER_PLAN_CACHE_MODE = 'force_generic_plan';

/**
 * How a worker transaction plans: generic plans (above), and never a sequential scan where an index
 * serves. A session keeps a plan until an ANALYZE of its tables invalidates it, so a plan made while
 * orders held a few rows — a scan of them all, the cheapest then — went on scanning as the table grew:
 * until autovacuum's next ANALYZE (a minute, and a tenth of the table, apart), and for good with
 * autovacuum off. The foreign-key checks of each line and the order-totals trigger did so, reading
 * every order of the table per line (packages/db/test/orders.test.ts, "plan made while orders was
 * nearly empty"). They run in these transactions, so they plan with the setting too. It only
 * changes which way in the planner takes when an index serves the statement: each statement of the
 * worker path names its rows by an indexed key (apps/api/test/processing-no-seq-scan.test.ts).
 */
export const WORKER_PLANNER_SETTINGS = {
  plan_cache_mode: WORKER_PLAN_CACHE_MODE,
  enable_seqscan: 'off',
} as const;

/**
 * Runs fn in one transaction as `app_worker` acting for one workspace: the webhook route and the
 * job workers, which act for no user. Writes outside that workspace are refused by RLS. `last`: the
 * statements it ends with, sent with its COMMIT (LastStatements).
 */
export async function withWorkspace<T>(
  db: Db,
  workspaceId: string,
  fn: (tx: Tx) => Promise<T>,
  last?: LastStatements<T>,
): Promise<T> {
  assertUuid(workspaceId, 'workspaceId');
  return inTransaction(
    poolFor(db, 'worker'),
    { role: 'app_worker', 'app.workspace_id': workspaceId, ...WORKER_PLANNER_SETTINGS },
    fn,
    last,
  );
}

/** Runs fn in one transaction as `app_worker` with no workspace yet: it may only route (read integrations). */
export async function withWorkerRouting<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return inTransaction(poolFor(db, 'worker'), { role: 'app_worker', 'app.workspace_id': '' }, fn);
}

/**
 * withWorkerRouting in one round trip (inPipelinedTransaction), on the webhook route's own pool:
 * `fn` sends all its statements before it returns — a routing read, then per workspace
 * actForWorkspace and its writes, say.
 */
export function withWorkerPipeline<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return inPipelinedTransaction(poolFor(db, 'ingest'), { role: 'app_worker', 'app.workspace_id': '' }, fn);
}

/**
 * One statement on the webhook route's own pool, as its own implicit transaction: no BEGIN and no
 * COMMIT, so one round trip. Fails fast like withWorkerPipeline when no connection comes. The
 * statement must act as app_worker itself (app.store_webhook_events does).
 */
export function onIngestConnection<T>(db: Db, fn: (sql: Tx) => Promise<T>): Promise<T> {
  return onReservedConnection(poolFor(db, 'ingest'), fn, PIPELINE_RESERVE_TIMEOUT_MS, {
    opensTransaction: false,
  });
}

/** Switches an open transaction to `app_worker` for a workspace (after routing a webhook, say). */
export async function actForWorkspace(tx: Tx, workspaceId: string): Promise<void> {
  assertUuid(workspaceId, 'workspaceId');
  await tx`select set_config('role', 'app_worker', true), set_config('app.workspace_id', ${workspaceId}, true)`;
}

/** Runs fn in one transaction as `app_auth`: login, sessions, throttling — before a user is known. */
export async function withAuth<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return inTransaction(poolFor(db, 'auth'), { role: 'app_auth' }, fn);
}
