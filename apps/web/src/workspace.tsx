import { createContext, useContext } from 'react';
import type { RouterOutputs } from './trpc.ts';

export type Me = RouterOutputs['auth']['me'];
export type Workspace = Me['workspaces'][number];

export const WorkspaceContext = createContext<{ workspace: Workspace; me: Me } | null>(null);

export function useWorkspace(): { workspace: Workspace; me: Me; isOwner: boolean } {
  const value = useContext(WorkspaceContext);
  if (!value) throw new Error('useWorkspace outside the app shell');
  return { ...value, isOwner: value.workspace.role === 'owner' };
}

const KEY = 'crm.workspaceId';

export function storedWorkspaceId(): string | null {
  try {
    return window.localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function storeWorkspaceId(id: string): void {
  try {
    window.localStorage.setItem(KEY, id);
  } catch {
    // private mode: the choice lasts this page only
  }
}
