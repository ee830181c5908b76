const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

export function formatDateTime(iso: string | null): string {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

export function formatDate(iso: string | null): string {
  return iso ? dateOnly.format(new Date(iso)) : '—';
}

/**
 * "161900.00" → "161,900.00", and with a currency "161,900.00 COP": formats the exact decimal string,
 * never through a float.
 */
export function formatMoney(value: string, currency?: string | null): string {
  const negative = value.startsWith('-');
  const [whole = '0', fraction = '00'] = (negative ? value.slice(1) : value).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const amount = `${negative ? '-' : ''}${grouped}.${fraction.padEnd(2, '0').slice(0, 2)}`;
  return currency ? `${amount} ${currency}` : amount;
}

/** a − b of two decimal strings with two decimals, exactly ("115.00" − "47.50" → "67.50"). */
export function subtractMoney(a: string, b: string): string {
  const cents = (v: string) => BigInt(v.replace('.', ''));
  const d = cents(a) - cents(b);
  const abs = (d < 0n ? -d : d).toString().padStart(3, '0');
  return `${d < 0n ? '-' : ''}${abs.slice(0, -2)}.${abs.slice(-2)}`;
}

/** yyyy-mm-dd of a local date. */
export function localDateInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** The ISO instant of local midnight of a yyyy-mm-dd (plus `days`). */
export function localMidnightIso(date: string, days = 0): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + days).toISOString();
}

export function todayStartIso(): string {
  const now = new Date();
  return new Date(now.getFullYear(), now.getMonth(), now.getDate()).toISOString();
}
