/**
 * A failed-login flood must not hurt signed-in users: scrypt runs outside any transaction and behind
 * a small limit, and login never holds more than 2 of app_auth's 4 connections, so session lookups
 * keep answering.
 */
import { request } from 'node:http';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrangeWorld, signedIn, type TrpcClient, type World } from './trpc-support.ts';

let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await arrangeWorld(db);
});
afterAll(async () => {
  await world?.app.close();
  await db?.drop();
});

/** A wrong login from a local address of its own (127.0.0.x), as a flood from rotating addresses would be. */
function wrongLoginFrom(localAddress: string, i: number): Promise<number> {
  const url = new URL('/trpc/auth.login', world.app.url);
  const body = JSON.stringify({ email: `victim-${i % 5}@demo.test`, password: `guess-${i}` });
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      localAddress,
      headers: { 'content-type': 'application/json', 'x-trpc-source': 'flood' },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('a failed-login flood', () => {
  it('while 50 concurrent wrong logins run, every signed-in call answers, none with a 500', async () => {
    const users: TrpcClient[] = await Promise.all(
      ['owner@demo.test', 'admin@demo.test', 'agent@demo.test'].map((e) => signedIn(world.app, e)),
    );
    let flooding = true;
    const flood = Promise.all(
      Array.from({ length: 50 }, (_, i) => wrongLoginFrom(`127.0.0.${2 + i}`, i)),
    ).finally(() => {
      flooding = false;
    });
    const signedInStatuses: number[] = [];
    const callsDuringFlood = users.map(async (user) => {
      // At least 5 calls each, and keep calling while the flood lasts.
      for (let n = 0; n < 5 || flooding; n++) {
        const me = await user.api.auth.me.query();
        const events = await user.api.events.list.query({ workspaceId: world.demo.workspaceId });
        signedInStatuses.push(me.status, events.status);
      }
    });
    const [floodStatuses] = await Promise.all([flood, ...callsDuringFlood]);

    expect(signedInStatuses.length).toBeGreaterThanOrEqual(30);
    expect(signedInStatuses.filter((s) => s !== 200)).toEqual([]);
    // The flood itself is answered 401 (or 429 when too many are under way), never 500.
    expect(floodStatuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    expect(floodStatuses.filter((s) => s === 401).length).toBeGreaterThan(0);
    // Up to 32 scrypt checks, one or two at a time: on a loaded 2-core machine that takes a minute.
  }, 240_000);
});
