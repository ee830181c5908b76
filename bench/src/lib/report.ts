/**
 * BENCHMARKS.md: one block per section between `<!-- bench:NAME -->` markers, replaced on each run
 * (other sections are kept), each with the machine, the command and the date it was measured on.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './app.ts';

export type SectionReport = { name: string; title: string; body: string };

function postgresVersion(): string {
  try {
    return execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'psql not found';
  }
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${postgresVersion()}`;
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
