// npm run db:migrate — applies pending migrations to DATABASE_URL (or the embedded default).
import { createSql } from '../client.ts';
import { migrate } from '../migrate.ts';
import { openDatabase } from '../open.ts';

const db = await openDatabase();
const sql = createSql(db.url, { max: 1, applicationName: 'crm-migrate' });
try {
  const result = await migrate(sql);
  console.log(
    result.applied.length ? `applied: ${result.applied.join(', ')}` : 'nothing to apply',
    `(${result.skipped.length} already applied)`,
  );
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
} finally {
  await sql.end();
  await db.stop();
}
