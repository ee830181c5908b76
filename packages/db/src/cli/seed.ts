// npm run db:seed — the demo seed of the shared contract, once, into DATABASE_URL (or the embedded default).
import { createSql } from '../client.ts';
import { encryptionKeyFile } from '../config.ts';
import { migrate } from '../migrate.ts';
import { openDatabase } from '../open.ts';
import { loadEncryptionKey } from '../secrets.ts';
import { seed } from '../seed.ts';

const db = await openDatabase();
const sql = createSql(db.url, { max: 1, applicationName: 'crm-seed' });
try {
  await migrate(sql);
  const result = await seed(sql, { key: await loadEncryptionKey(encryptionKeyFile()) });
  console.log(result.seeded ? 'seeded Demo Store' : 'Demo Store already present: nothing seeded');
} catch (error) {
  console.error((error as Error).message);
  process.exitCode = 1;
} finally {
  await sql.end();
  await db.stop();
}
