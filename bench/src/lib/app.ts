/**
 * The real application as child processes: `npm start`'s server (apps/api/src/main.ts) and
 * `npm run worker`'s job runner (apps/api/src/worker-main.ts), through tsx like the npm scripts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '@crm/db/testing';
import { sleep } from './stats.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export type AppProcess = {
  pid: number;
  port: number;
  url: string;
  /** stderr/stdout tail, for failures. */
  output: () => string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop: (graceMs?: number) => Promise<void>;
  kill: () => Promise<void>;
  exited: Promise<number | null>;
};

export type AppEnv = {
  databaseUrl: string;
  keyText: string;
  workerConcurrency: number;
  poolSize?: number;
  webDist?: string;
  extra?: Record<string, string>;
};

function childEnv(env: AppEnv, port: number): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATABASE_URL: env.databaseUrl,
    APP_ENCRYPTION_KEY: env.keyText,
    PORT: String(port),
    WORKER_CONCURRENCY: String(env.workerConcurrency),
    LOG_LEVEL: process.env.BENCH_APP_LOG ? 'info' : 'silent',
    WEB_DIST: env.webDist ?? '',
    NODE_ENV: 'production',
    ...(env.poolSize ? { DB_POOL_SIZE: String(env.poolSize) } : {}),
    ...env.extra,
  };
}

function launch(script: string, env: NodeJS.ProcessEnv, port: number): AppProcess {
  // One process, node with tsx's loader (what `tsx script` runs in a child): a SIGKILL must hit the
  // app itself — the tsx CLI would relay SIGTERM but die alone on SIGKILL, leaving its child running.
  // BENCH_CPU_PROF=<dir>: each app process writes a V8 CPU profile there when it exits.
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child: ChildProcess = spawn(process.execPath, [...profile, '--import', 'tsx', script], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
    if (process.env.BENCH_APP_LOG) process.stderr.write(chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${script}`);
  const signal = async (sig: NodeJS.Signals, waitMs: number): Promise<boolean> => {
    if (child.exitCode !== null || child.signalCode !== null) return true;
    child.kill(sig);
    return Promise.race([exited.then(() => true), sleep(waitMs).then(() => false)]);
  };
  return {
    pid,
    port,
    url: `http://127.0.0.1:${port}`,
    output: () => tail,
    exited,
    stop: async (graceMs = 8000) => {
      if (!(await signal('SIGTERM', graceMs))) await signal('SIGKILL', 5000);
    },
    kill: async () => {
      await signal('SIGKILL', 5000);
    },
  };
}

async function waitHealthy(app: AppProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void app.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`the app exited before it was healthy:\n${app.output()}`);
    const ok = await fetch(`${app.url}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await sleep(200);
  }
  await app.kill();
  throw new Error(`the app was not healthy within ${timeoutMs} ms:\n${app.output()}`);
}

/** `npm start`'s server on a free port; resolves once /healthz answers 200. */
export async function startApi(env: AppEnv): Promise<AppProcess> {
  const port = await freePort();
  const app = launch('apps/api/src/main.ts', childEnv(env, port), port);
  await waitHealthy(app, 60_000);
  return app;
}

/** The webhook route without a database (bench/src/lib/webhook-floor-main.ts) on a free port. */
export async function startWebhookFloor(): Promise<AppProcess> {
  const port = await freePort();
  const app = launch('bench/src/lib/webhook-floor-main.ts', { ...process.env, PORT: String(port) }, port);
  await waitHealthy(app, 60_000);
  return app;
}

/** An `npm run worker` process (no HTTP); resolves when it has started (its runner is listening). */
export async function startWorker(env: AppEnv): Promise<AppProcess> {
  const worker = launch('apps/api/src/worker-main.ts', childEnv(env, 0), 0);
  return worker;
}
