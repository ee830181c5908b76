import type { AppRouter } from '@crm/api/router';
import { QueryCache, QueryClient } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type RouterInputs = inferRouterInputs<AppRouter>;

function isUnauthorized(error: unknown): boolean {
  return error instanceof TRPCClientError && error.data?.code === 'UNAUTHORIZED';
}

/** The one QueryClient of the app. */
export const queryClient: QueryClient = new QueryClient({
  queryCache: new QueryCache({
    // A session that ended (expired, logged out elsewhere): ask who we are again, which shows the login.
    onError: (error, query) => {
      if (isUnauthorized(error) && query.queryKey[0]?.toString() !== 'auth,me') {
        void queryClient.invalidateQueries({ queryKey: [['auth', 'me']] });
      }
    },
  }),
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      refetchOnWindowFocus: true,
      // Retrying a missing session, a refusal or a bad input never helps.
      retry: (count, error) =>
        count < 2 &&
        !(error instanceof TRPCClientError && typeof error.data?.httpStatus === 'number'
          ? error.data.httpStatus < 500
          : false),
    },
    mutations: { retry: false },
  },
});

/** The one tRPC client: batched, same-origin cookies, and the header every mutation must carry. */
export const trpcClient = createTRPCClient<AppRouter>({
  links: [
    httpBatchLink({
      url: '/trpc',
      // The server refuses a batch of more than 16 calls (apps/api/src/security.ts).
      maxItems: 16,
      headers: () => ({ 'x-trpc-source': 'web' }),
      fetch: (input, init) => fetch(input, { ...init, credentials: 'same-origin' }),
    }),
  ],
});

/** Query and mutation options for every procedure, typed by the router: `trpc.events.list.queryOptions(...)`. */
export const trpc = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });

export { isUnauthorized };
