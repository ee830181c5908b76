import { TRPCClientError } from '@trpc/client';

/** What a failed call says, in the server's words (its messages are written for users). */
export function errorMessage(error: unknown): string {
  if (error instanceof TRPCClientError) {
    if (error.message === 'Failed to fetch' || error.message.includes('NetworkError'))
      return 'The server cannot be reached. Check your connection and try again.';
    return error.message;
  }
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}

export function errorCode(error: unknown): string | null {
  if (error instanceof TRPCClientError) {
    const code: unknown = error.data?.code;
    return typeof code === 'string' ? code : null;
  }
  return null;
}

/**
 * Field errors of a failed call. Input validation errors arrive as "path: message; path: message"
 * (nested paths dotted, e.g. config.shopDomain); the last path segment names the field. Messages
 * without a path land under "" (the form).
 */
export function fieldErrors(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(error instanceof TRPCClientError)) return out;
  const zodError: unknown = error.data?.zodError;
  if (!zodError || errorCode(error) !== 'BAD_REQUEST') return out;
  for (const part of error.message.split('; ')) {
    const m = /^([A-Za-z0-9_.]+): (.+)$/.exec(part);
    if (m?.[1] && m[2]) {
      const field = m[1].split('.').pop() ?? m[1];
      out[field] = out[field] ? `${out[field]} ${m[2]}` : m[2];
    } else {
      out[''] = out[''] ? `${out['']} ${part}` : part;
    }
  }
  return out;
}

/**
 * The input path a refusal is about, as the server names it (`data.field`, e.g. `clientSecret` or
 * `config.shopDomain`): a form puts the message beside that field without reading the message.
 */
export function serverField(error: unknown): string | null {
  if (!(error instanceof TRPCClientError)) return null;
  const field: unknown = error.data?.field;
  return typeof field === 'string' ? field : null;
}
