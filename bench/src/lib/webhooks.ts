/** Signed Shopify deliveries as Shopify sends them: payloads, headers, and a keep-alive poster. */
import { Agent, request } from 'node:http';
import { signedWebhookHeaders } from '@crm/shopify';
import { DEMO_SECRET, DEMO_SHOP } from './db.ts';
import { generatedPhone, misspell, randomCity, randomName } from './names.ts';

export type Delivery = { webhookId: string; topic: string; body: Buffer; headers: Record<string, string> };

export function signedHeaders(
  body: Buffer,
  options: { topic?: string; webhookId?: string; secret?: string; shop?: string } = {},
): Record<string, string> {
  return signedWebhookHeaders(body, {
    topic: options.topic ?? 'orders/create',
    shopDomain: options.shop ?? DEMO_SHOP,
    secret: options.secret ?? DEMO_SECRET,
    ...(options.webhookId ? { webhookId: options.webhookId } : {}),
  });
}

export type OrderSpec = {
  /** Shopify order id (digits, above 2^53 like real ones). */
  orderId: string;
  number: number;
  name: string;
  phone: string | null;
  email: string | null;
  city: string;
  department: string;
  skus: string[];
};

/** Order ids above 2^53, as strings (the app must never pass them through a JS number). */
export function orderIdFor(n: number, runTag: number): string {
  return (6_100_000_000_000_000_000n + BigInt(runTag) * 10_000_000n + BigInt(n)).toString();
}

/**
 * An orders/create payload shaped like the COD fixture (Colombia, cash on delivery), ~3 KB: customer,
 * billing and shipping addresses, 1–3 lines, a discount, note attributes.
 */
export function orderPayload(o: OrderSpec): Buffer {
  const [first, ...rest] = o.name.split(' ');
  const address = {
    first_name: first ?? '',
    last_name: rest.join(' '),
    name: o.name,
    address1: `Calle ${(o.number % 120) + 1} # ${(o.number % 50) + 1}-${(o.number % 90) + 10}`,
    address2: null,
    city: o.city,
    province: o.department,
    country: 'Colombia',
    zip: '110231',
    phone: o.phone,
    company: null,
    country_code: 'CO',
    province_code: null,
  };
  const lines = o.skus.map((sku, i) => ({
    id: `${o.orderId.slice(0, 12)}${String(i).padStart(5, '0')}`,
    admin_graphql_api_id: `gid://shopify/LineItem/${o.orderId.slice(0, 12)}${String(i).padStart(5, '0')}`,
    product_id: String(8_012_345_678_901 + i),
    variant_id: String(45_012_345_678_901 + i),
    sku,
    title: `Producto ${sku}`,
    variant_title: null,
    name: `Producto ${sku}`,
    vendor: 'Demo',
    quantity: 1 + (i % 2),
    price: '59950.00',
    total_discount: '0.00',
    discount_allocations: i === 0 ? [{ amount: '5000.00' }] : [],
  }));
  const payload = {
    id: o.orderId,
    admin_graphql_api_id: `gid://shopify/Order/${o.orderId}`,
    name: `#${o.number}`,
    order_number: o.number,
    email: o.email,
    phone: null,
    created_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
    processed_at: new Date().toISOString(),
    cancelled_at: null,
    cancel_reason: null,
    currency: 'COP',
    financial_status: 'pending',
    fulfillment_status: null,
    gateway: 'Cash on Delivery (COD)',
    payment_gateway_names: ['Cash on Delivery (COD)'],
    subtotal_price: '164900.00',
    total_discounts: '5000.00',
    total_price: '159900.00',
    total_tax: '0.00',
    taxes_included: true,
    test: false,
    tags: 'contraentrega, web',
    note: 'Entregar en portería',
    note_attributes: [
      {
        name: 'Teléfono WhatsApp',
        value: o.phone ? `311 555 ${String(o.number % 10000).padStart(4, '0')}` : '',
      },
      { name: 'Barrio', value: 'Chapinero' },
    ],
    customer: {
      id: String(7_294_810_023_456_789_012n + BigInt(o.number)),
      email: o.email,
      first_name: first,
      last_name: rest.join(' '),
      phone: null,
      state: 'disabled',
      default_address: address,
    },
    billing_address: address,
    shipping_address: address,
    line_items: lines,
    shipping_lines: [{ title: 'Envío estándar', code: 'STANDARD', price: '0.00', discounted_price: '0.00' }],
  };
  return Buffer.from(JSON.stringify(payload));
}

/**
 * A realistic order customer against a database of generated contacts (phones +57300000000n for
 * n = 1…contacts): 40% a returning customer by phone, 10% by email-less misspelt name (a fuzzy
 * candidate), 50% a new customer.
 */
export function randomOrder(
  random: () => number,
  n: number,
  runTag: number,
  contacts: number,
  products: number,
): OrderSpec {
  const { city, department } = randomCity(random);
  const r = random();
  const skus = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
    const k = 1 + Math.floor(random() * Math.max(1, products));
    return random() < 0.05 ? `UNKNOWN-${k}` : `BENCH-${String(k).padStart(5, '0')}`;
  });
  const base = { orderId: orderIdFor(n, runTag), number: 100_000 + n, city, department, skus };
  if (r < 0.4 && contacts > 0) {
    const k = 1 + Math.floor(random() * contacts);
    return { ...base, name: randomName(random), phone: generatedPhone(k), email: null };
  }
  const name = randomName(random);
  // New phones outside the generated block (+57 35x…).
  const phone = `+57${3_500_000_000 + runTag * 1_000_000 + n}`;
  if (r < 0.5) return { ...base, name: misspell(random, name), phone, email: null };
  return { ...base, name, phone, email: random() < 0.5 ? `c${runTag}.${n}@example.org` : null };
}

export const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export type PostResult = {
  status: number;
  body: string;
  ms: number;
  /** Why there was no answer (status 0): the error's code, and whether the connection was a reused one. */
  error?: string;
};

/** POSTs raw bytes with the given headers (keep-alive); status 0 = connection error or timeout. */
export function post(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  timeoutMs = 10_000,
): Promise<PostResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        res.on('error', () => resolve({ status: 0, body: '', ms: performance.now() - started }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({
        status: 0,
        body: '',
        ms: performance.now() - started,
        error: `${e.code ?? e.message}${req.reusedSocket ? ' on a reused keep-alive connection' : ''}`,
      }),
    );
    req.end(body);
  });
}
