/**
 * The import graph `npm test` allows (npm run check:house). The layers are two tables below
 * (WORKSPACE_LAYERS, API_LAYERS), lowest first, from which the "no arrow upwards" and "apart" rules
 * are generated: packages/shopify (pure domain) < packages/db (SQL) < apps (api, web, fake-shopify) <
 * e2e, bench, scripts; inside apps/api/src: leaf modules (config, log, metrics, integration-config,
 * deps) < shopify-admin, auth | orders (domain) < reconcile, integrations (services) < jobs (runner),
 * trpc, webhooks (adapters) < app, server, bootstrap, main, worker-main (composition).
 * @type {import('dependency-cruiser').IConfiguration}
 */
const API = '^apps/api/src/';
const LEAVES = '(config|log|metrics|integration-config|deps)\\.ts$';
const ENTRY = '(app|server|bootstrap|main|worker-main)\\.ts$';

/** The workspaces, lowest layer first: no import from a layer to a higher one. */
const WORKSPACE_LAYERS = [
  { name: 'shopify', paths: ['packages/shopify/'], comment: '@crm/shopify is pure domain code: no database' },
  { name: 'db', paths: ['packages/db/'], comment: 'packages are below every app and tool' },
  { name: 'apps', paths: ['apps/'], comment: 'apps do not import the tools around them' },
  { name: 'tools', paths: ['e2e/', 'bench/', 'scripts/'] },
];

/**
 * The API's rooms (folders of apps/api/src), lowest layer first, between the leaves (LEAVES, which
 * import no other module of the API) and the composition root (ENTRY, which no room imports). A room
 * imports no room of a higher layer. `apart`: groups of a layer that import none of each other,
 * except the arrows in `allowed`.
 */
const API_LAYERS = [
  {
    name: 'clients-and-domain',
    comment: 'the Admin API client and auth know no domain room; applying an order uses neither',
    rooms: ['shopify-admin', 'auth', 'orders'],
    apart: [['shopify-admin', 'auth'], ['orders']],
  },
  { name: 'services', rooms: ['reconcile', 'integrations'] },
  {
    name: 'adapters',
    comment: 'the job runner, the tRPC routers and the webhook route; the routers may enqueue jobs',
    rooms: ['jobs', 'trpc', 'webhooks'],
    apart: [['jobs'], ['trpc'], ['webhooks']],
    allowed: [['trpc', 'jobs']],
  },
];

const any = (paths) => `^(${paths.join('|')})`;
const rooms = (names) => `${API}(${names.join('|')})/`;

/** One rule per layer: nothing below imports it. */
const workspaceRules = WORKSPACE_LAYERS.slice(0, -1).map((layer, i) => ({
  name: `${layer.name}-not-up`,
  comment: layer.comment,
  severity: 'error',
  from: { path: any(layer.paths) },
  to: { path: any(WORKSPACE_LAYERS.slice(i + 1).flatMap((l) => l.paths)) },
}));

/** Per API layer: no arrow to a higher layer's rooms, and none between the groups held apart. */
const apiRules = API_LAYERS.flatMap((layer, i) => {
  const higher = API_LAYERS.slice(i + 1).flatMap((l) => l.rooms);
  const up =
    higher.length === 0
      ? []
      : [
          {
            name: `api-${layer.name}-not-up`,
            comment: `${layer.rooms.join(', ')} do not import ${higher.join(', ')}`,
            severity: 'error',
            from: { path: rooms(layer.rooms) },
            to: { path: rooms(higher) },
          },
        ];
  const apart = (layer.apart ?? []).flatMap((group) => {
    const others = layer.apart
      .filter((g) => g !== group)
      .flat()
      .filter((to) => !group.some((from) => (layer.allowed ?? []).some(([f, t]) => f === from && t === to)));
    return others.length === 0
      ? []
      : [
          {
            name: `api-${group.join('-')}-apart`,
            comment: layer.comment,
            severity: 'error',
            from: { path: rooms(group) },
            to: { path: rooms(others) },
          },
        ];
  });
  return [...up, ...apart];
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'resolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
    ...workspaceRules,
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
        'from @crm/shopify the SPA uses the form schemas only (@crm/shopify/connection-form, @crm/shopify/integration-config)',
      severity: 'error',
      from: { path: '^apps/web/' },
      to: {
        path: '^packages/shopify/src/(?!(connection-form|integration-config)\\.ts$)',
        dependencyTypesNot: ['type-only'],
      },
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
    ...apiRules,
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
