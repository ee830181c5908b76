import { createHash, randomBytes } from 'node:crypto';

/** Server-side sessions: a random token in an HttpOnly cookie, only its SHA-256 in the database. */
export const SESSION_COOKIE = 'crm_session';
export const SESSION_TTL_SECONDS = 7 * 24 * 60 * 60;
/** A session is extended (sliding expiry) at most this often, so requests do not each write. */
export const SESSION_TOUCH_AFTER_SECONDS = 60;

const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/** 32 random bytes, base64url (43 characters). */
export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSessionToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** The session token of a Cookie header, or null when absent or not shaped like one of ours. */
export function readSessionToken(cookieHeader: string | null): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (TOKEN_FORMAT.test(value)) return value;
  }
  return null;
}

function cookie(value: string, maxAge: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${maxAge}`,
    ...(maxAge === 0 ? ['Expires=Thu, 01 Jan 1970 00:00:00 GMT'] : []),
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

export function sessionCookie(token: string, secure: boolean): string {
  return cookie(token, SESSION_TTL_SECONDS, secure);
}

export function clearedSessionCookie(secure: boolean): string {
  return cookie('', 0, secure);
}
