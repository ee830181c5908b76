/**
 * BENCHMARKS.md: one block per section between `<!-- bench:NAME -->` markers, replaced on each run
 * (other sections are kept), each with the machine, the command and the date it was measured on.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './app.ts';
import { adminUrl } from './db.ts';

export type SectionReport = { name: string; title: string; body: string };

function postgresVersion(): string {
  try {
    return execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'psql not found';
  }
}

/**
 * This machine's huge pages (/proc/meminfo): PostgreSQL maps its shared memory in them at start when
 * there are enough (`huge_pages = try`), which a new session's first reads feel (README, "PostgreSQL
 * server"). Meaningful when the measured PostgreSQL runs on this machine.
 */
function hugePages(): string {
  let info = '';
  try {
    info = readFileSync('/proc/meminfo', 'utf8');
  } catch {
    return 'huge pages unknown';
  }
  const n = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  const total = n('HugePages_Total');
  if (total === 0) return 'no huge pages';
  return `huge pages ${total - n('HugePages_Free') + n('HugePages_Rsvd')} of ${total} taken`;
}

/**
 * The measured PostgreSQL's settings that change what an order costs: shared_buffers (at a million
 * contacts the contacts' indexes outgrow the default 128 MB, and an order then costs PostgreSQL ~30%
 * more CPU: BENCHMARKS.md, session 15) and autovacuum (off, no table is analyzed as it grows, and
 * plans made while it was small stay: session 16).
 */
function serverSettings(): string {
  try {
    const [buffers, autovacuum] = execFileSync(
      'psql',
      [adminUrl(), '-Atc', 'show shared_buffers', '-c', 'show autovacuum'],
      { encoding: 'utf8', timeout: 5000 },
    )
      .trim()
      .split('\n');
    return `shared_buffers ${buffers}, autovacuum ${autovacuum}`;
  } catch {
    return 'shared_buffers and autovacuum unknown';
  }
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${postgresVersion()}, ${serverSettings()}, ${hugePages()}`;
}

export function stamp(command: string): string {
  return `_${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · \`${command}\` · ${machine()}_`;
}

const HEADER = `# Benchmarks

Measured with the harness in \`bench/\` (\`npm run bench -- [sections] [--quick] [--contacts N]\`; see
\`bench/README.md\`). Every figure below was taken on the machine and date shown with its section;
ratios are taken within one run, because absolute times drift on a shared machine.
`;

export async function writeSection(report: SectionReport): Promise<void> {
  const file = join(REPO_ROOT, 'BENCHMARKS.md');
  let text = await readFile(file, 'utf8').catch(() => HEADER);
  const start = `<!-- bench:${report.name} -->`;
  const end = `<!-- /bench:${report.name} -->`;
  const block = `${start}\n## ${report.title}\n\n${report.body.trim()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  await writeFile(file, text);
}
