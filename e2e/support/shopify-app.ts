/** The operator's distributed app ("Connect with Shopify") the e2e fake and app share. */
export const SHOPIFY_APP = {
  apiKey: 'e2e-crm-sync-app-key',
  apiSecret: 'shpss_e2e_crm_sync_app_secret_0123456789',
  scopes: 'read_orders,read_customers',
} as const;
