/**
 * Test support for the tRPC API: a typed tRPC client (`createTRPCClient<AppRouter>`, httpLink, no
 * transformer) whose fetch keeps the session cookie like a browser, and the arranging of a second
 * workspace for the tenant-isolation tests. Everything goes over real HTTP to the running Hono app.
 * `client.api.integrations.save.mutate(input)` is typed by the router: a renamed procedure, a
 * changed input or output is a type error in the tests.
 */
import { DEMO_PASSWORD, type EncryptionKey, encryptSecret, type Sql, seed } from '@crm/db';
import type { TestDatabase } from '@crm/db/testing';
import { createTRPCClient, httpLink, type TRPCClient, type TRPCLink } from '@trpc/client';
import type { AnyProcedure, inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { observable } from '@trpc/server/observable';
import type { AppConfig } from '../src/config.ts';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import type { AppRouter } from '../src/trpc/root.ts';

export type TrpcError = { message: string; code: number; data: { code: string; httpStatus: number } };
/** What each procedure takes and returns. */
export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** A settled call: its data or its error, with the raw body and the Set-Cookie headers of its response. */
export type TrpcResponse<T = unknown> =
  | { ok: true; status: number; data: T; raw: string; setCookie: string[] }
  | { ok: false; status: number; error: TrpcError; raw: string; setCookie: string[] };

export type ClientOptions = {
  /** Send the CSRF header on mutations (default true). */
  csrfHeader?: boolean;
  /** Extra headers on every request (e.g. Origin). */
  headers?: Record<string, string>;
};

/** Every raw response body any client saw, for the secret scans. */
export const transcript: { path: string; raw: string }[] = [];

type Recorded = { raw: string; setCookie: string[] };
/** What each response carried, read by the fetch before tRPC parses the body. */
const recorded = new WeakMap<Response, Recorded>();
/** Per call, through tRPC's operation context: the response that answered it. */
type Capture = { response?: Response };

/** Hands each call's Response (success or error) to the Capture in its context. */
const captureLink: TRPCLink<AppRouter> =
  () =>
  ({ op, next }) =>
    observable((observer) => {
      const capture = op.context.capture as Capture | undefined;
      return next(op).subscribe({
        next(value) {
          if (capture) capture.response = value.context?.response as Response | undefined;
          observer.next(value);
        },
        error(err) {
          if (capture) capture.response = err.meta?.response as Response | undefined;
          observer.error(err);
        },
        complete() {
          observer.complete();
        },
      });
    });

/** A procedure's call that settles to a TrpcResponse instead of throwing. */
type Settled<I, O> = undefined extends I
  ? (input?: I) => Promise<TrpcResponse<O>>
  : (input: I) => Promise<TrpcResponse<O>>;
/** The typed client with every query/mutate settled. */
export type Api<C> = {
  [K in keyof C]: C[K] extends { query: (input: infer I, ...rest: never[]) => Promise<infer O> }
    ? { query: Settled<I, O> }
    : C[K] extends { mutate: (input: infer I, ...rest: never[]) => Promise<infer O> }
      ? { mutate: Settled<I, O> }
      : Api<C[K]>;
};

type PathsOf<R, P extends string = ''> = {
  [K in keyof R & string]: R[K] extends AnyProcedure ? `${P}${K}` : PathsOf<R[K], `${P}${K}.`>;
}[keyof R & string];
/** Every procedure's path, e.g. 'integrations.save'. */
export type ProcedurePath = PathsOf<AppRouter['_def']['record']>;

export class TrpcClient {
  cookie: string | null = null;
  /** The tRPC client itself: throws TRPCClientError on a refusal. */
  readonly trpc: TRPCClient<AppRouter>;
  /** The same procedures, each call settled to a TrpcResponse (data or error, raw body, cookies). */
  readonly api: Api<TRPCClient<AppRouter>>;

  constructor(
    readonly baseUrl: string,
    readonly options: ClientOptions = {},
  ) {
    this.trpc = createTRPCClient<AppRouter>({
      links: [
        captureLink,
        httpLink({
          url: `${baseUrl}/trpc`,
          headers: ({ op }) => ({
            ...this.options.headers,
            ...(op.type === 'mutation' && this.options.csrfHeader !== false
              ? { 'x-trpc-source': 'test' }
              : {}),
          }),
          fetch: (url, init) => this.fetch(String(url), init),
        }),
      ],
    });
    this.api = settledProxy((path, input) => this.settle(path, input), []) as Api<TRPCClient<AppRouter>>;
  }

  /** fetch with the session cookie kept like a browser's; records the raw body and Set-Cookie. */
  private async fetch(url: string, init?: RequestInit): Promise<Response> {
    const headers = new Headers(init?.headers);
    if (this.cookie) headers.set('cookie', `crm_session=${this.cookie}`);
    const res = await fetch(url, { ...init, headers });
    const raw = await res.clone().text();
    transcript.push({ path: new URL(url).pathname.replace(/^\/trpc\//, ''), raw });
    const setCookie = res.headers.getSetCookie();
    for (const c of setCookie) {
      const m = /^crm_session=([^;]*)/.exec(c);
      if (!m) continue;
      this.cookie = m[1] && !/Max-Age=0/i.test(c) ? m[1] : null;
    }
    recorded.set(res, { raw, setCookie });
    return res;
  }

  /** Calls a procedure by path and settles it (the typed `api` and the access matrix use this). */
  async call(type: 'query' | 'mutation', path: ProcedurePath, input?: unknown): Promise<TrpcResponse> {
    return this.settle(path.split('.'), input, type);
  }

  private async settle(path: string[], input: unknown, type?: 'query' | 'mutation'): Promise<TrpcResponse> {
    let node: unknown = this.trpc;
    for (const key of path.slice(0, type ? path.length : -1)) node = (node as Record<string, unknown>)[key];
    const method = type ? (type === 'query' ? 'query' : 'mutate') : (path[path.length - 1] ?? '');
    const run = (node as Record<string, (input: unknown, opts: unknown) => Promise<unknown>>)[method];
    if (typeof run !== 'function') throw new Error(`no procedure ${path.join('.')}`);
    const capture: Capture = {};
    let data: unknown;
    let failure: unknown = null;
    try {
      data = await run(input, { context: { capture } });
    } catch (error) {
      failure = error;
    }
    const response = capture.response;
    const seen = response ? recorded.get(response) : undefined;
    if (!response || !seen) throw failure ?? new Error('no response recorded');
    const { raw, setCookie } = seen;
    if (failure) {
      const body = JSON.parse(raw) as { error?: TrpcError };
      if (!body.error) throw failure;
      return { ok: false, status: response.status, error: body.error, raw, setCookie };
    }
    return { ok: true, status: response.status, data, raw, setCookie };
  }

  login(email: string, password = DEMO_PASSWORD) {
    return this.api.auth.login.mutate({ email, password });
  }
}

/** A proxy that collects property names and calls `settle(path, input)` when called. */
function settledProxy(
  settle: (path: string[], input: unknown) => Promise<TrpcResponse>,
  path: string[],
): unknown {
  return new Proxy(() => {}, {
    get: (_target, key) => (typeof key === 'string' ? settledProxy(settle, [...path, key]) : undefined),
    apply: (_target, _this, args: unknown[]) => settle(path, args[0]),
  });
}

/** The data of a successful call, or a thrown error saying what came back instead. */
export function ok<T>(r: TrpcResponse<T>): T {
  if (!r.ok) throw new Error(`expected success, got ${r.status} ${r.error.data.code}: ${r.error.message}`);
  return r.data;
}

/** The tRPC error code of a failed call, or 'OK'. */
export function codeOf(r: TrpcResponse): string {
  return r.ok ? 'OK' : r.error.data.code;
}

export type World = {
  app: TestApp;
  demo: {
    workspaceId: string;
    outletId: string;
    integrationId: string;
    pipelineId: string;
    stageIds: string[];
  };
  other: {
    workspaceId: string;
    integrationId: string;
    token: string;
    secret: string;
    marker: string;
  };
  /** Plaintext credentials stored anywhere in the database (for the scans). */
  plaintextSecrets: string[];
};

export const DEMO_TOKEN = 'shpat_0000000000_demo_store_token';
export const DEMO_SECRET = 'demo-webhook-secret';

/**
 * Seeds the Demo Store and a second workspace ("Other Co", owner other@other.test) with an
 * integration, a contact, an order, an event, a review and a reconcile run of its own.
 */
export async function arrangeWorld(db: TestDatabase, overrides: Partial<AppConfig> = {}): Promise<World> {
  await seed(db.sql, { key: db.key, accessToken: DEMO_TOKEN, webhookSecret: DEMO_SECRET });
  const app = await startTestApp(db, overrides);
  const sql = db.sql;
  const [demo] = await sql<{ id: string }[]>`select id from workspaces where slug = 'demo-store'`;
  const [outlet] = await sql<{ id: string }[]>`select id from workspaces where slug = 'demo-outlet'`;
  if (!demo || !outlet) throw new Error('seed missing');
  const [integration] = await sql<
    { id: string }[]
  >`select id from integrations where workspace_id = ${demo.id}`;
  const [pipeline] = await sql<{ id: string }[]>`select id from pipelines where workspace_id = ${demo.id}`;
  if (!integration || !pipeline) throw new Error('seed missing');
  const stages = await sql<{ id: string }[]>`
    select id from pipeline_stages where pipeline_id = ${pipeline.id} order by position`;

  const other = await arrangeOtherWorkspace(sql, db.key);
  return {
    app,
    demo: {
      workspaceId: demo.id,
      outletId: outlet.id,
      integrationId: integration.id,
      pipelineId: pipeline.id,
      stageIds: stages.map((s) => s.id),
    },
    other,
    plaintextSecrets: [DEMO_TOKEN, DEMO_SECRET, other.token, other.secret],
  };
}

async function arrangeOtherWorkspace(sql: Sql, key: EncryptionKey): Promise<World['other']> {
  const marker = 'Zyxwv-Other-Marker';
  const token = 'shpat_other_company_9f8e7d6c5b4a';
  const secret = 'other-webhook-secret-1a2b3c4d';
  const [user] = await sql<{ id: string }[]>`
    insert into users (email, name, password_hash)
    select 'other@other.test', ${`${marker} Owner`}, password_hash from users where email = 'owner@demo.test'
    returning id`;
  const [ws] = await sql<{ id: string }[]>`
    insert into workspaces (name, slug) values (${`${marker} Co`}, 'other-co') returning id`;
  if (!user || !ws) throw new Error('other workspace not created');
  await sql`insert into workspace_members (workspace_id, user_id, role) values (${ws.id}, ${user.id}, 'owner')`;
  const [pipeline] = await sql<{ id: string }[]>`
    insert into pipelines (workspace_id, name) values (${ws.id}, ${`${marker} Pipeline`}) returning id`;
  if (!pipeline) throw new Error('pipeline');
  const [stage] = await sql<{ id: string }[]>`
    insert into pipeline_stages (workspace_id, pipeline_id, name, position)
    values (${ws.id}, ${pipeline.id}, ${`${marker} Stage`}, 0) returning id`;
  if (!stage) throw new Error('stage');
  const [integration] = await sql<{ id: string }[]>`
    insert into integrations (workspace_id, type, name, config, access_token_enc, access_token_last4,
                              webhook_secret_enc, webhook_secret_last4, credentials_tested_at)
    values (${ws.id}, 'shopify', ${`${marker} Shopify`},
            ${sql.json({ shopDomain: 'other-co.myshopify.com', pipelineId: pipeline.id, stageId: stage.id })},
            ${encryptSecret(token, key)}, ${token.slice(-4)}, ${encryptSecret(secret, key)}, ${secret.slice(-4)},
            now())
    returning id`;
  if (!integration) throw new Error('integration');
  const [c1] = await sql<{ id: string }[]>`
    insert into contacts (workspace_id, name, phone, email, city)
    values (${ws.id}, ${`${marker} Contact`}, '+573009990001', 'zyxwv@other.test', 'Pasto') returning id`;
  const [c2] = await sql<{ id: string }[]>`
    insert into contacts (workspace_id, name, phone, city)
    values (${ws.id}, ${`${marker} Contacto`}, '+573009990002', 'Pasto') returning id`;
  if (!c1 || !c2) throw new Error('contacts');
  const [order] = await sql<{ id: string }[]>`
    insert into orders (workspace_id, contact_id, pipeline_id, stage_id, integration_id, description,
                        shopify_order_id, shopify_order_name)
    values (${ws.id}, ${c2.id}, ${pipeline.id}, ${stage.id}, ${integration.id}, ${`${marker} order`},
            '9007199254740993', '#9901')
    returning id`;
  if (!order) throw new Error('order');
  await sql`
    insert into order_products (workspace_id, order_id, sku, title, unit_price, quantity, subtotal)
    values (${ws.id}, ${order.id}, 'ZYX-1', ${`${marker} Product`}, 10, 1, 10)`;
  await sql`
    insert into webhook_events (workspace_id, integration_id, external_id, topic, shop_domain, payload, status,
                                last_error)
    values (${ws.id}, ${integration.id}, 'other-wh-1', 'orders/create', 'other-co.myshopify.com',
            ${`{"marker":"${marker}"}`}, 'failed', ${`${marker} error`})`;
  await sql`
    insert into contact_reviews (workspace_id, order_id, contact_id, candidate_contact_id, reasons)
    values (${ws.id}, ${order.id}, ${c2.id}, ${c1.id}, ${[`${marker} reason`]})`;
  await sql`
    insert into reconcile_runs (workspace_id, integration_id, since, status, error)
    values (${ws.id}, ${integration.id}, now() - interval '1 day', 'failed', ${`${marker} run`})`;
  return { workspaceId: ws.id, integrationId: integration.id, token, secret, marker };
}

/** Ciphertexts currently stored for every integration (they change on every save). */
export async function storedCiphertexts(sql: Sql): Promise<string[]> {
  const rows = await sql<{ a: string | null; b: string | null; c: string | null }[]>`
    select access_token_enc as a, webhook_secret_enc as b, webhook_secret_previous_enc as c from integrations`;
  return rows.flatMap((r) => [r.a, r.b, r.c]).filter((x): x is string => x !== null);
}

/** Signs in a fresh client. */
export async function signedIn(
  app: TestApp,
  email: string,
  options: ClientOptions = {},
): Promise<TrpcClient> {
  const client = new TrpcClient(app.url, options);
  ok(await client.login(email));
  return client;
}
