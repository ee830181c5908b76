import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { ShopifyAddress, ShopifyOrder } from './schemas.ts';
import { normalizeText } from './text.ts';

const countryOf = (code: string | null | undefined): CountryCode | null => {
  const c = code?.trim().toUpperCase() ?? '';
  return isSupportedCountry(c) ? (c as CountryCode) : null;
};

/**
 * A phone number in E.164 ("+573001234567"), or null when it is not a valid number. A number with an
 * explicit country code ("+1 312…", "+44…") is read as written. A number without one is read in
 * `country` (ISO 3166 alpha-2, e.g. "CO"): "300 123 4567", "(300) 123-4567" and "3001234567" are all
 * +573001234567 there — and if it is not a valid number of that country it is null, never forced
 * into another. Validation uses libphonenumber's full ("max") metadata, which knows each country's
 * real number ranges, not just their lengths.
 */
export function normalizePhone(raw: string | null | undefined, country: string | null): string | null {
  if (!raw?.trim()) return null;
  const defaultCountry = countryOf(country);
  try {
    const parsed = parsePhoneNumberFromString(raw, defaultCountry ? { defaultCountry } : {});
    return parsed?.isValid() ? parsed.number : null;
  } catch {
    return null;
  }
}

/**
 * The country a phone without a country code is read in: the country of the address it came from,
 * else the integration's default country.
 */
export function phoneCountry(address: ShopifyAddress | null | undefined, defaultCountry: string): string {
  return countryOf(address?.country_code) ?? defaultCountry;
}

/**
 * The contact's phone: the first valid one of order.phone, customer.phone, the shipping address's, the
 * billing address's and then the customer's default address's. Each is read in the country of the
 * address it came from (see phoneCountry): the shipping address's in the shipping country, the
 * billing address's in the billing country, the customer's (and the default address's) in the
 * default address's country; order.phone, the buyer's phone at checkout, in the shipping country,
 * else the billing one, else the customer's. Without any of those countries, the integration's
 * default country.
 */
export function pickOrderPhone(order: ShopifyOrder, defaultCountry: string): string | null {
  const { customer, shipping_address: shipping, billing_address: billing } = order;
  const home = customer?.default_address;
  const orderAddress = [shipping, billing, home].find((a) => countryOf(a?.country_code));
  const sources: [string | null | undefined, ShopifyAddress | null | undefined][] = [
    [order.phone, orderAddress],
    [customer?.phone, home],
    [shipping?.phone, shipping],
    [billing?.phone, billing],
    [home?.phone, home],
  ];
  for (const [raw, address] of sources) {
    const phone = normalizePhone(raw, phoneCountry(address, defaultCountry));
    if (phone) return phone;
  }
  return null;
}

/** Words in a note attribute's name that mean "a phone number" (after normalizeText). */
const PHONE_WORDS = /phone|telefono|celular|whatsapp|movil|mobile|\b(tel|cel|cell|wa)\b/;

/**
 * A second phone the buyer left in the order's note attributes ("Teléfono WhatsApp": "311 555 0142"):
 * the first valid number under a name that says phone, teléfono, celular, WhatsApp, móvil…, and that
 * differs from the primary phone. Read in the order's country (shipping, else billing, else the
 * customer's), else the default one.
 */
export function secondaryPhoneFromNoteAttributes(
  order: ShopifyOrder,
  defaultCountry: string,
  primary: string | null,
): string | null {
  const address = [order.shipping_address, order.billing_address, order.customer?.default_address].find((a) =>
    countryOf(a?.country_code),
  );
  const country = phoneCountry(address, defaultCountry);
  for (const { name, value } of order.note_attributes) {
    if (!PHONE_WORDS.test(normalizeText(name))) continue;
    const phone = normalizePhone(value, country);
    if (phone && phone !== primary) return phone;
  }
  return null;
}
