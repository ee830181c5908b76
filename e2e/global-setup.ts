/**
 * Starts everything the end-to-end tests drive, and returns the teardown:
 *   1. builds the SPA with vite (skip with PW_SKIP_BUILD=1 when apps/web/dist is fresh),
 *   2. a fresh database: a new one on DATABASE_URL's cluster, or on a throw-away embedded cluster,
 *   3. the fake Shopify Admin API (`apps/fake-shopify/src/main.ts`: the demo store with its orders,
 *      the operator's distributed app for "Connect with Shopify", its /__fake/ control endpoints),
 *   4. the app as `npm start` runs it (`apps/api/src/main.ts`), seeded, pointed at the fake, with
 *      SHOPIFY_API_KEY / SHOPIFY_API_SECRET / SHOPIFY_SCOPES of that app and PUBLIC_URL.
 * Tests read E2E_BASE_URL, E2E_DATABASE_URL and E2E_FAKE_SHOPIFY_URL (support/helpers.ts has the app's
 * key and secret). The teardown fails the run when any REST request reached the fake.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateEncryptionKey } from '@crm/db';
import { createTestDatabase, freePort, startTestCluster } from '@crm/db/testing';
import { SHOPIFY_APP } from './support/shopify-app.ts';

const ROOT = resolve(import.meta.dirname, '..');
const RESULTS = join(ROOT, 'e2e', 'test-results');

function startProcess(name: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  mkdirSync(RESULTS, { recursive: true });
  const log = createWriteStream(join(RESULTS, `${name}.log`));
  const child = spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

async function waitFor(url: string, child: ChildProcess, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`${name} exited with code ${child.exitCode}; see e2e/test-results/${name}.log`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not answer ${url} within ${timeoutMs} ms; see e2e/test-results/${name}.log`);
}

/** The paths of REST requests the fake counted during the run (there must be none). */
async function restRequests(fakeUrl: string): Promise<string[]> {
  const res = await fetch(`${fakeUrl}/__fake/stats`, { signal: AbortSignal.timeout(5_000) });
  const stats = (await res.json()) as { restPaths: string[] };
  return stats.restPaths;
}

async function stopProcess(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const started = Date.now();
  if (process.env.PW_SKIP_BUILD !== '1') {
    // The bundle only: `npm run build -w @crm/web` also typechecks, which CI does in its own step.
    const build = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build'], {
      cwd: join(ROOT, 'apps/web'),
      stdio: 'pipe',
    });
    if (build.status !== 0) throw new Error(`building the SPA failed:\n${build.stdout}\n${build.stderr}`);
  }

  const cluster = await startTestCluster();
  process.env.TEST_ADMIN_DATABASE_URL = cluster.adminUrl;
  const db = await createTestDatabase({ migrate: false });
  // The app migrates it itself, as `npm start` does; this pool is for tests that arrange data.
  await db.sql.end();

  const dataDir = await mkdtemp(join(tmpdir(), 'crm-e2e-'));
  let fake: ChildProcess | null = null;
  let app: ChildProcess | null = null;
  let fakeUrl: string | null = null;
  const teardown = async () => {
    const rest = fake && fakeUrl && fake.exitCode === null ? await restRequests(fakeUrl).catch(() => []) : [];
    await stopProcess(app);
    await stopProcess(fake);
    await db.drop().catch(() => {});
    await cluster.stop();
    await rm(dataDir, { recursive: true, force: true });
    if (rest.length > 0) {
      throw new Error(`REST requests reached the fake Shopify (GraphQL Admin API only): ${rest.join(', ')}`);
    }
  };
  try {
    const fakePort = await freePort();
    fake = startProcess('fake-shopify', ['apps/fake-shopify/src/main.ts'], {
      FAKE_SHOPIFY_PORT: String(fakePort),
      FAKE_SHOPIFY_HOST: '127.0.0.1',
      FAKE_SHOPIFY_OAUTH_CLIENT_ID: SHOPIFY_APP.apiKey,
      FAKE_SHOPIFY_OAUTH_CLIENT_SECRET: SHOPIFY_APP.apiSecret,
      FAKE_SHOPIFY_CONTROL: '1',
    });
    fakeUrl = `http://127.0.0.1:${fakePort}`;
    await waitFor(`${fakeUrl}/healthz`, fake, 'fake-shopify', 30_000);

    const encryptionKey = generateEncryptionKey();
    const port = await freePort();
    const baseUrl = `http://localhost:${port}`;
    app = startProcess('app', ['apps/api/src/main.ts'], {
      PORT: String(port),
      DATABASE_URL: db.url,
      SEED: 'true',
      SHOPIFY_ADMIN_BASE_URL: `${fakeUrl}/{shop}`,
      WORKER_CONCURRENCY: '2',
      WEB_DIST: join(ROOT, 'apps/web/dist'),
      APP_ENCRYPTION_KEY: encryptionKey,
      DATA_DIR: dataDir,
      PUBLIC_URL: baseUrl,
      SHOPIFY_API_KEY: SHOPIFY_APP.apiKey,
      SHOPIFY_API_SECRET: SHOPIFY_APP.apiSecret,
      SHOPIFY_SCOPES: SHOPIFY_APP.scopes,
      DEMO_SHOPIFY_SECRET: '',
    });
    await waitFor(`${baseUrl}/healthz`, app, 'app', 90_000);

    process.env.E2E_BASE_URL = baseUrl;
    process.env.E2E_DATABASE_URL = db.url;
    process.env.E2E_FAKE_SHOPIFY_URL = fakeUrl;
    // To decrypt what the app stored, so specs can check no secret reaches a page.
    process.env.E2E_APP_ENCRYPTION_KEY = encryptionKey;
    console.log(
      `e2e stack ready in ${Date.now() - started} ms: app ${baseUrl}, fake Shopify ${fakeUrl}, ${
        cluster.embedded ? 'embedded PostgreSQL' : 'DATABASE_URL cluster'
      }, database ${db.name}`,
    );
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
