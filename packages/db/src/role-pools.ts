import { createHmac } from 'node:crypto';
import { createSql, type Sql } from './client.ts';

/**
 * The application's connections, one pool per role it acts as. Each pool LOGS IN as its role, so a
 * session can never climb back to the superuser (RESET ROLE / SET ROLE lead nowhere): app_user serves
 * user requests, app_worker the workers and (in a pool of its own) the webhook route, app_auth login
 * and sessions. `owner` (the
 * migrating role) is kept for migrations and the job queue's own bookkeeping, never for tenant data.
 */
export type RolePools = {
  readonly kind: 'role-pools';
  readonly ownerUrl: string;
  readonly owner: Sql;
  readonly user: Sql;
  readonly worker: Sql;
  /**
   * Also app_worker, for the webhook route alone: acks never wait behind job processing for a
   * connection, however busy (or stuck on locks) the workers are.
   */
  readonly ingest: Sql;
  readonly auth: Sql;
  end: (options?: { timeout?: number }) => Promise<void>;
};

export type AppRole = 'app_user' | 'app_worker' | 'app_auth';

export function isRolePools(value: unknown): value is RolePools {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'role-pools';
}

/**
 * A role's password, derived from the owner's credentials and the cluster's address: every process
 * given the same DATABASE_URL derives the same one, nothing is stored, and knowing it takes the
 * owner's credentials (the superuser's already).
 */
export function derivedRolePassword(ownerUrl: string, role: AppRole): string {
  // Roles belong to the cluster, not to a database: the database name is left out, so every
  // database of one cluster (test databases side by side) agrees on the password.
  const u = new URL(ownerUrl);
  const cluster = `${u.username}:${u.password}@${u.hostname}:${u.port}`;
  return createHmac('sha256', cluster).update(`crm-role-password:${role}`).digest('base64url');
}

export function roleUrl(ownerUrl: string, role: AppRole): string {
  const u = new URL(ownerUrl);
  u.username = role;
  u.password = derivedRolePassword(ownerUrl, role);
  // A URL without a host (postgres:///crm, the socket named by PGHOST) cannot carry a user: every
  // pool would log in as the owner, and row-level security would not apply to a superuser owner.
  if (u.username !== role) throw new Error(ROLE_URL_NEEDS_HOST);
  return u.toString();
}

export const ROLE_URL_NEEDS_HOST =
  'DATABASE_URL must name a host, so that the app can log in as its roles: for a Unix socket, ' +
  'postgres://user@localhost/crm?host=/var/run/postgresql';

const AUTH_FAILED = new Set(['28P01', '28000']); // invalid password; role may not log in / no pg_hba entry

async function canLogIn(url: string): Promise<boolean> {
  // Through createSql, the one place a URL becomes a client (a Unix socket's ?host= included).
  const probe = createSql(url, { max: 1, applicationName: 'crm-login-check' });
  try {
    await probe`select 1`;
    return true;
  } catch (error) {
    if (AUTH_FAILED.has((error as { code?: string }).code ?? '')) return false;
    throw error;
  } finally {
    await probe.end({ timeout: 1 });
  }
}

/** Sets the role's derived password as the owner. Roles are cluster-wide: concurrent setters retry. */
async function setRolePassword(owner: Sql, ownerUrl: string, role: AppRole): Promise<void> {
  const password = derivedRolePassword(ownerUrl, role);
  for (let attempt = 0; ; attempt++) {
    try {
      const [stmt] = await owner<
        { s: string }[]
      >`select format('alter role %I with login password %L', ${role}::text, ${password}::text) as s`;
      if (!stmt) throw new Error('format() returned nothing');
      await owner.unsafe(stmt.s);
      return;
    } catch (error) {
      if (attempt < 5 && /concurrently updated/.test((error as Error).message)) {
        await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
        continue;
      }
      throw error;
    }
  }
}

export type RolePoolSizes = {
  owner?: number;
  user?: number;
  worker?: number;
  ingest?: number;
  auth?: number;
};

/**
 * Connects the role pools for a migrated database, given the owner's URL. A role that cannot log in
 * with its derived password (first start, or another owner URL) gets it set by the owner first.
 */
export async function connectRolePools(
  ownerUrl: string,
  options: {
    sizes?: RolePoolSizes;
    applicationName?: string;
    /** How long the owner, user and auth pools keep an idle connection (default 30 s; tests shorten it). */
    idleTimeoutSeconds?: number;
  } = {},
): Promise<RolePools> {
  const name = options.applicationName ?? 'crm';
  const sizes = options.sizes ?? {};
  const idleTimeoutSeconds = options.idleTimeoutSeconds;
  const owner = createSql(ownerUrl, {
    max: sizes.owner ?? 2,
    applicationName: `${name}-owner`,
    idleTimeoutSeconds,
  });
  const roles: AppRole[] = ['app_user', 'app_worker', 'app_auth'];
  for (const role of roles) {
    if (!(await canLogIn(roleUrl(ownerUrl, role)))) {
      await setRolePassword(owner, ownerUrl, role);
      if (!(await canLogIn(roleUrl(ownerUrl, role)))) {
        throw new Error(
          `The database refuses logins as ${role} (check pg_hba.conf allows password logins for it).`,
        );
      }
    }
  }
  const user = createSql(roleUrl(ownerUrl, 'app_user'), {
    max: sizes.user ?? 10,
    applicationName: `${name}-user`,
    idleTimeoutSeconds,
  });
  // The workers' and the webhook route's connections stay open through quiet spells (until their
  // lifetime, 30–60 min): a store's orders often come minutes apart, and on a new connection each
  // order paid again for the login, its statements' preparation and plans, and a page fault for each
  // page of shared buffers the new session touched — ack → visible ~60 ms instead of ~28 ms
  // (BENCHMARKS.md, session 14). They are few (DB_POOL_SIZE at most, only as many as were in use).
  const worker = createSql(roleUrl(ownerUrl, 'app_worker'), {
    max: sizes.worker ?? 10,
    applicationName: `${name}-worker`,
    idleTimeoutSeconds: 0,
  });
  const ingest = createSql(roleUrl(ownerUrl, 'app_worker'), {
    max: sizes.ingest ?? 4,
    applicationName: `${name}-ingest`,
    idleTimeoutSeconds: 0,
  });
  const auth = createSql(roleUrl(ownerUrl, 'app_auth'), {
    max: sizes.auth ?? 4,
    applicationName: `${name}-auth`,
    idleTimeoutSeconds,
  });
  return {
    kind: 'role-pools',
    ownerUrl,
    owner,
    user,
    worker,
    ingest,
    auth,
    end: async (opts) => {
      await Promise.all([
        owner.end(opts),
        user.end(opts),
        worker.end(opts),
        ingest.end(opts),
        auth.end(opts),
      ]);
    },
  };
}
