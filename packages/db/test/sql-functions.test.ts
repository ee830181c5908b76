// What an order does in the database calls functions of ours on every contact and every line: in
// index expressions, a generated column, triggers and the lookup, and the queue's claim before it. A
// SQL-language function that PostgreSQL cannot inline (a body with FROM or CTEs) is parsed and
// planned again in every statement that calls it; migrations 0024 and 0026 moved those to PL/pgSQL,
// whose plans the session keeps. This checks the order path as the worker runs it, with the server's
// per-function counters: no SQL-language function of ours runs un-inlined, and the keys the moved
// functions compute are what they were.
import { CANDIDATE_SCORE_WEIGHTS as weights } from '@crm/shopify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../src/client.ts';
import { applyTransactionSettings, WORKER_PLANNER_SETTINGS, withWorkspace } from '../src/rls.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';
import { findContactCandidatesByName } from '../src/worker/contacts.ts';
import { claimWebhookEvents } from '../src/worker/events.ts';
import { buildFixtures, type Fixtures } from './fixtures.ts';
import { asRole } from './helpers.ts';

let db: TestDatabase;
let f: Fixtures;
beforeAll(async () => {
  db = await createTestDatabase();
  f = await buildFixtures(db.sql);
});
afterAll(async () => {
  await db?.drop();
});

type FunctionCalls = Map<string, { language: string; calls: number }>;

/**
 * The functions of schema app run by the function executor (an inlined function never is), with their
 * language: what this session counted and has not yet reported, earlier transactions included.
 */
async function functionCalls(tx: Tx): Promise<FunctionCalls> {
  const rows = await tx<{ name: string; language: string; calls: number }[]>`
    select s.funcname as name, l.lanname as language, s.calls::int as calls
    from pg_stat_xact_user_functions s
    join pg_proc p on p.oid = s.funcid
    join pg_language l on l.oid = p.prolang
    where s.schemaname = 'app'`;
  return new Map(rows.map((r) => [r.name, { language: r.language, calls: r.calls }]));
}

/** The calls counted after `before`, by function. */
function callsSince(before: FunctionCalls, after: FunctionCalls) {
  return [...after]
    .map(([name, { language, calls }]) => ({ name, language, calls: calls - (before.get(name)?.calls ?? 0) }))
    .filter((c) => c.calls > 0)
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe('the functions on the order path (0024, 0026)', () => {
  it('runs no SQL-language function of ours un-inlined while contacts, lookups and order lines are written', async () => {
    const w = f.a;
    // As the worker runs it (withWorkspace: app_worker, the workspace, generic plans).
    const run = await withWorkspace(db.sql, w.id, async (tx) => {
      // Counted for this transaction only; an inlined function is never counted.
      await tx`reset role`;
      await tx`set local track_functions = 'all'`;
      await tx`select set_config('role', 'app_worker', true)`;
      const before = await functionCalls(tx);
      await tx`
        insert into contacts (workspace_id, name, phone, city)
        values (app.current_workspace_id(), 'Yésica Vásquez Gómez', '+573209990001', 'Medellín')`;
      await tx`
        update contacts set name = 'Jessica Vazquez Gomes', email = 'jv@example.com'
        where workspace_id = app.current_workspace_id() and phone = '+573209990001'`;
      const found = await findContactCandidatesByName(
        tx,
        { name: 'Yesica Vasquez Gomez', city: 'Medellin', phone: '+573209990002' },
        { weights },
      );
      const [order] = await tx<{ id: string }[]>`
        insert into orders (workspace_id, pipeline_id, stage_id)
        values (app.current_workspace_id(), ${w.pipeline}, ${w.stage}) returning id`;
      if (!order) throw new Error('order not created');
      await tx`
        insert into order_products (workspace_id, order_id, sku, title, unit_price, quantity, subtotal)
        values (app.current_workspace_id(), ${order.id}, 'SKU', 'Line', 10.5, 2, 21.00),
               (app.current_workspace_id(), ${order.id}, 'SKU2', 'Other', 1.25, 1, 1.25)`;
      const [total] = await tx<
        { total: string }[]
      >`select total_value::text as total from orders where id = ${order.id}`;
      await tx`reset role`;
      return { found, total: total?.total, functions: callsSince(before, await functionCalls(tx)) };
    });
    // The work really went through the functions (so the counters below mean something)…
    expect(run.found.map((c) => c.phone)).toContain('+573209990001');
    expect(run.total).toBe('22.25');
    const names = run.functions.map((fn) => fn.name);
    for (const used of ['crm_name_city_keys', 'crm_name_city_probe', 'crm_phonetic_keys', 'order_total']) {
      expect(names).toContain(used);
    }
    // …and none of it was a SQL function parsed and planned per statement.
    expect(run.functions.filter((fn) => fn.language === 'sql')).toEqual([]);
  });

  it("claims the queue's events with no SQL-language function either (0026)", async () => {
    const run = await asRole(
      db.sql,
      'postgres',
    )(async (tx) => {
      await tx`set local track_functions = 'all'`;
      await applyTransactionSettings(tx, { ...WORKER_PLANNER_SETTINGS, role: 'app_worker' });
      const before = await functionCalls(tx);
      const claimed = await claimWebhookEvents(tx, 'sql-functions-test', 5, 30);
      await tx`reset role`;
      return { claimed, functions: callsSince(before, await functionCalls(tx)) };
    });
    // The fixtures' pending events were claimed, for this worker, an attempt counted on each.
    expect(run.claimed.length).toBeGreaterThan(0);
    expect(run.claimed.every((e) => e.attempts >= 1)).toBe(true);
    expect(run.functions).toEqual([{ name: 'claim_webhook_events', language: 'plpgsql', calls: 1 }]);
  });

  it('computes the same keys as the SQL bodies they replaced', async () => {
    // The stored keys of every existing contact (index on crm_name_city_keys, generated name_phonetic)
    // must not change with the language: compare with the old bodies, run inline here.
    const names = ['María José Pérez', 'Jon', 'Cristian Ximénez López Gómez', 'A', '', 'Ana  Ana'];
    const cities = ['Bogotá', '', 'Santa Marta'];
    for (const name of names) {
      for (const city of cities) {
        const [row] = await db.sql<{ same: boolean; keys: string[] }[]>`
          with w as (
            select u.i, u.word
            from unnest(string_to_array(app.crm_normalize(${name}::text), ' ')) with ordinality as u(word, i)
            where length(u.word) >= 2
          ),
          k as (
            select distinct w.i, x.k
            from w, lateral (values (dmetaphone(w.word)), (dmetaphone_alt(w.word))) as x(k)
            where x.k is not null and x.k <> ''
          ),
          tag as (select left(md5(c), 8) || ':' as t from app.crm_normalize(${city}::text) as c where c <> ''),
          n as (select count(*) as n from w),
          pairs as (
            select a.i <> b.i as cross_words, least(a.k, b.k) || '|' || greatest(a.k, b.k) as p
            from k as a join k as b on a.i < b.i or (a.i = b.i and a.k <= b.k)
          ),
          keys as (select distinct k.k from k),
          old as (
            select coalesce(array_agg(distinct tok), '{}') as keys
            from (
              select tag.t || '1:' || k.k as tok from tag, n, k where n.n = 1
              union all
              select tag.t || case when n.n = 2 then 'a' else 'b' end
                     || case when pairs.cross_words then 'x:' else 's:' end || pairs.p
              from tag, n, pairs where n.n >= 2
              union all
              select tag.t || 'T:' || a.k || '|' || b.k || '|' || c.k
              from tag, n, keys as a, keys as b, keys as c
              where n.n >= 3 and a.k <= b.k and b.k <= c.k
            ) as s
          ),
          old_phonetic as (
            select coalesce(array_agg(distinct k) filter (where k is not null and k <> ''), '{}') as keys
            from unnest(string_to_array(app.crm_normalize(${name}::text), ' ')) as w(word),
                 lateral (values (dmetaphone(w.word)), (dmetaphone_alt(w.word))) as keys(k)
            where length(w.word) >= 2
          )
          select app.crm_name_city_keys(${name}, ${city}) = old.keys
                 and app.crm_phonetic_keys(${name}) = old_phonetic.keys as same,
                 old.keys
          from old, old_phonetic`;
        expect(row?.same, `${name} / ${city}: ${row?.keys}`).toBe(true);
      }
    }
  });
});
