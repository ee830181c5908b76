import { createBenchDatabase, generateContacts } from './lib/db.ts';

const db = await createBenchDatabase('probe');
await generateContacts(db.sql, db.workspaceId, 100_000);
console.log(db.name, db.workspaceId);
await db.sql.end();
