/**
 * The house rules `npm test` enforces beside the import graph (dependency-cruiser, .dependency-cruiser.cjs):
 * - no SQL outside packages/db: in the apps' source (tests excepted) no `.unsafe(` call and no string
 *   or template literal that is an SQL statement;
 * - size: no source file over MAX_FILE_LINES lines and no function over MAX_FUNCTION_LINES lines,
 *   outside tests, migrations and fixtures.
 * Prints every finding and exits 1 if there is any. Run: `npm run check:house` (part of `npm test`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

export const MAX_FILE_LINES = 400;
export const MAX_FUNCTION_LINES = 100;
const ROOT = join(import.meta.dirname, '..');
const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;
const SKIP_DIR = new Set([
  'node_modules',
  'dist',
  '.data',
  'test-results',
  'playwright-report',
  'screenshots',
]);
/** Not held to the size limits: tests, their support and fixtures, migrations, generated declarations. */
const NOT_SIZED = /(^|\/)(test|tests|fixtures|migrations)\/|\.test\.tsx?$|\.spec\.ts$|\.d\.ts$/;
/** Where SQL may live. */
const SQL_HOME = /^packages\/db\//;
/** Tests arrange rows with SQL of their own; e2e and bench are tools outside the apps. */
const SQL_FREE = /^apps\/[^/]+\/src\//;
/** An SQL statement's start, in lower case (all-caps SQL is lowered first; sentence case is prose). */
const SQL_STATEMENT =
  /^\s*(select\s[\s\S]*\sfrom\s|insert\s+into\s|update\s+[\w.]+\s+set\s|delete\s+from\s|with\s+\w+\s+as\s*\(|create\s+(table|index|function|policy)\s|alter\s+table\s|drop\s+(table|index)\s|truncate\s|notify\s|listen\s|lock\s+table\s)/;

export type Finding = {
  file: string;
  line: number;
  rule: 'sql' | 'file-size' | 'function-size';
  detail: string;
  /** For the size rules: the lines counted. */
  lines?: number;
};

/**
 * The limits are "about" 400 and 100 lines: up to 10% over is printed as a warning to act on, beyond
 * that it fails.
 */
export const TOLERANCE = 1.1;

export function isNear(f: Finding): boolean {
  const limit = f.rule === 'file-size' ? MAX_FILE_LINES : f.rule === 'function-size' ? MAX_FUNCTION_LINES : 0;
  return limit > 0 && f.lines !== undefined && f.lines <= Math.floor(limit * TOLERANCE);
}

/**
 * Findings that existed when the check came in, each to be fixed in its owner's room; listed by file,
 * rule and (for functions) name. An entry that no longer matches anything fails the check too, so the
 * list only shrinks.
 */
export const KNOWN: readonly { file: string; rule: Finding['rule']; name?: string }[] = [];

function isKnown(f: Finding): boolean {
  return KNOWN.some(
    (k) => k.file === f.file && k.rule === f.rule && (!k.name || f.detail.includes(`function ${k.name}:`)),
  );
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIP_DIR.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (SOURCE.test(entry.name)) yield path;
  }
}

function isSqlStatement(text: string): boolean {
  const first = text.trim().split(/\s/)[0] ?? '';
  return SQL_STATEMENT.test(first === first.toUpperCase() ? text.toLowerCase() : text);
}

function lineOf(source: ts.SourceFile, pos: number): number {
  return source.getLineAndCharacterOfPosition(pos).line + 1;
}

function literalText(node: ts.Node): string | null {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node))
    return node.head.text + node.templateSpans.map((s) => ` $1 ${s.literal.text}`).join('');
  return null;
}

function functionName(node: ts.Node): string {
  const named = node as { name?: ts.Node };
  if (named.name && ts.isIdentifier(named.name)) return named.name.text;
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return '(anonymous)';
}

/** The findings of one file; `file` is relative to the repository root, with forward slashes. */
export function checkSource(file: string, text: string): Finding[] {
  const findings: Finding[] = [];
  const sized = !NOT_SIZED.test(file);
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (sized && lines > MAX_FILE_LINES)
    findings.push({
      file,
      line: 1,
      rule: 'file-size',
      detail: `${lines} lines (max ${MAX_FILE_LINES})`,
      lines,
    });
  const sqlFree = SQL_FREE.test(file) && !SQL_HOME.test(file) && !NOT_SIZED.test(file);
  if (!sized && !sqlFree) return findings;
  const kind = file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const visit = (node: ts.Node): void => {
    if (sqlFree) {
      const literal = literalText(node);
      if (literal !== null && isSqlStatement(literal))
        findings.push({
          file,
          line: lineOf(source, node.getStart()),
          rule: 'sql',
          detail: `SQL statement outside packages/db: ${literal.trim().split('\n')[0]?.slice(0, 60)}`,
        });
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        node.expression.name.text === 'unsafe'
      )
        findings.push({
          file,
          line: lineOf(source, node.getStart()),
          rule: 'sql',
          detail: '.unsafe( outside packages/db',
        });
    }
    if (
      sized &&
      (ts.isFunctionDeclaration(node) ||
        ts.isFunctionExpression(node) ||
        ts.isArrowFunction(node) ||
        ts.isMethodDeclaration(node)) &&
      node.body
    ) {
      const span = lineOf(source, node.end) - lineOf(source, node.getStart()) + 1;
      if (span > MAX_FUNCTION_LINES)
        findings.push({
          file,
          line: lineOf(source, node.getStart()),
          rule: 'function-size',
          detail: `function ${functionName(node)}: ${span} lines (max ${MAX_FUNCTION_LINES})`,
          lines: span,
        });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return findings;
}

export function checkRepository(root = ROOT): Finding[] {
  const findings: Finding[] = [];
  for (const top of ['apps', 'packages', 'e2e', 'bench', 'scripts']) {
    for (const path of sourceFiles(join(root, top))) {
      const file = relative(root, path).split('\\').join('/');
      findings.push(...checkSource(file, readFileSync(path, 'utf8')));
    }
  }
  return findings;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const all = checkRepository();
  const near = all.filter(isNear);
  const findings = all.filter((f) => !isNear(f));
  const known = findings.filter(isKnown);
  const fresh = findings.filter((f) => !isKnown(f));
  const stale = KNOWN.filter(
    (k) =>
      !findings.some(
        (f) =>
          isKnown(f) &&
          f.file === k.file &&
          f.rule === k.rule &&
          (!k.name || f.detail.includes(`function ${k.name}:`)),
      ),
  );
  for (const f of near) console.log(`near   ${f.file}:${f.line}  ${f.rule}  ${f.detail}`);
  for (const f of known) console.log(`known  ${f.file}:${f.line}  ${f.rule}  ${f.detail}`);
  for (const f of fresh) console.log(`ERROR  ${f.file}:${f.line}  ${f.rule}  ${f.detail}`);
  for (const k of stale)
    console.log(`ERROR  KNOWN lists ${k.file} ${k.rule} ${k.name ?? ''}, which is fixed: remove it`);
  const errors = fresh.length + stale.length;
  console.log(
    `house rules: ${errors} violations, ${known.length} known (listed in KNOWN, to fix), ${near.length} within 10% of a limit`,
  );
  process.exitCode = errors ? 1 : 0;
}
