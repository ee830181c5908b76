import type { Queryable } from '../client.ts';

export type ContactFields = {
  name: string;
  /** E.164 */
  phone: string | null;
  email: string | null;
  address: string | null;
  city: string | null;
  department: string | null;
  /** E.164 */
  secondaryPhone: string | null;
  /** customer.email when the order was placed under another email. */
  secondaryEmail: string | null;
  shopifyCustomerId: string | null;
};

export type ContactRow = {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
  city: string | null;
  department: string | null;
};

const CONTACT_COLUMNS = 'id, name, phone, email, city, department';

/** Exact phone (E.164) match in the current workspace (unique index). */
export async function findContactByPhone(tx: Queryable, phone: string): Promise<ContactRow | null> {
  const [row] = await tx<ContactRow[]>`
    select ${tx.unsafe(CONTACT_COLUMNS)} from contacts
    where workspace_id = app.current_workspace_id() and phone = ${phone}`;
  return row ?? null;
}

/**
 * Case-insensitive exact email match, the oldest when several share it. On the stored lower(email)
 * (email_norm, migration 0019): `lower(email) = …` could not be an index condition under RLS.
 */
export async function findContactByEmail(tx: Queryable, email: string): Promise<ContactRow | null> {
  const [row] = await tx<ContactRow[]>`
    select ${tx.unsafe(CONTACT_COLUMNS)} from contacts
    where workspace_id = app.current_workspace_id() and email_norm = lower(${email}::text)
    order by created_at, id
    limit 1`;
  return row ?? null;
}

/**
 * The contact an order's customer already is, in one statement: the one with the same phone (E.164),
 * else the oldest with the same email (case-insensitive, email_norm) — findContactByPhone, then
 * findContactByEmail, as one round trip.
 */
export async function findContactByPhoneOrEmail(
  tx: Queryable,
  phone: string | null,
  email: string | null,
): Promise<ContactRow | null> {
  if (!phone && !email) return null;
  const [row] = await tx<ContactRow[]>`
    select ${tx.unsafe(CONTACT_COLUMNS)} from (
      (select ${tx.unsafe(CONTACT_COLUMNS)}, 1 as rank from contacts
       where workspace_id = app.current_workspace_id() and phone = ${phone}::text)
      union all
      (select ${tx.unsafe(CONTACT_COLUMNS)}, 2 as rank from contacts
       where workspace_id = app.current_workspace_id() and email_norm = lower(${email}::text)
       order by created_at, id
       limit 1)
    ) as c
    order by rank
    limit 1`;
  return row ?? null;
}

export type ContactCandidateRow = ContactRow & {
  /** No less than the scorer's score for this row (see CandidateScoreWeights); rows come ordered by it. */
  scoreBound: number;
};

/**
 * The scorer's weights (FUZZY_WEIGHTS and FUZZY_THRESHOLDS.phoneticName in @crm/shopify), passed in by
 * the caller so that the two cannot drift: the lookup orders its rows by an upper bound of the score,
 *   w.name × max(similarity, phoneticName if the names share a double-metaphone key)
 *   + city (same / other, when both are known) + phone (same / near: app.crm_phone_offset 1–2) + same email,
 * clamped to [0, 1] and rounded to three decimals as the scorer does. Sounding alike needs a shared
 * key, so this is never below the score (up to the database's dmetaphone() differing from the
 * scorer's on a few spellings — see the tests in apps/api), and equal to it for a row that sounds
 * alike or has a similarity above the phonetic score.
 */
export type CandidateScoreWeights = {
  name: number;
  sameCity: number;
  otherCity: number;
  samePhone: number;
  nearPhone: number;
  sameEmail: number;
  phoneticName: number;
};

/**
 * What an order says about its customer, to look for possible duplicates of. The email is not searched:
 * a contact with the same email (case-insensitive) is linked before any fuzzy lookup
 * (findContactByEmail), so the lookup never sees one.
 */
export type ContactProbe = { name: string; city: string | null; phone: string | null; email?: string | null };

/**
 * The name similarities below which the scorer (scoreContactCandidate in @crm/shopify) can accept no
 * candidate, for its weights (0.5 × name, +0.25 same city, +0.35 near phone, +0.4 same
 * email, candidate at ≥ 0.6 after rounding to three decimals, name ≥ 0.5 in every case):
 * - same city and nothing else: 0.5 × name + 0.25 ≥ 0.5995 → name ≥ 0.699 (a similarity that high, or
 *   sounding alike = 0.8); the lookup uses 0.69, a little below, as pg_trgm's threshold;
 * - the same or a near phone (or the same email, linked before): name ≥ 0.5 (similarity, or sounding
 *   alike).
 * The cross-check against the scorer itself is apps/api/test/contact-candidates.test.ts.
 */
export const CANDIDATE_NAME_SIMILARITY = { sameCity: 0.69, nearPhone: 0.5 } as const;

/**
 * Possible duplicates of the contact an order describes, found through indexes (migration 0009), in
 * the ways the scorer can accept one — never a scan of the workspace's contacts:
 * - same city (accent- and case-folded) and the names sound alike (double-metaphone pairs of words,
 *   GIN on app.crm_name_city_keys) or are ≥ `sameCitySimilarity` similar (the trigram GIN on
 *   name_norm of the probe's (workspace, city) bucket of 64, migrations 0012 and 0013; pg_trgm's `%` at that
 *   threshold, transaction-local);
 * - a near phone (phonesAreNear in @crm/shopify: 1–2 edits between numbers of one length, or one
 *   digit more or less; app.crm_phone_offset ≤ 2), found exactly through the GIN on
 *   app.crm_phone_near_keys (migration 0014: every key shared is a near phone), with a name
 *   ≥ `nameSimilarity` similar or sharing a double-metaphone key.
 * Without a city or a phone no contact can be a candidate and nothing is queried. At most
 * `limit` rows, highest score bound first (then oldest): a caller that finds a score at least the last
 * row's bound has the best candidate; otherwise it asks again with a larger limit. Scoring is the
 * caller's.
 */
export async function findContactCandidatesByName(
  tx: Queryable,
  probe: ContactProbe,
  options: {
    weights: CandidateScoreWeights;
    limit?: number;
    sameCitySimilarity?: number;
    nameSimilarity?: number;
  },
): Promise<ContactCandidateRow[]> {
  const limit = options.limit ?? 25;
  const sameCity = options.sameCitySimilarity ?? CANDIDATE_NAME_SIMILARITY.sameCity;
  const nameFloor = options.nameSimilarity ?? CANDIDATE_NAME_SIMILARITY.nearPhone;
  const digits = probe.phone?.replace(/\D/g, '') ?? '';
  const phone = digits.length >= 3 && digits.length <= 15 ? probe.phone : null;
  if (!probe.name.trim() || (!probe.city?.trim() && !phone)) return [];

  // The probe's normalised forms and keys first, as plain values: a condition is an index condition
  // under RLS only if every function in it is LEAKPROOF, and app.crm_normalize() inlines into ones
  // that are not (a prepared statement's generic plan would then scan the workspace). The pg_trgm
  // threshold is transaction-local; the `%` operator (and so the index scan) uses it. So is `jit = off`:
  // at a million contacts the planner's estimates for the three arms pass jit_above_cost, and each
  // custom plan (a connection's first executions of each statement) then spent ~30 ms compiling
  // expressions for a query that runs in ~4 ms (bench: on a fresh connection p95 52–56 ms with JIT,
  // 11–12 ms without).
  const [p] = await tx<
    {
      q: string;
      city: string;
      cityKeys: string[];
      phoneKeys: string[];
      phonetic: string[];
      bucket: number;
    }[]
  >`
    select app.crm_normalize(${probe.name}) as q, app.crm_normalize(${probe.city}) as city,
           app.crm_lookup_bucket(app.current_workspace_id(), app.crm_normalize(${probe.city})) as bucket,
           app.crm_name_city_probe(${probe.name}, ${probe.city}) as "cityKeys",
           app.crm_phone_near_keys(${phone})::text[] as "phoneKeys",
           app.crm_phonetic_keys(${probe.name}) as phonetic,
           set_config('pg_trgm.similarity_threshold', ${String(sameCity)}, true),
           set_config('jit', 'off', true)`;
  if (!p?.q) return [];
  const bucket = Number(p.bucket);
  if (!Number.isInteger(bucket))
    throw new Error(`findContactCandidatesByName: bucket ${p.bucket} is not an integer`);

  // One branch per way in, each with its index condition alone at the top (what a filter such as
  // levenshtein() or similarity(), not leakproof, would otherwise keep from the index); each returns
  // the whole row, so that nothing joins back to the table.
  const columns = tx`select ${tx.unsafe(CONTACT_COLUMNS)}, created_at, name_phonetic, city_norm,
    similarity(name_norm, ${p.q}) as similarity,
    ${phone ? tx`case when phone is not null then app.crm_phone_offset(substr(phone, 2), ${digits}) end` : tx`null::int`} as phone_distance
    from contacts where workspace_id = app.current_workspace_id()`;
  const nameIsClose = tx`(similarity(name_norm, ${p.q}) >= ${nameFloor} or name_phonetic && ${p.phonetic}::text[])`;
  const arms = [];
  if (p.city) {
    arms.push(
      tx`${columns} and app.crm_name_city_keys(name, city) && ${p.cityKeys}::text[] and city_norm = ${p.city}`,
      // The bucket as a constant, so the planner picks the one partial trigram index (0013, 0031)
      // that holds this workspace's contacts of this city.
      tx`${columns} and name_norm % ${p.q} and city_norm = ${p.city}
           and lookup_bucket = ${tx.unsafe(String(bucket))}`,
    );
  }
  if (phone) {
    arms.push(
      tx`${columns} and phone is not null and app.crm_phone_near_keys(phone) && ${p.phoneKeys}::bigint[]
           and app.crm_phone_offset(substr(phone, 2), ${digits}) <= 2 and ${nameIsClose}`,
    );
  }
  const found = arms.reduce((acc, arm) => tx`${acc} union ${arm}`);
  const w = options.weights;
  const email = probe.email?.trim().toLowerCase() ?? '';
  const rows = await tx<(ContactRow & { score_bound: string | number })[]>`
    select ${tx.unsafe(CONTACT_COLUMNS)}, score_bound from (
      -- The scorer's sum, in its order and precision, clamped and rounded as it does (Math.round).
      select f.*, floor(least(1, greatest(0,
          ${w.name}::float8 * greatest(similarity,
            case when name_phonetic && ${p.phonetic}::text[] then ${w.phoneticName}::float8 else 0 end)
          + case when ${p.city ?? ''}::text <> '' and city_norm <> ''
              then case when city_norm = ${p.city ?? ''}::text then ${w.sameCity}::float8 else ${w.otherCity}::float8 end
              else 0 end
          + case when phone_distance = 0 then ${w.samePhone}::float8
              when phone_distance <= 2 then ${w.nearPhone}::float8 else 0 end
          + case when ${email}::text <> '' and lower(btrim(email)) = ${email}::text then ${w.sameEmail}::float8 else 0 end
        )) * 1000 + 0.5) / 1000 as score_bound
      from (${found}) as f
    ) as b
    order by score_bound desc, created_at, id
    limit ${limit}`;
  return rows.map(({ score_bound, ...r }) => ({ ...r, scoreBound: Number(score_bound) }));
}

/**
 * The statement (unsent: a fragment for a larger one, or awaited) that creates a contact with a phone
 * unless the workspace has one with that phone (the unique (workspace, phone) index decides, waiting
 * for a transaction that is inserting it): then no row.
 */
export function insertContactUnlessPhoneTaken(tx: Queryable, contact: ContactFields & { phone: string }) {
  return tx<{ id: string }[]>`
    insert into contacts (workspace_id, name, phone, email, address, city, department, secondary_phone,
                          shopify_customer_id, secondary_email)
    values (app.current_workspace_id(), ${contact.name}, ${contact.phone}, ${contact.email}, ${contact.address},
            ${contact.city}, ${contact.department}, ${contact.secondaryPhone}, ${contact.shopifyCustomerId},
            ${contact.secondaryEmail})
    on conflict (workspace_id, phone) do nothing
    returning id`;
}

/**
 * Creates a contact with a phone, or finds the one that holds that phone already: two transactions
 * creating the same customer at once both end on one row (the unique (workspace, phone) index makes
 * the second wait for the first, then do nothing and read it).
 */
export async function insertContactWithPhone(
  tx: Queryable,
  contact: ContactFields & { phone: string },
): Promise<{ id: string; created: boolean }> {
  const [created] = await insertContactUnlessPhoneTaken(tx, contact);
  if (created) return { id: created.id, created: true };
  const existing = await findContactByPhone(tx, contact.phone);
  if (!existing) throw new Error('insertContactWithPhone: the conflicting contact vanished');
  return { id: existing.id, created: false };
}

/**
 * Creates a contact without a phone. With an email, under a transaction-scoped advisory lock on
 * (workspace, email), it first looks again for a contact with that email, so two transactions
 * creating the same customer at once end on one row.
 */
export async function insertContactWithoutPhone(
  tx: Queryable,
  contact: ContactFields,
): Promise<{ id: string; created: boolean }> {
  if (contact.email) {
    await tx`
      select pg_advisory_xact_lock(
        hashtextextended('contact_email:' || app.current_workspace_id()::text || ':' || lower(${contact.email}), 0))`;
    const existing = await findContactByEmail(tx, contact.email);
    if (existing) return { id: existing.id, created: false };
  }
  const [row] = await tx<{ id: string }[]>`
    insert into contacts (workspace_id, name, phone, email, address, city, department, secondary_phone,
                          shopify_customer_id, secondary_email)
    values (app.current_workspace_id(), ${contact.name}, null, ${contact.email}, ${contact.address},
            ${contact.city}, ${contact.department}, ${contact.secondaryPhone}, ${contact.shopifyCustomerId},
            ${contact.secondaryEmail})
    returning id`;
  if (!row) throw new Error('insertContactWithoutPhone: no row returned');
  return { id: row.id, created: true };
}

/**
 * Completes a linked contact with what the order knows and the contact lacks; never overwrites what a
 * person entered. The secondary phone is kept only when it differs from the contact's phone.
 */
export async function fillContactBlanks(
  tx: Queryable,
  contactId: string,
  contact: ContactFields,
): Promise<void> {
  await tx`
    update contacts set
      name = case when btrim(name) = '' then ${contact.name} else name end,
      email = coalesce(email, ${contact.email}),
      address = coalesce(address, ${contact.address}),
      city = coalesce(city, ${contact.city}),
      department = coalesce(department, ${contact.department}),
      secondary_phone = coalesce(
        secondary_phone,
        case when ${contact.secondaryPhone}::text is distinct from phone then ${contact.secondaryPhone}::text end),
      shopify_customer_id = coalesce(shopify_customer_id, ${contact.shopifyCustomerId}),
      secondary_email = coalesce(
        secondary_email,
        case when lower(${contact.secondaryEmail}::text) is distinct from lower(email)
             then ${contact.secondaryEmail}::text end),
      updated_at = now()
    where id = ${contactId} and workspace_id = app.current_workspace_id()
      and (btrim(name) = ''
        or (email is null and ${contact.email}::text is not null)
        or (address is null and ${contact.address}::text is not null)
        or (city is null and ${contact.city}::text is not null)
        or (department is null and ${contact.department}::text is not null)
        or (secondary_phone is null and ${contact.secondaryPhone}::text is not null)
        or (shopify_customer_id is null and ${contact.shopifyCustomerId}::text is not null)
        or (secondary_email is null and ${contact.secondaryEmail}::text is not null))`;
}
