/**
 * The import graph `npm test` allows (npm run check:house). Layers, lowest first:
 *   packages/shopify (pure domain) < packages/db (SQL) < apps (api, web, fake-shopify) < e2e, bench.
 * Inside apps/api/src: leaf modules (config, log, metrics, integration-config, deps) < shopify-admin,
 * auth < orders (domain) < reconcile, integrations (services) < jobs (runner), trpc, webhooks (adapters)
 * < app, server, bootstrap, main, worker-main (composition).
 * @type {import('dependency-cruiser').IConfiguration}
 */
const API = '^apps/api/src/';
const LEAVES = '(config|log|metrics|integration-config|deps)\\.ts$';
const ENTRY = '(app|server|bootstrap|main|worker-main)\\.ts$';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'resolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
    {
      name: 'packages-not-to-apps',
      comment: 'packages are below every app and tool',
      severity: 'error',
      from: { path: '^packages/' },
      to: { path: '^(apps|e2e|bench|scripts)/' },
    },
    {
      name: 'shopify-below-db',
      comment: '@crm/shopify is pure domain code: no database',
      severity: 'error',
      from: { path: '^packages/shopify/' },
      to: { path: '^packages/db/' },
    },
    {
      name: 'apps-not-to-tools',
      severity: 'error',
      from: { path: '^apps/' },
      to: { path: '^(e2e|bench|scripts)/' },
    },
    {
      name: 'fake-shopify-alone',
      comment: 'the fake Shopify shares shapes through @crm/shopify only',
      severity: 'error',
      from: { path: '^apps/fake-shopify/' },
      to: { path: '^apps/(api|web)/|^packages/db/' },
    },
    {
      name: 'web-types-only-from-api',
      comment: 'the SPA imports the router type, never API code',
      severity: 'error',
      from: { path: '^apps/web/' },
      to: { path: '^apps/api/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'web-db-values-only',
      comment: 'the SPA may use @crm/db/values (plain constants), nothing that talks to a database',
      severity: 'error',
      from: { path: '^apps/web/' },
      to: { path: '^packages/db/src/(?!values\\.ts$)' },
    },
    {
      name: 'web-no-server-code',
      severity: 'error',
      from: { path: '^apps/web/' },
      to: { path: '^apps/(api|fake-shopify)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'web-shopify-form-only',
      comment:
        'from @crm/shopify the SPA uses the connection form schema (@crm/shopify/connection-form) only',
      severity: 'error',
      from: { path: '^apps/web/' },
      to: { path: '^packages/shopify/src/(?!connection-form\\.ts$)', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'api-not-to-web',
      severity: 'error',
      from: { path: '^apps/(api|fake-shopify)/' },
      to: { path: '^apps/web/' },
    },
    {
      name: 'api-production-not-test-support',
      comment: 'production code of the API does not use its tests, their support or the fake Shopify',
      severity: 'error',
      from: { path: `${API}(?!testing/)` },
      to: { path: `^apps/api/(test/|src/testing/)|^apps/fake-shopify/` },
    },
    {
      name: 'api-leaves',
      comment: 'config, log, metrics, integration-config and deps import no other module of the API',
      severity: 'error',
      from: { path: `${API}${LEAVES}` },
      to: { path: `${API}(?!${LEAVES})` },
    },
    {
      name: 'api-composition-on-top',
      comment: 'no room imports the composition root',
      severity: 'error',
      from: { path: `${API}(?!testing/)[^/]+/` },
      to: { path: `${API}${ENTRY}` },
    },
    {
      name: 'api-domain-not-to-adapters',
      comment: 'domain and services do not import the job runner, the tRPC routers or the webhook route',
      severity: 'error',
      from: { path: `${API}(orders|reconcile|integrations|shopify-admin|auth)/` },
      to: { path: `${API}(jobs|trpc|webhooks)/` },
    },
    {
      name: 'api-orders-innermost',
      comment: 'applying an order is domain: it uses @crm/db and @crm/shopify, not the services around it',
      severity: 'error',
      from: { path: `${API}orders/` },
      to: { path: `${API}(reconcile|integrations|shopify-admin|auth)/` },
    },
    {
      name: 'api-clients-below-services',
      comment: 'the Admin API client and auth know no domain room',
      severity: 'error',
      from: { path: `${API}(shopify-admin|auth)/` },
      to: { path: `${API}(orders|reconcile|integrations)/` },
    },
    {
      name: 'api-webhooks-apart',
      comment: 'the webhook route imports neither the job runner nor the tRPC routers',
      severity: 'error',
      from: { path: `${API}webhooks/` },
      to: { path: `${API}(jobs|trpc)/` },
    },
    {
      name: 'api-jobs-apart',
      comment: 'the job runner imports neither the webhook route nor the tRPC routers',
      severity: 'error',
      from: { path: `${API}jobs/` },
      to: { path: `${API}(webhooks|trpc)/` },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist|test-results|playwright-report)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
