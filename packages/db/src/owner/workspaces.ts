import type { Queryable } from '../client.ts';

/** The user path: run inside `withUser` (role app_user, RLS by app.user_id). */

export type WorkspaceRole = 'owner' | 'admin' | 'agent';

export type MyWorkspace = { id: string; name: string; slug: string; role: WorkspaceRole };

export type Me = { id: string; email: string; name: string };

export async function getMe(tx: Queryable, userId: string): Promise<Me | null> {
  const [row] = await tx<Me[]>`select id, email, name from users where id = ${userId}`;
  return row ?? null;
}

/** The workspaces the user belongs to, with their role in each. */
export async function listMyWorkspaces(tx: Queryable, userId: string): Promise<MyWorkspace[]> {
  return tx<MyWorkspace[]>`
    select w.id, w.name, w.slug, m.role
    from workspace_members m join workspaces w on w.id = m.workspace_id
    where m.user_id = ${userId}
    order by w.name, w.id`;
}

/** The current user's role in a workspace, or null when they are not a member. */
export async function myWorkspaceRole(tx: Queryable, workspaceId: string): Promise<WorkspaceRole | null> {
  const [row] = await tx<
    { role: WorkspaceRole | null }[]
  >`select public.workspace_role(${workspaceId}) as role`;
  return row?.role ?? null;
}
