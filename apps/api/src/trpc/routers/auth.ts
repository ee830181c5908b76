import { withUser } from '@crm/db';
import { getMe, listMyWorkspaces } from '@crm/db/owner';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { login, logout } from '../../auth/login.ts';
import { clearedSessionCookie, sessionCookie } from '../../auth/session.ts';
import { type ThrottleRefusal, waitInWords } from '../../auth/throttle.ts';
import { okSchema, roleSchema } from '../schemas.ts';
import { authedProcedure, publicProcedure, router } from '../trpc.ts';

export const meSchema = z.object({
  user: z.object({ id: z.uuid(), email: z.string(), name: z.string() }),
  workspaces: z.array(z.object({ id: z.uuid(), name: z.string(), slug: z.string(), role: roleSchema })),
});

function throttleMessage(reason: ThrottleRefusal['reason'] | 'busy', seconds: number): string {
  const wait = `Try again in ${waitInWords(seconds)}.`;
  switch (reason) {
    case 'busy':
      return 'Too many sign-ins are under way right now. Try again in a few seconds.';
    case 'throttled_source':
      return `Too many failed sign-in attempts for this account from your network. ${wait}`;
    case 'throttled_account':
      return `Too many failed sign-in attempts for this account. ${wait}`;
    case 'throttled_ip':
      return `Too many failed sign-in attempts from your network. ${wait}`;
  }
}

export const authRouter = router({
  /** Email + password → a new session cookie. Throttled per account and per address. */
  login: publicProcedure
    .input(
      z.object({
        email: z.string().trim().toLowerCase().min(3).max(320),
        password: z.string().min(1).max(1024),
      }),
    )
    .output(meSchema)
    .mutation(async ({ ctx, input }) => {
      const outcome = await login(ctx.deps.sql, {
        email: input.email,
        password: input.password,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        previousToken: ctx.sessionToken,
      });
      if (!outcome.ok) {
        if (outcome.reason === 'invalid_credentials') {
          throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Wrong email or password.' });
        }
        const retryAfter = outcome.reason === 'busy' ? 5 : outcome.retryAfterSeconds;
        ctx.resHeaders.set('retry-after', String(retryAfter));
        throw new TRPCError({
          code: 'TOO_MANY_REQUESTS',
          message: throttleMessage(outcome.reason, retryAfter),
        });
      }
      ctx.resHeaders.append('set-cookie', sessionCookie(outcome.token, ctx.deps.config.secureCookies));
      return withUser(ctx.deps.sql, outcome.userId, async (tx) => {
        const user = await getMe(tx, outcome.userId);
        if (!user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' });
        return { user, workspaces: await listMyWorkspaces(tx, outcome.userId) };
      });
    }),

  /** Deletes the session and clears the cookie. Works (and is a no-op) without a session. */
  logout: publicProcedure.output(okSchema).mutation(async ({ ctx }) => {
    if (ctx.sessionToken) await logout(ctx.deps.sql, ctx.sessionToken);
    ctx.resHeaders.append('set-cookie', clearedSessionCookie(ctx.deps.config.secureCookies));
    return { ok: true as const };
  }),

  /** The signed-in user and their workspaces (with role). UNAUTHORIZED without a session. */
  me: authedProcedure.output(meSchema).query(async ({ ctx }) =>
    withUser(ctx.deps.sql, ctx.userId, async (tx) => {
      const user = await getMe(tx, ctx.userId);
      if (!user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to continue.' });
      return { user, workspaces: await listMyWorkspaces(tx, ctx.userId) };
    }),
  ),
});
