import { isLosslessNumber, parse, stringify } from 'lossless-json';

export const REDACTED = '[redacted]';

/** Blocks that describe a person: every text or number in them goes, but their ids and country. */
const PERSONAL_BLOCKS = new Set([
  'customer',
  'billing_address',
  'shipping_address',
  'default_address',
  'addresses',
  'client_details',
  'payment_details',
]);
/** Fields that are personal wherever they appear. */
const PERSONAL_FIELDS = new Set([
  'email',
  'contact_email',
  'phone',
  'first_name',
  'last_name',
  'address1',
  'address2',
  'zip',
  'latitude',
  'longitude',
  'company',
  'browser_ip',
  'note',
]);
/** Lists of { name, value } the buyer filled in: the names stay, the values go. */
const BUYER_INPUT_LISTS = new Set(['note_attributes', 'properties']);
/** What stays inside a personal block: it identifies records, not people. */
const KEEP = new Set(['id', 'admin_graphql_api_id', 'country', 'country_code', 'province_code', 'default']);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !isLosslessNumber(v);

function redact(value: unknown, personal: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => redact(v, personal));
  if (isRecord(value)) {
    // fromEntries defines properties, so a "__proto__" key stays a plain key.
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => {
        if (personal && KEEP.has(key)) return [key, v];
        if (PERSONAL_BLOCKS.has(key) || PERSONAL_FIELDS.has(key)) return [key, redact(v, true)];
        if (BUYER_INPUT_LISTS.has(key) && Array.isArray(v)) {
          return [
            key,
            v.map((a) => (isRecord(a) ? { ...a, value: redact(a.value, true) } : redact(a, true))),
          ];
        }
        return [key, redact(v, personal)];
      }),
    );
  }
  // Booleans and nulls say nothing about a person; text and numbers may.
  const isText = typeof value === 'string' || typeof value === 'number' || isLosslessNumber(value);
  return personal && isText ? REDACTED : value;
}

/**
 * A copy of an order payload (or any webhook payload) with the customer's personal data — names,
 * emails, phones, addresses, IPs, the note and what the buyer typed in note attributes and line
 * properties — replaced by "[redacted]", for customers/redact. Ids, amounts and products stay.
 */
export function redactOrderPayload(payload: unknown): unknown {
  return redact(payload, false);
}

/**
 * redactOrderPayload over a stored raw body (webhook_events.payload), keeping every digit of the
 * numbers it leaves. A body that is not JSON cannot be sorted into personal and not: it is replaced
 * whole by "[redacted]" (as a JSON string).
 */
export function redactPayloadText(rawBody: string): string {
  try {
    return stringify(redactOrderPayload(parse(rawBody))) ?? JSON.stringify(REDACTED);
  } catch {
    return JSON.stringify(REDACTED);
  }
}
