import type { Queryable } from '../client.ts';

/** How long a "Connect with Shopify" state nonce may be used after it was made. */
export const OAUTH_STATE_TTL_SECONDS = 10 * 60;

/** Records a state nonce (its hash) for the owner's session, workspace and shop. */
export async function createOAuthState(
  tx: Queryable,
  s: { nonceHash: Buffer; userId: string; workspaceId: string; sessionHash: Buffer; shopDomain: string },
): Promise<void> {
  await tx`delete from shopify_oauth_states where user_id = ${s.userId}
             and created_at < now() - make_interval(secs => ${OAUTH_STATE_TTL_SECONDS})`;
  await tx`
    insert into shopify_oauth_states (nonce_hash, user_id, workspace_id, session_hash, shop_domain)
    values (${s.nonceHash}, ${s.userId}, ${s.workspaceId}, ${s.sessionHash}, ${s.shopDomain})`;
}

export type OAuthState = { workspaceId: string; sessionHash: Buffer; shopDomain: string };

/**
 * Uses a state nonce once: the state if it exists, belongs to the calling user (RLS), is unused and
 * recent; null otherwise. A second use of the same nonce finds nothing.
 */
export async function consumeOAuthState(tx: Queryable, nonceHash: Buffer): Promise<OAuthState | null> {
  const [row] = await tx<OAuthState[]>`
    update shopify_oauth_states set used_at = now()
    where nonce_hash = ${nonceHash} and used_at is null
      and created_at > now() - make_interval(secs => ${OAUTH_STATE_TTL_SECONDS})
    returning workspace_id as "workspaceId", session_hash as "sessionHash", shop_domain as "shopDomain"`;
  return row ?? null;
}
