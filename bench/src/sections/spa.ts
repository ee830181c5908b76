/**
 * SPA: the initial JavaScript of the vite build (entry script + modulepreloads from dist/index.html),
 * raw and gzip; and time to a usable Integration page in Chromium (playwright-core, /usr/bin/chromium),
 * served by the real server: cold (login form, sign-in, page usable) and warm (signed in, reload).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { REPO_ROOT, startApi } from '../lib/app.ts';
import { createBenchDatabase } from '../lib/db.ts';
import type { BenchOptions } from '../lib/options.ts';
import { type SectionReport, stamp } from '../lib/report.ts';
import { fmt, markdownTable, median } from '../lib/stats.ts';

const run = promisify(execFile);
/** An enabled input of the settings form: the page has its data and takes input. */
const USABLE_INPUT = 'form input:not([type=hidden]):not([disabled])';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

async function initialJs(dist: string): Promise<{ files: string[]; raw: number; gzip: number }> {
  const html = await readFile(join(dist, 'index.html'), 'utf8');
  const files = [
    ...html.matchAll(/<script[^>]*type="module"[^>]*src="([^"]+)"/g),
    ...html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g),
  ].flatMap((m) => (m[1] ? [m[1]] : []));
  let raw = 0;
  let gzip = 0;
  for (const f of files) {
    const bytes = await readFile(join(dist, f.replace(/^\//, '')));
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { files, raw, gzip };
}

export async function spaSection(options: BenchOptions): Promise<SectionReport> {
  const rounds = options.quick ? 3 : 7;
  const dist = join(REPO_ROOT, 'apps/web/dist');
  await run('npm', ['run', 'build', '-w', '@crm/web'], { cwd: REPO_ROOT, timeout: 180_000 });
  const js = await initialJs(dist);
  const db = await createBenchDatabase('spa');
  const cold: { loginForm: number; usable: number; total: number }[] = [];
  const warm: number[] = [];
  try {
    const api = await startApi({
      databaseUrl: db.url,
      keyText: db.keyText,
      workerConcurrency: 0,
      webDist: dist,
    });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    try {
      for (let i = 0; i < rounds; i++) {
        const context = await browser.newContext();
        const page = await context.newPage();
        page.setDefaultTimeout(20_000);
        const t0 = performance.now();
        await page.goto(`${api.url}/integration`);
        await page.getByLabel('Email').waitFor({ state: 'visible' });
        const loginForm = performance.now() - t0;
        await page.getByLabel('Email').fill('owner@demo.test');
        await page.getByLabel('Password').fill('demo-password');
        const t1 = performance.now();
        await page.getByRole('button', { name: /sign in|log in/i }).click();
        await page.locator('#settings-title').waitFor({ state: 'visible' });
        await page.locator(USABLE_INPUT).first().waitFor({ state: 'visible' });
        const usable = performance.now() - t1;
        cold.push({ loginForm, usable, total: loginForm + usable });
        // Warm: signed in, assets cached — a reload to a usable page.
        const t2 = performance.now();
        await page.reload();
        await page.locator('#settings-title').waitFor({ state: 'visible' });
        await page.locator(USABLE_INPUT).first().waitFor({ state: 'visible' });
        warm.push(performance.now() - t2);
        await context.close();
      }
    } finally {
      await browser.close();
      await api.stop();
    }
  } finally {
    await db.drop();
  }
  const table = markdownTable(
    ['measure', 'median', 'max'],
    [
      ['initial JS, raw', `${fmt(js.raw / 1024, 1)} KiB`, '—'],
      ['initial JS, gzip -9', `**${fmt(js.gzip / 1024, 1)} KiB**`, '—'],
      [
        'cold: navigation → login form visible (ms)',
        fmt(median(cold.map((c) => c.loginForm)), 0),
        fmt(Math.max(...cold.map((c) => c.loginForm)), 0),
      ],
      [
        'cold: sign-in click → Integration page usable (ms)',
        fmt(median(cold.map((c) => c.usable)), 0),
        fmt(Math.max(...cold.map((c) => c.usable)), 0),
      ],
      [
        'cold: both (typing excluded) (ms)',
        `**${fmt(median(cold.map((c) => c.total)), 0)}**`,
        fmt(Math.max(...cold.map((c) => c.total)), 0),
      ],
      [
        'warm: reload (signed in, cached) → usable (ms)',
        `**${fmt(median(warm), 0)}**`,
        fmt(Math.max(...warm), 0),
      ],
    ],
  );
  const body = [
    stamp(options.command),
    '',
    `\`npm run build -w @crm/web\` (vite), served by the real server from apps/web/dist over loopback. Initial ` +
      `JS = the entry script and modulepreloads of index.html (${js.files.join(', ')}). Chromium ${CHROMIUM} ` +
      `headless via playwright-core with ${FLAGS.join(' ')}; ${rounds} rounds, each in a fresh context (no cache, ` +
      'no cookies). "Usable" = the "Store and settings" heading visible and the form\'s first input enabled.',
    '',
    table,
  ].join('\n');
  return { name: 'spa', title: 'SPA', body };
}
