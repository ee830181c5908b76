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

/** zod's flattened issues a validation refusal carries (`data.zodError`), or null. */
function flattenedIssues(error: {
  data?: { zodError?: unknown } | undefined;
}): { formErrors: string[]; fieldErrors: Record<string, string[]> } | null {
  const zodError: unknown = error.data?.zodError;
  if (!zodError || typeof zodError !== 'object') return null;
  const { formErrors, fieldErrors } = zodError as { formErrors?: unknown; fieldErrors?: unknown };
  const strings = (v: unknown): string[] =>
    Array.isArray(v) ? v.filter((m): m is string => typeof m === 'string') : [];
  const fields: Record<string, string[]> = {};
  if (fieldErrors && typeof fieldErrors === 'object') {
    for (const [key, messages] of Object.entries(fieldErrors)) fields[key] = strings(messages);
  }
  return { formErrors: strings(formErrors), fieldErrors: fields };
}

/**
 * Field errors of a failed call, from what the server sends as data, never from its message text:
 * input validation's flattened issues (keyed by the input's top-level key, several messages joined),
 * and a refusal's `data.field` (its last path segment). Messages about no field land under "" (the form).
 */
export function fieldErrors(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(error instanceof TRPCClientError) || errorCode(error) !== 'BAD_REQUEST') return out;
  const add = (field: string, message: string) => {
    out[field] = out[field] ? `${out[field]} ${message}` : message;
  };
  const issues = flattenedIssues(error);
  if (issues) {
    for (const [field, messages] of Object.entries(issues.fieldErrors))
      for (const m of messages) add(field, m);
    for (const m of issues.formErrors) add('', m);
    return out;
  }
  const field = serverField(error);
  if (field) add(lastSegment(field), errorMessage(error));
  return out;
}

const lastSegment = (path: string): string => path.split('.').pop() ?? path;

/**
 * The input path a refusal is about, as the server names it (`data.field`, e.g. `clientSecret` or
 * `config.shopDomain`; for input validation the first issue's path): a form puts the message beside
 * that field without reading the message. Else the first key of zod's flattened issues, else null.
 */
export function serverField(error: unknown): string | null {
  if (!(error instanceof TRPCClientError)) return null;
  const field: unknown = error.data?.field;
  if (typeof field === 'string' && field) return field;
  const issues = flattenedIssues(error);
  return issues ? (Object.keys(issues.fieldErrors)[0] ?? null) : null;
}

/**
 * Which of a form's fields a failed call belongs beside: the last segment of the server's path
 * (`config.shopDomain` → `shopDomain`) when the form has that field, else `root` (the form itself).
 */
export function formFieldOf<F extends string>(error: unknown, fields: readonly F[]): F | 'root' {
  return placeServerError(error, fields).field;
}

/**
 * Where a failed call's message goes in a form, and in which words: beside the field it is about
 * (formFieldOf) with that field's own message from zod's issues when it is an input error (the
 * overall message prefixes each issue with its path), else the server's message on the form.
 */
export function placeServerError<F extends string>(
  error: unknown,
  fields: readonly F[],
): { field: F | 'root'; message: string } {
  const path = serverField(error);
  const field = fields.find((f) => path !== null && f === lastSegment(path)) ?? 'root';
  const top = path?.split('.')[0];
  const issues = field !== 'root' && error instanceof TRPCClientError ? flattenedIssues(error) : null;
  const own = top ? issues?.fieldErrors[top]?.[0] : undefined;
  return { field, message: own ?? errorMessage(error) };
}
