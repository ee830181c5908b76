/** The most a webhook body may weigh: Shopify's own payloads stay far below. */
export const MAX_WEBHOOK_BODY_BYTES = 2 * 1024 * 1024;

/**
 * Reads a request body as raw bytes, before anything parses it, refusing (null) as soon as more than
 * `limit` bytes arrive — a body without Content-Length (chunked) cannot make the server buffer more.
 */
export async function readBodyWithLimit(request: Request, limit: number): Promise<Uint8Array | null> {
  const body = request.body;
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** The body as stored: UTF-8 text, with what PostgreSQL's text cannot hold (NUL) removed. */
export function bodyText(raw: Uint8Array): { text: string; validUtf8: boolean } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(raw), validUtf8: true };
  } catch {
    return { text: new TextDecoder('utf-8').decode(raw), validUtf8: false };
  }
}

export function stripNul(text: string): string {
  return text.includes('\u0000') ? text.split('\u0000').join('') : text;
}
