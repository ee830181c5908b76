import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';

/** The built SPA: its files, and index.html for every other GET so client-side routes load. */
export function spaRoutes(distDir: string): Hono {
  const app = new Hono();
  const indexFile = join(distDir, 'index.html');
  if (!existsSync(indexFile)) {
    app.get('*', (c) =>
      c.text('The web app is not built: run `npm run build -w @crm/web` (npm start does it).', 503),
    );
    return app;
  }
  const indexHtml = readFileSync(indexFile, 'utf8');
  app.use('/assets/*', serveStatic({ root: distDir }));
  app.use('*', serveStatic({ root: distDir }));
  app.get('*', (c) => c.html(indexHtml));
  return app;
}
