import { describe, expect, it } from 'vitest';
import { checkSource, isNear, MAX_FILE_LINES, MAX_FUNCTION_LINES } from './check-house.ts';

const lines = (n: number, text = 'x;') => Array.from({ length: n }, () => text).join('\n');

describe('no SQL outside packages/db', () => {
  it('finds a tagged SQL statement and .unsafe( in an app', () => {
    const text =
      'export const f = (sql) => sql`\n  select id from orders where id = \u0024{1}`;\nsql.unsafe("x");\n';
    expect(checkSource('apps/api/src/orders/x.ts', text).map((f) => [f.rule, f.line])).toEqual([
      ['sql', 1],
      ['sql', 3],
    ]);
    expect(
      checkSource('apps/api/src/x.ts', "const q = 'insert into t (a) values (1)';").map((f) => f.rule),
    ).toEqual(['sql']);
    expect(
      checkSource('apps/api/src/x.ts', 'const q = `update orders set a = 1`;').map((f) => f.rule),
    ).toEqual(['sql']);
  });

  it('lets packages/db and the tests hold SQL, and does not take prose for SQL', () => {
    const text = 'const a = sql`select 1 from t`;\n';
    expect(checkSource('packages/db/src/owner/x.ts', text)).toEqual([]);
    expect(checkSource('apps/api/test/x.test.ts', text)).toEqual([]);
    expect(checkSource('apps/web/src/x.tsx', "const m = 'Select the pipeline from the list';")).toEqual([]);
    expect(checkSource('apps/web/src/x.tsx', "const m = 'Update the settings';")).toEqual([]);
  });
});

describe('sizes', () => {
  it(`reports a file over ${MAX_FILE_LINES} lines, except tests and migrations`, () => {
    const text = `${lines(MAX_FILE_LINES + 1)}\n`;
    expect(checkSource('apps/api/src/big.ts', text).map((f) => f.rule)).toEqual(['file-size']);
    expect(checkSource('apps/api/src/ok.ts', `${lines(MAX_FILE_LINES)}\n`)).toEqual([]);
    expect(checkSource('apps/api/test/big.test.ts', text)).toEqual([]);
    expect(checkSource('packages/db/migrations/big.ts', text)).toEqual([]);
  });

  it(`reports a function over ${MAX_FUNCTION_LINES} lines by name`, () => {
    const body = lines(MAX_FUNCTION_LINES - 1, '  call();');
    const long = `export function tooLong() {\n${body}\n}\n`;
    const arrow = `const fine = () => {\n${lines(MAX_FUNCTION_LINES - 2, '  call();')}\n};\n`;
    expect(checkSource('apps/web/src/x.tsx', long + arrow).map((f) => f.detail)).toEqual([
      `function tooLong: ${MAX_FUNCTION_LINES + 1} lines (max ${MAX_FUNCTION_LINES})`,
    ]);
  });
});

describe('tolerance', () => {
  it('counts up to 10% over a limit as near, beyond it as a violation', () => {
    const at = (n: number) => checkSource('apps/api/src/x.ts', `${lines(n)}\n`)[0];
    const near = at(440);
    const over = at(441);
    expect(near && isNear(near)).toBe(true);
    expect(over && isNear(over)).toBe(false);
  });
});
