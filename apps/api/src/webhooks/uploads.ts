/**
 * Uploads in flight: a webhook body is buffered (up to 2 MiB) before anything can check it, so an
 * anonymous client could hold memory by opening many uploads and sending them slowly. Two bounds:
 *
 *   - how many bodies are being read at once, and how many bytes they announce together (a body
 *     without Content-Length counts as the 2 MiB it may reach): beyond either the route answers 503
 *     at once, before reading anything, and Shopify retries;
 *   - how long one body may take to arrive: past the deadline the route answers 408 and closes the
 *     connection, which frees what was buffered.
 *
 * Node's own server timeouts (headers, whole request) are set where the server is made; this bound is
 * the route's, so it holds whatever those are.
 */
import { MAX_WEBHOOK_BODY_BYTES, readBodyWithLimit } from './body.ts';

export type UploadLimits = {
  /** Bodies read at once, at most. */
  maxUploads: number;
  /** Bytes announced by the bodies read at once, at most. */
  maxUploadBytes: number;
  /** How long one body may take to arrive, from the moment its route starts reading it. */
  readDeadlineMs: number;
};

/**
 * Production bounds: 256 bodies, 32 MiB (so 500 stalled 2 MiB uploads hold 32 MiB, not 1 GiB), 4 s
 * (Shopify itself gives up on a delivery after 5 s; its bodies arrive in milliseconds).
 */
export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  maxUploads: 256,
  maxUploadBytes: 32 * 1024 * 1024,
  readDeadlineMs: 4000,
};

export type UploadGate = {
  readonly limits: UploadLimits;
  /** Bodies being read now. */
  readonly inFlight: number;
  /** Bytes they announced. */
  readonly bytesInFlight: number;
  /** A slot for a body of `announced` bytes (null: unknown), or null when the bounds are reached; release it once. */
  enter: (announced: number | null) => (() => void) | null;
};

export function createUploadGate(limits: Partial<UploadLimits> = {}): UploadGate {
  const bounds = { ...DEFAULT_UPLOAD_LIMITS, ...limits };
  let uploads = 0;
  let bytes = 0;
  return {
    limits: bounds,
    get inFlight() {
      return uploads;
    },
    get bytesInFlight() {
      return bytes;
    },
    enter: (announced) => {
      const weight = Math.min(announced ?? MAX_WEBHOOK_BODY_BYTES, MAX_WEBHOOK_BODY_BYTES);
      if (uploads >= bounds.maxUploads || (uploads > 0 && bytes + weight > bounds.maxUploadBytes))
        return null;
      uploads += 1;
      bytes += weight;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        uploads -= 1;
        bytes -= weight;
      };
    },
  };
}

export type Upload = { body: Uint8Array } | { refused: 'too_large' | 'too_slow' | 'unreadable' };

/**
 * The body within the limit and the deadline. A read cut by the deadline is left to fail when the
 * connection closes (the caller answers with `Connection: close`).
 */
export async function readUpload(request: Request, deadlineMs: number): Promise<Upload> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), deadlineMs);
  });
  const reading = readBodyWithLimit(request, MAX_WEBHOOK_BODY_BYTES).then(
    (body) => (body ? { body } : { refused: 'too_large' as const }),
    () => ({ refused: 'unreadable' as const }),
  );
  try {
    const first = await Promise.race([reading, late]);
    return first === 'late' ? { refused: 'too_slow' } : first;
  } finally {
    clearTimeout(timer);
  }
}
