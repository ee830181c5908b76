/**
 * Cross-site request protection for tRPC mutations. A mutation must carry the custom header
 * `x-trpc-source` (a cross-site form or a simple fetch cannot set one without a CORS preflight, which
 * this API never grants), and when the browser says where it comes from (Origin, Sec-Fetch-Site),
 * that must be this site.
 */
export const CSRF_HEADER = 'x-trpc-source';

export type CsrfVerdict = { ok: true } | { ok: false; message: string };

export function checkMutationRequest(headers: Headers, publicUrl: string): CsrfVerdict {
  if (!headers.get(CSRF_HEADER)) {
    return {
      ok: false,
      message: `This request is missing the ${CSRF_HEADER} header that every change must carry; reload the app and try again.`,
    };
  }
  if (headers.get('sec-fetch-site') === 'cross-site') {
    return { ok: false, message: 'Changes from another site are refused.' };
  }
  const origin = headers.get('origin');
  if (origin !== null) {
    let originHost: string | null = null;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = null;
    }
    const host = headers.get('host');
    let publicHost: string | null = null;
    try {
      publicHost = new URL(publicUrl).host;
    } catch {
      publicHost = null;
    }
    if (originHost === null || (originHost !== host && originHost !== publicHost)) {
      return {
        ok: false,
        message: 'Changes from another site are refused (Origin does not match this host).',
      };
    }
  }
  return { ok: true };
}
