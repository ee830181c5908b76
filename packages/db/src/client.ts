import postgres from 'postgres';

export type Sql = postgres.Sql;
/** A transaction: a connection reserved from a pool, inside BEGIN … COMMIT (see rls.ts). */
export type Tx = postgres.ReservedSql;
/** A query runner: the pool or a transaction. */
export type Queryable = postgres.Sql | Tx;

export type SqlOptions = {
  /** Pool size; defaults to 10. */
  max?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * Seconds an idle connection is kept before it is closed; defaults to 30. 0: kept until its
   * lifetime ends (postgres.js: 30–60 minutes, then replaced when next needed).
   */
  idleTimeoutSeconds?: number;
};

/**
 * The postgres.js client for a connection URL. Notices are silenced (migrations raise many) and
 * bigint/numeric stay strings, so ids above 2^53 and money never pass through a JS number.
 */
export function createSql(url: string, options: SqlOptions = {}): Sql {
  const target = postgresTarget(url);
  return postgres(target.url, {
    ...(target.host ? { host: target.host } : {}),
    max: options.max ?? 10,
    onnotice: () => {},
    connection: { application_name: options.applicationName ?? 'crm' },
    idle_timeout: options.idleTimeoutSeconds ?? 30,
    connect_timeout: 10,
  });
}

/**
 * A connection URL as postgres.js takes it. libpq (psql, and node-postgres: graphile-worker's driver)
 * reads a Unix socket's folder from `?host=/var/run/postgresql`; postgres.js would send that to the
 * server as a setting and fail, so it goes to postgres.js's `host` option instead (a host with a `/`
 * is a socket's folder; the URL's port names the socket). The URL keeps its user and host
 * (`localhost`): the role pools log in by the URL's user (roleUrl).
 */
function postgresTarget(url: string): { url: string; host?: string } {
  const u = new URL(url);
  const host = u.searchParams.get('host');
  if (!host?.startsWith('/')) return { url };
  u.searchParams.delete('host');
  return { url: u.toString(), host };
}

/** Replace the database name in a connection URL. */
export function withDatabaseName(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** The database name of a connection URL. */
export function databaseNameOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}
