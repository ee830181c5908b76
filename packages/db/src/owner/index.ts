/** The SQL of the owner/user path: login and sessions (app_auth) and every tRPC query (app_user). */
export * from './auth.ts';
export * from './connection-health.ts';
export * from './contact-reviews.ts';
export * from './events.ts';
export * from './integrations.ts';
export * from './oauth-states.ts';
export * from './orders.ts';
export * from './pipelines.ts';
export * from './reconcile.ts';
export * from './workspaces.ts';
