/** Why a member who is not the owner sees the integration page read-only. */
export const READ_ONLY_REASON = 'Only the workspace owner can change this integration.';
