/**
 * Uploads in flight: a webhook body is buffered (up to 2 MiB) before anything can check it, so an
 * anonymous client could hold memory by opening many uploads and sending them slowly. Two bounds:
 *
 *   - how many bodies are being read at once, and how many bytes they announce together (a body
 *     without Content-Length counts as the 2 MiB it may reach): beyond either the route answers 503
 *     at once, before reading anything, and Shopify retries;
 *   - the share of those two bounds one client address may hold (half): uploads stalled by one
 *     client cannot take the room Shopify's deliveries, from other addresses, need;
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
  /** The share (0–1] of maxUploads and of maxUploadBytes that the uploads of one client address may hold. */
  perAddressShare: number;
  /** How long one body may take to arrive, from the moment its route starts reading it. */
  readDeadlineMs: number;
};

/**
 * Production bounds: 256 bodies, 32 MiB (so 500 stalled 2 MiB uploads hold 32 MiB, not 1 GiB), half
 * of each per client address (128 bodies, 16 MiB), 4 s (Shopify itself gives up on a delivery after
 * 5 s; its bodies arrive in milliseconds).
 */
export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  maxUploads: 256,
  maxUploadBytes: 32 * 1024 * 1024,
  perAddressShare: 0.5,
  readDeadlineMs: 4000,
};

export type UploadGate = {
  readonly limits: UploadLimits;
  /** Bodies being read now. */
  readonly inFlight: number;
  /** Bytes they announced. */
  readonly bytesInFlight: number;
  /**
   * A slot for a body of `announced` bytes (null: unknown) from client `address`, or null when the
   * bounds, or the address's share of them, are reached; release it once.
   */
  enter: (announced: number | null, address: string) => (() => void) | null;
};

type Held = { uploads: number; bytes: number };

/** Whether one more upload of `weight` fits under `maxUploads`/`maxBytes` (the first always fits the bytes). */
function fits(held: Held, weight: number, maxUploads: number, maxBytes: number): boolean {
  return held.uploads < maxUploads && (held.uploads === 0 || held.bytes + weight <= maxBytes);
}

export function createUploadGate(limits: Partial<UploadLimits> = {}): UploadGate {
  const bounds = { ...DEFAULT_UPLOAD_LIMITS, ...limits };
  const perAddressUploads = Math.max(1, Math.floor(bounds.maxUploads * bounds.perAddressShare));
  const perAddressBytes = bounds.maxUploadBytes * bounds.perAddressShare;
  const all: Held = { uploads: 0, bytes: 0 };
  const byAddress = new Map<string, Held>();
  return {
    limits: bounds,
    get inFlight() {
      return all.uploads;
    },
    get bytesInFlight() {
      return all.bytes;
    },
    enter: (announced, address) => {
      const weight = Math.min(announced ?? MAX_WEBHOOK_BODY_BYTES, MAX_WEBHOOK_BODY_BYTES);
      const mine = byAddress.get(address) ?? { uploads: 0, bytes: 0 };
      if (
        !fits(all, weight, bounds.maxUploads, bounds.maxUploadBytes) ||
        !fits(mine, weight, perAddressUploads, perAddressBytes)
      )
        return null;
      for (const held of [all, mine]) {
        held.uploads += 1;
        held.bytes += weight;
      }
      byAddress.set(address, mine);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const held of [all, mine]) {
          held.uploads -= 1;
          held.bytes -= weight;
        }
        if (mine.uploads === 0) byAddress.delete(address);
      };
    },
  };
}

/**
 * A body announced over 2 MiB but at most this is read to its end, and dropped, before the 413: the
 * connection then stays usable for the client's next request. A larger one is refused at once and
 * the connection closed (the client may see it closed before it reads the 413).
 */
export const MAX_DISCARDED_BYTES = 8 * 1024 * 1024;

export type Upload =
  | { body: Uint8Array }
  | {
      refused: 'too_large' | 'too_slow' | 'unreadable' | 'busy';
      /** Whether the connection must be closed: the rest of the request was not read. */
      close: boolean;
    };

/** `reading`, or 'too_slow' once `ms` pass. */
async function beforeDeadline<T>(reading: Promise<T>, ms: number): Promise<T | 'too_slow'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'too_slow'>((resolve) => {
    timer = setTimeout(() => resolve('too_slow'), ms);
  });
  try {
    return await Promise.race([reading, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads a body to its end, keeping nothing. */
async function discardBody(request: Request): Promise<'read' | 'unreadable'> {
  try {
    const reader = request.body?.getReader();
    while (reader && !(await reader.read()).done) {}
    return 'read';
  } catch {
    return 'unreadable';
  }
}

/**
 * The body of a request announcing `announced` bytes (null: unknown) from client `address`, within
 * the gate's bounds, the 2 MiB limit and the read deadline. A read cut by the deadline is left to fail
 * when the connection closes (the caller answers with `Connection: close`).
 */
export async function takeUpload(
  gate: UploadGate,
  request: Request,
  announced: number | null,
  address: string,
): Promise<Upload> {
  if (announced !== null && announced > MAX_DISCARDED_BYTES) return { refused: 'too_large', close: true };
  const release = gate.enter(announced, address);
  if (!release) return { refused: 'busy', close: true };
  try {
    if (announced !== null && announced > MAX_WEBHOOK_BODY_BYTES) {
      const read = await beforeDeadline(discardBody(request), gate.limits.readDeadlineMs);
      return read === 'read' ? { refused: 'too_large', close: false } : { refused: read, close: true };
    }
    const read = await beforeDeadline(
      readBodyWithLimit(request, MAX_WEBHOOK_BODY_BYTES).then(
        (body) => (body ? { body } : ('too_large' as const)),
        () => 'unreadable' as const,
      ),
      gate.limits.readDeadlineMs,
    );
    return typeof read === 'string' ? { refused: read, close: true } : read;
  } finally {
    release();
  }
}
