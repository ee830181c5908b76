/**
 * PostgreSQL baselines measured with pgbench on the same cluster: the single-row insert-commit rate
 * with a row like a webhook event (unique external id, the same payload bytes, a jsonb of headers),
 * and the webhook route's own transaction replayed by pgbench (the database's share of an ack).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Sql } from '@crm/db';

const run = promisify(execFile);

export const PGBENCH = process.env.PGBENCH ?? '/usr/bin/pgbench';

/** Base64, because pgbench would read the colons of JSON as :variables. */
function payloadExpression(payload: string): string {
  return `convert_from(decode('${Buffer.from(payload, 'utf8').toString('base64')}', 'base64'), 'UTF8')`;
}

async function pgbench(url: string, script: string, clients: number, seconds: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'crm-pgbench-'));
  try {
    const file = join(dir, 'script.sql');
    await writeFile(file, script);
    const u = new URL(url);
    const { stdout } = await run(
      PGBENCH,
      [
        '-n',
        '-M',
        'prepared',
        '-c',
        String(clients),
        '-j',
        String(Math.min(2, clients)),
        '-T',
        String(seconds),
        '-f',
        file,
        '-h',
        u.hostname,
        '-p',
        u.port || '5432',
        '-U',
        decodeURIComponent(u.username || 'postgres'),
        decodeURIComponent(u.pathname.slice(1)),
      ],
      { env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) }, timeout: (seconds + 30) * 1000 },
    );
    const m = /tps = ([0-9.]+) \(without initial connection time\)/.exec(stdout);
    if (!m?.[1]) throw new Error(`pgbench printed no tps:\n${stdout}`);
    return Number(m[1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One INSERT of one row per transaction (autocommit), `clients` connections. */
export async function pgbenchInsertTps(
  sql: Sql,
  url: string,
  options: { clients: number; seconds: number; payload: string },
): Promise<number> {
  await sql`
    create table if not exists bench_pgbench_insert (
      id bigserial primary key,
      external_id text not null unique,
      payload text not null,
      headers jsonb not null,
      received_at timestamptz not null default now())`;
  try {
    return await pgbench(
      url,
      `\\set r random(1, 1000000000)
insert into bench_pgbench_insert (external_id, payload, headers) values ('pgb-' || :client_id || '-' || :r || '-' || txid_current(), ${payloadExpression(options.payload)}, jsonb_build_object('x-shopify-topic', 'orders/create'));
`,
      options.clients,
      options.seconds,
    );
  } finally {
    await sql`drop table if exists bench_pgbench_insert`;
  }
}

/**
 * The webhook route's transaction as SQL (see apps/api/src/webhooks/route.ts and @crm/db/worker):
 * role switch, integration by shop domain, act for the workspace, insert the event and enqueue its job
 * in one statement (graphile-worker add_job through app.enqueue_webhook_event), commit. Its events are
 * deleted after.
 */
export async function pgbenchWebhookTxTps(
  sql: Sql,
  url: string,
  options: {
    clients: number;
    seconds: number;
    payload: string;
    workspaceId: string;
    integrationId: string;
    /** job: as the route (add_job); notify: a bare NOTIFY instead; none: the event row only */
    enqueue: 'job' | 'notify' | 'none';
  },
): Promise<number> {
  const insert = `insert into webhook_events (workspace_id, integration_id, external_id, event_id, topic, shop_domain, api_version, triggered_at, payload, headers) values (app.current_workspace_id(), '${options.integrationId}', 'pgb-' || :client_id || '-' || :r || '-' || txid_current(), null, 'orders/create', 'demo-store.myshopify.com', '2025-10', now(), ${payloadExpression(options.payload)}, jsonb_build_object('x-shopify-topic', 'orders/create')) on conflict (integration_id, external_id) do nothing returning id`;
  // As the route did before group commit: one statement inserts the event and enqueues its job.
  const statement = {
    job: `with inserted as (${insert}) select id, app.enqueue_webhook_event(id) from inserted;`,
    notify: `with inserted as (${insert}) select id, pg_notify('bench_jobs_insert', '{}') from inserted;`,
    none: `${insert};`,
  }[options.enqueue];
  try {
    return await pgbench(
      url,
      `\\set r random(1, 1000000000)
begin;
select set_config('role', 'app_worker', true), set_config('app.workspace_id', '', true);
select id, workspace_id, is_active, webhook_secret_enc from integrations where type = 'shopify' and config ->> 'shopDomain' is not null and lower(config ->> 'shopDomain') = lower('demo-store.myshopify.com');
select set_config('role', 'app_worker', true), set_config('app.workspace_id', '${options.workspaceId}', true);
${statement}
commit;
`,
      options.clients,
      options.seconds,
    );
  } finally {
    await sql`
      delete from graphile_worker._private_jobs j using webhook_events e
      where e.external_id like 'pgb-%' and j.key = 'webhook_event:' || e.id::text`;
    await sql`delete from webhook_events where external_id like 'pgb-%'`;
  }
}
