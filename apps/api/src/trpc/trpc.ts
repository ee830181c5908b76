import { type Db, SecretDecryptionError, type Tx, withAuth, withUser } from '@crm/db';
import { type ActiveSession, myWorkspaceRole, touchSession, type WorkspaceRole } from '@crm/db/owner';
import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError, z } from 'zod';
import { checkMutationRequest } from '../auth/csrf.ts';
import {
  clearedSessionCookie,
  hashSessionToken,
  readSessionToken,
  SESSION_TOUCH_AFTER_SECONDS,
  SESSION_TTL_SECONDS,
} from '../auth/session.ts';
import type { AppDeps } from '../deps.ts';

/** What every procedure sees: the app's dependencies and the HTTP exchange. */
export type TRPCContext = {
  deps: AppDeps;
  headers: Headers;
  /** Response headers: Set-Cookie goes here. */
  resHeaders: Headers;
  ip: string;
  userAgent: string | null;
  /** The session token of the request's cookie, if it has one shaped like ours. */
  sessionToken: string | null;
  /** The live session (looked up once per request, sliding its expiry), or null. */
  getSession: () => Promise<ActiveSession | null>;
};

export function createTRPCContext(input: {
  deps: AppDeps;
  headers: Headers;
  resHeaders: Headers;
  ip: string;
}): TRPCContext {
  const { deps, headers, resHeaders } = input;
  const sessionToken = readSessionToken(headers.get('cookie'));
  let session: Promise<ActiveSession | null> | null = null;
  return {
    deps,
    headers,
    resHeaders,
    ip: input.ip,
    userAgent: headers.get('user-agent'),
    sessionToken,
    getSession: () => {
      session ??= (async () => {
        if (!sessionToken) return null;
        const found = await withAuth(deps.sql, (tx) =>
          touchSession(tx, {
            tokenHash: hashSessionToken(sessionToken),
            ttlSeconds: SESSION_TTL_SECONDS,
            touchAfterSeconds: SESSION_TOUCH_AFTER_SECONDS,
          }),
        );
        // A cookie of a session that is gone (expired, logged out) is cleared.
        if (!found) resHeaders.append('set-cookie', clearedSessionCookie(deps.config.secureCookies));
        return found;
      })();
      return session;
    },
  };
}

export type TRPCMeta = {
  /** The FORBIDDEN message of an owner-only procedure. */
  ownerOnly?: string;
};

const INTERNAL_MESSAGE =
  'Something went wrong on the server. Try again; if it keeps failing, check the server logs.';

function zodMessage(error: ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

const t = initTRPC
  .context<TRPCContext>()
  .meta<TRPCMeta>()
  .create({
    isDev: false,
    errorFormatter({ shape, error }) {
      const zodError = error.code === 'BAD_REQUEST' && error.cause instanceof ZodError ? error.cause : null;
      const message =
        error.code === 'INTERNAL_SERVER_ERROR' && !(error.cause instanceof SafeMessageError)
          ? INTERNAL_MESSAGE
          : zodError
            ? zodMessage(zodError)
            : shape.message;
      return {
        message,
        code: shape.code,
        data: {
          code: shape.data.code,
          httpStatus: shape.data.httpStatus,
          ...(shape.data.path !== undefined ? { path: shape.data.path } : {}),
          zodError: zodError ? z.flattenError(zodError) : null,
          // The input path a refusal is about (e.g. `clientSecret`; for invalid input, the first issue's
          // path such as `config.shopDomain`), so a form shows it beside that field.
          field: zodError ? zodField(zodError) : fieldOf(error.cause),
        },
      };
    },
  });

function zodField(error: ZodError): string | null {
  const path = error.issues[0]?.path ?? [];
  return path.length > 0 ? path.map(String).join('.') : null;
}

function fieldOf(cause: unknown): string | null {
  if (!cause || typeof cause !== 'object' || !('field' in cause)) return null;
  return typeof cause.field === 'string' ? cause.field : null;
}

/** An internal error whose message is written for the user and known to carry no secret. */
export class SafeMessageError extends Error {}

type PgError = Error & { code: string; constraint_name?: string };
function isPgError(e: unknown): e is PgError {
  return (
    e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && e.name === 'PostgresError'
  );
}

/** Database and other known errors, in words a user understands and with no values in them. */
export function mapError(error: unknown): TRPCError | null {
  if (error instanceof TRPCError) return error;
  if (isPgError(error)) {
    switch (error.code) {
      case '23505':
        if (error.constraint_name === 'integrations_shop_domain_key') {
          return new TRPCError({
            code: 'CONFLICT',
            message: 'This Shopify store is already connected to another workspace.',
          });
        }
        return new TRPCError({
          code: 'CONFLICT',
          message: 'This would duplicate something that must be unique.',
        });
      case '23503':
        return new TRPCError({
          code: 'BAD_REQUEST',
          message: 'This refers to something that does not exist (or no longer does).',
        });
      case '22021': // a character not in the encoding (NUL in text)
      case '22P05': // an untranslatable character (NUL in jsonb)
      case '22001': // too long for the column
      case '23514':
      case '22P02':
      case '22007':
      case '22008':
        return new TRPCError({ code: 'BAD_REQUEST', message: 'A value is not valid for this field.' });
      case '42501':
        return new TRPCError({
          code: 'FORBIDDEN',
          message: 'You are not allowed to do this in this workspace.',
        });
      case '40001':
      case '40P01':
        return new TRPCError({
          code: 'CONFLICT',
          message: 'Someone else changed this at the same time; try again.',
        });
      default:
        return null;
    }
  }
  if (error instanceof SecretDecryptionError) {
    return new TRPCError({
      code: 'INTERNAL_SERVER_ERROR',
      message: error.message,
      cause: new SafeMessageError(),
    });
  }
  return null;
}

export const router = t.router;

/** Maps known errors, logs unknown ones (message only), and never lets a raw error message out. */
const errorMapping = t.middleware(async ({ ctx, path, next }) => {
  const result = await next();
  if (result.ok) return result;
  const cause = result.error.cause ?? result.error;
  const mapped = result.error.code === 'INTERNAL_SERVER_ERROR' ? mapError(cause) : null;
  if (mapped && mapped !== cause) throw mapped;
  if (result.error.code === 'INTERNAL_SERVER_ERROR' && !(result.error.cause instanceof SafeMessageError)) {
    ctx.deps.log.error('trpc procedure failed', {
      path,
      error: cause instanceof Error ? cause.message : String(cause),
      pgCode: isPgError(cause) ? cause.code : undefined,
    });
  }
  return result;
});

/** Mutations must carry the custom header and come from this site. */
const csrf = t.middleware(({ ctx, type, next }) => {
  if (type === 'mutation') {
    const verdict = checkMutationRequest(ctx.headers, ctx.deps.config.publicUrl);
    if (!verdict.ok) throw new TRPCError({ code: 'FORBIDDEN', message: verdict.message });
  }
  return next();
});

/**
 * Where in an input a string (or a key) holds a character PostgreSQL cannot store in text or jsonb
 * (NUL, U+0000), as a dotted path ('' for the input itself); null when there is none.
 */
export function findUnstorableText(value: unknown, path = '', depth = 0): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value === null || typeof value !== 'object' || depth > 32) return null;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [key, item] of entries) {
    const at = path ? `${path}.${key}` : key;
    if (key.includes('\u0000')) return at;
    const found = findUnstorableText(item, at, depth + 1);
    if (found !== null) return found;
  }
  return null;
}

/** Every input, before any procedure sees it: no text the database would refuse (a clear 400, not a 500). */
const storableText = t.middleware(async ({ getRawInput, next }) => {
  // An input that cannot be read at all is left to the procedure (one without input never reads it).
  const raw = await getRawInput().catch(() => undefined);
  const at = findUnstorableText(raw);
  if (at !== null) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: `${at ? `${at}: ` : ''}Text may not contain the NUL character (U+0000).`,
    });
  }
  return next();
});

export const publicProcedure = t.procedure.use(errorMapping).use(storableText).use(csrf);

/** A signed-in user (a live session). */
export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const session = await ctx.getSession();
  if (!session) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' });
  return next({ ctx: { session, userId: session.userId } });
});

export const NOT_A_MEMBER = 'Workspace not found, or you are not a member of it.';
export const OWNER_ONLY = 'Only the workspace owner can change the Shopify integration.';

const workspaceInput = z.object({ workspaceId: z.uuid() });

/**
 * A procedure of one workspace: its resolver runs inside one `withUser` transaction (ctx.tx), so
 * row-level security applies to everything it touches; ctx.role is the user's role there. An error
 * rolls the transaction back.
 */
export const workspaceProcedure = authedProcedure.input(workspaceInput).use(async ({ ctx, input, next }) => {
  return withUser(ctx.deps.sql, ctx.userId, async (tx: Tx) => {
    const role = await myWorkspaceRole(tx, input.workspaceId);
    if (!role) throw new TRPCError({ code: 'NOT_FOUND', message: NOT_A_MEMBER });
    const result = await next({ ctx: { tx, role, workspaceId: input.workspaceId } });
    if (!result.ok) throw result.error;
    return result;
  });
});

/** Owner-only: FORBIDDEN with a clear message for admins and agents. */
export const ownerProcedure = workspaceProcedure.use(({ ctx, meta, next }) => {
  if (ctx.role !== 'owner')
    throw new TRPCError({ code: 'FORBIDDEN', message: meta?.ownerOnly ?? OWNER_ONLY });
  return next();
});

export type RunAsUser = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;

function runAs(sql: Db, userId: string): RunAsUser {
  return (fn) => withUser(sql, userId, fn);
}

/**
 * Owner-only procedures that call Shopify or other slow services: the role is checked in its own
 * short transaction, and the resolver opens `withUser` transactions (ctx.db) around its database
 * work, so no transaction stays open during a network call.
 */
export const ownerActionProcedure = authedProcedure
  .input(workspaceInput)
  .use(async ({ ctx, input, meta, next }) => {
    const db = runAs(ctx.deps.sql, ctx.userId);
    const role: WorkspaceRole | null = await db((tx) => myWorkspaceRole(tx, input.workspaceId));
    if (!role) throw new TRPCError({ code: 'NOT_FOUND', message: NOT_A_MEMBER });
    if (role !== 'owner') throw new TRPCError({ code: 'FORBIDDEN', message: meta?.ownerOnly ?? OWNER_ONLY });
    return next({ ctx: { db, role, workspaceId: input.workspaceId } });
  });
