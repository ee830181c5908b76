/**
 * npm run bench -- [ingest] [ops] [processing] [lookup] [spa] [soak] [fuzz] [abuse] [--quick] [--contacts 1000000]
 *                  [--processing-contacts 100000] [--dry-run]
 *
 * Runs the chosen sections (default: all) against DATABASE_URL's cluster (default
 * postgres://postgres@127.0.0.1:5432/postgres), each in its own database that it drops afterwards,
 * prints a markdown block per section and writes it into BENCHMARKS.md (unless --dry-run).
 */
import { parseArgs } from 'node:util';
import { dropLeftoverBenchDatabases } from './lib/db.ts';
import type { BenchOptions } from './lib/options.ts';
import { type SectionReport, writeSection } from './lib/report.ts';
import { abuseSection } from './sections/abuse.ts';
import { fuzzSection } from './sections/fuzz.ts';
import { ingestSection } from './sections/ingest.ts';
import { lookupSection } from './sections/lookup.ts';
import { opsSection } from './sections/ops.ts';
import { processingSection } from './sections/processing.ts';
import { soakSection } from './sections/soak.ts';
import { spaSection } from './sections/spa.ts';

type SectionRunner = (options: BenchOptions) => Promise<SectionReport>;

const SECTIONS: Record<string, SectionRunner> = {
  ingest: ingestSection,
  ops: opsSection,
  processing: processingSection,
  lookup: lookupSection,
  spa: spaSection,
  soak: soakSection,
  fuzz: fuzzSection,
  abuse: abuseSection,
};

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      contacts: { type: 'string' },
      'processing-contacts': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      `usage: npm run bench -- [${Object.keys(SECTIONS).join('] [')}] [--quick] [--contacts N] [--dry-run]`,
    );
    return 0;
  }
  // `npm run bench -- ingest --quick` reaches us through a nested `npm run`, which keeps `--flags` to
  // itself as npm_config_* variables: read them there too. `quick`, `contacts=N` also work as words.
  const env = process.env;
  // (npm reads `--contacts 1000000` as a flag and a word: the number is given back to the flag.)
  const numbers = positionals.filter((p) => /^\d+$/.test(p));
  const words = new Map(
    positionals
      .filter((p) => !(p in SECTIONS) && !/^\d+$/.test(p))
      .map((p) => [p.split('=')[0] ?? p, p.split('=')[1] ?? 'true']),
  );
  const flag = (name: string, value: string | boolean | undefined): string | undefined => {
    if (value !== undefined && value !== false) return String(value);
    const v = words.get(name) ?? env[`npm_config_${name.replace(/-/g, '_')}`];
    return v === 'true' && name !== 'quick' && name !== 'dry-run' ? numbers.shift() : v;
  };
  const sections = positionals.filter((p) => p in SECTIONS);
  const known = new Set(['quick', 'contacts', 'processing-contacts', 'dry-run']);
  const unknown = [...words.keys()].filter((w) => !known.has(w));
  if (unknown.length > 0) {
    console.error(`unknown section(s): ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`);
    return 2;
  }
  const quick = flag('quick', values.quick) === 'true';
  const options: BenchOptions = {
    quick,
    contacts: Number(flag('contacts', values.contacts) ?? (quick ? 100_000 : 1_000_000)),
    processingContacts: Number(flag('processing-contacts', values['processing-contacts']) ?? 100_000),
    command: `npm run bench -- ${[
      ...sections,
      ...(quick ? ['--quick'] : []),
      ...(['contacts', 'processing-contacts'] as const).flatMap((k) => {
        const v = flag(k, values[k]);
        return v ? [`--${k} ${v}`] : [];
      }),
    ].join(' ')}`.trim(),
    dryRun: flag('dry-run', values['dry-run']) === 'true',
  };
  if (env.BENCH_PRINT_OPTIONS) console.log(options, sections);
  const left = await dropLeftoverBenchDatabases();
  if (left.length > 0) console.log(`dropped ${left.length} leftover bench database(s)`);
  const chosen = sections.length > 0 ? sections : Object.keys(SECTIONS);
  let failed = 0;
  for (const name of chosen) {
    const section = SECTIONS[name];
    if (!section) continue;
    const started = Date.now();
    console.log(`\n▶ ${name}`);
    try {
      const report = await section(options);
      console.log(`\n${report.body}\n(${Math.round((Date.now() - started) / 1000)} s)`);
      if (!options.dryRun) await writeSection(report);
    } catch (error) {
      failed += 1;
      console.error(`✗ ${name} failed:`, error);
    }
  }
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
// Keep-alive agents and timers must not hold the process.
setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
