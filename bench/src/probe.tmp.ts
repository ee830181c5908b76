import { createBenchDatabase, generateContacts } from './lib/db.ts';

const db = await createBenchDatabase('probe');
console.log(db.name, db.workspaceId);
const t = Date.now();
await generateContacts(db.sql, db.workspaceId, 1_000_000);
console.log('loaded', (Date.now() - t) / 1000);
await db.sql.end();
