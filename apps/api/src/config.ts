/** Runtime settings, all from the environment, with the zero-setup defaults. */
export type AppConfig = {
  port: number;
  /** The public base URL Shopify posts webhooks to (shown to owners as the URL to paste). */
  publicUrl: string;
  /** Base URL of the Shopify Admin API; `{shop}` is replaced by the shop domain. Tests and demos point it at a local fake. */
  shopifyAdminBaseUrl: string;
  shopifyApiVersion: string;
  /** Worker concurrency of the in-process job runner; 0 runs no workers in this process. */
  workerConcurrency: number;
  /** Serve the built SPA from this folder (absent: API only). */
  webDist: string | null;
  /** Mark session cookies Secure (behind HTTPS). */
  secureCookies: boolean;
};

export function loadConfig(env = process.env): AppConfig {
  const port = Number(env.PORT ?? 3000);
  return {
    port,
    publicUrl: (env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    shopifyAdminBaseUrl: env.SHOPIFY_ADMIN_BASE_URL ?? 'https://{shop}',
    shopifyApiVersion: env.SHOPIFY_API_VERSION ?? '2025-10',
    workerConcurrency: Number(env.WORKER_CONCURRENCY ?? 4),
    webDist:
      env.WEB_DIST === '' ? null : (env.WEB_DIST ?? new URL('../../web/dist/', import.meta.url).pathname),
    secureCookies: env.SECURE_COOKIES === 'true',
  };
}
