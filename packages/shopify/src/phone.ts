import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { ShopifyOrder } from './schemas.ts';
import { normalizeText } from './text.ts';

/**
 * A phone number in E.164 ("+573001234567"), or null when it is not a valid number. Numbers written
 * without a country code are read in defaultCountry (ISO 3166 alpha-2, e.g. "CO"): "300 123 4567",
 * "(300) 123-4567" and "3001234567" are all +573001234567. Validation uses libphonenumber's full
 * ("max") metadata, which knows each country's real number ranges, not just their lengths.
 */
export function normalizePhone(raw: string | null | undefined, defaultCountry: string): string | null {
  if (!raw?.trim()) return null;
  const country = defaultCountry.trim().toUpperCase();
  const options = isSupportedCountry(country) ? { defaultCountry: country as CountryCode } : {};
  try {
    const parsed = parsePhoneNumberFromString(raw, options);
    return parsed?.isValid() ? parsed.number : null;
  } catch {
    return null;
  }
}

/**
 * The contact's phone: the first valid one of order.phone, customer.phone, the shipping address's, the
 * billing address's and then the customer's default address's.
 */
export function pickOrderPhone(order: ShopifyOrder, defaultCountry: string): string | null {
  const sources = [
    order.phone,
    order.customer?.phone,
    order.shipping_address?.phone,
    order.billing_address?.phone,
    order.customer?.default_address?.phone,
  ];
  for (const raw of sources) {
    const phone = normalizePhone(raw, defaultCountry);
    if (phone) return phone;
  }
  return null;
}

/** Words in a note attribute's name that mean "a phone number" (after normalizeText). */
const PHONE_WORDS = /phone|telefono|celular|whatsapp|movil|mobile|\b(tel|cel|cell|wa)\b/;

/**
 * A second phone the buyer left in the order's note attributes ("Teléfono WhatsApp": "311 555 0142"):
 * the first valid number under a name that says phone, teléfono, celular, WhatsApp, móvil…, and that
 * differs from the primary phone.
 */
export function secondaryPhoneFromNoteAttributes(
  order: ShopifyOrder,
  defaultCountry: string,
  primary: string | null,
): string | null {
  for (const { name, value } of order.note_attributes) {
    if (!PHONE_WORDS.test(normalizeText(name))) continue;
    const phone = normalizePhone(value, defaultCountry);
    if (phone && phone !== primary) return phone;
  }
  return null;
}
