import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, envSchema, loadConfig } from '../src/config.ts';

function problemsOf(env: Record<string, string>): { variable: string; expected: string }[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('configuration', () => {
  it('defaults to the zero-setup values', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.workerConcurrency).toBe(4);
    expect(config.publicUrl).toBe('http://localhost:3000');
    expect(config.logLevel).toBe('info');
    expect(config.metrics).toEqual({ enabled: false, token: null, workerPort: 9464 });
    expect(config.eventLeaseSeconds).toBe(30);
  });

  it('takes valid values', () => {
    const key = 'a'.repeat(64);
    const config = loadConfig({
      PORT: '8080',
      WORKER_CONCURRENCY: '0',
      PUBLIC_URL: 'https://crm.example.com/',
      APP_ENCRYPTION_KEY: key,
      METRICS_TOKEN: 'x'.repeat(32),
      LOG_LEVEL: 'silent',
      EVENT_LEASE_SECONDS: '6',
    });
    expect(config).toMatchObject({
      port: 8080,
      eventLeaseSeconds: 6,
      workerConcurrency: 0,
      publicUrl: 'https://crm.example.com',
      logLevel: 'silent',
      metrics: { enabled: false, token: 'x'.repeat(32) },
    });
  });

  it.each([
    ['PORT', 'abc', /port number/],
    ['PORT', '70000', /port number/],
    ['WORKER_CONCURRENCY', 'four', /whole number of job workers/],
    ['WORKER_CONCURRENCY', '-1', /whole number of job workers/],
    ['PUBLIC_URL', 'crm.example.com', /http\(s\) URL/],
    ['APP_ENCRYPTION_KEY', 'too-short', /32 bytes/],
    ['LOG_LEVEL', 'verbose', /one of trace, debug, info, warn, error, fatal, silent/],
    ['METRICS_ENABLED', 'yes', /true or false/],
    ['DATABASE_URL', 'mysql://x@y/z', /postgres:\/\//],
    ['DATABASE_URL', 'postgres:///crm', /with a host/],
  ])('refuses %s=%s, naming the variable and what it expects', (variable, value, expected) => {
    const problems = problemsOf({ [variable]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.variable).toBe(variable);
    expect(problems[0]?.expected).toMatch(expected);
  });

  it('names every bad variable at once, and never echoes a secret value', () => {
    const error = (() => {
      try {
        loadConfig({ PORT: 'abc', WORKER_CONCURRENCY: 'four', APP_ENCRYPTION_KEY: 'my-secret-key-value' });
      } catch (e) {
        return e as Error;
      }
      throw new Error('accepted');
    })();
    expect(error.message).toMatch(/PORT: expected a port number.*"abc"/);
    expect(error.message).toMatch(/WORKER_CONCURRENCY: .*"four"/);
    expect(error.message).toMatch(/APP_ENCRYPTION_KEY: expected 32 bytes/);
    expect(error.message).not.toContain('my-secret-key-value');
  });

  it.each([
    ['npm start', 'src/main.ts', { PORT: 'abc' }, 'PORT'],
    ['npm start', 'src/main.ts', { WORKER_CONCURRENCY: 'four' }, 'WORKER_CONCURRENCY'],
    ['npm run worker', 'src/worker-main.ts', { PUBLIC_URL: 'not a url' }, 'PUBLIC_URL'],
    ['npm run worker', 'src/worker-main.ts', { APP_ENCRYPTION_KEY: 'short' }, 'APP_ENCRYPTION_KEY'],
  ])('%s with a bad %j stops before starting anything', (_name, entry, env, variable) => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const started = Date.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', entry], {
      cwd,
      // No DATABASE_URL, an empty data folder: had it gone on, it would start an embedded cluster.
      env: { ...process.env, DATABASE_URL: '', DATA_DIR: '/nonexistent/should-not-be-created', ...env },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`${variable}: expected`);
    expect(run.stderr).toContain('Nothing was started.');
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe("README's configuration table", () => {
  it('documents every variable of the schema', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    const section = readme.split(/^## Configuration\s*$/m)[1]?.split(/^## /m)[0] ?? '';
    const documented = new Set<string>();
    for (const line of section.split('\n')) {
      const firstCell = line.match(/^\|([^|]*)\|/)?.[1] ?? '';
      for (const m of firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) if (m[1]) documented.add(m[1]);
    }
    const missing = Object.keys(envSchema.shape).filter((v) => !documented.has(v));
    expect(
      missing,
      `README.md "## Configuration" has no row for ${missing.join(', ')}: add one per variable, ` +
        'e.g. | `NAME` | default | what it does |, to the table (apps/api/src/config.ts holds the schema)',
    ).toEqual([]);
    const unknown = [...documented].filter((v) => !(v in envSchema.shape));
    expect(
      unknown,
      `README.md documents ${unknown.join(', ')}, which apps/api/src/config.ts does not read`,
    ).toEqual([]);
  });
});
