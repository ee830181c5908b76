import type { AppDeps } from '../deps.ts';

/** Puts one event of the workspace back to pending and enqueues it. STUB — issue #4. */
export async function replayEvent(
  _deps: AppDeps,
  _input: { workspaceId: string; eventId: string },
): Promise<void> {
  throw new Error('replayEvent: not implemented yet');
}

/** Replays every failed event of the workspace; returns how many. STUB — issue #4. */
export async function replayFailedEvents(_deps: AppDeps, _input: { workspaceId: string }): Promise<number> {
  throw new Error('replayFailedEvents: not implemented yet');
}
