/** The soak section's report: its table, its verdict and its timeline (the facts come from soak.ts). */
import { type SectionReport, stamp } from '../lib/report.ts';
import { fmt, markdownTable, percentile } from '../lib/stats.ts';

/** A SIGKILLed worker process: its runner record (if it had written one) and when that went. */
export type Kill = {
  pid: number;
  at: number;
  runnerId: string | null;
  /** Jobs its pools held when it died: stranded until another runner releases them. */
  heldJobs: number;
  releasedAfterMs: number | null;
};

/** The release times: of every killed runner that had a record, and of those that held jobs. */
export function releaseTimes(killed: readonly Kill[]) {
  const recorded = killed.filter((k) => k.runnerId !== null);
  const holding = recorded.filter((k) => k.heldJobs > 0);
  const seconds = (list: Kill[]) =>
    list.flatMap((k) => (k.releasedAfterMs === null ? [] : [k.releasedAfterMs / 1000]));
  return {
    recorded: recorded.length,
    holding: holding.length,
    heldJobs: holding.reduce((a, k) => a + k.heldJobs, 0),
    notReleased: recorded.filter((k) => k.releasedAfterMs === null).length,
    releaseS: seconds(recorded),
    holdingReleaseS: seconds(holding),
  };
}

/** The release times as one timeline line. */
export function releaseLine(
  r: ReturnType<typeof releaseTimes>,
  takenForDead: number,
  lockedAtEnd: number,
): string {
  return (
    `killed runners released: ${r.recorded - r.notReleased} of ${r.recorded} ` +
    `(${r.holding} held ${r.heldJobs} jobs); ` +
    `SIGKILL → release p50 ${fmt(percentile(r.releaseS, 50))} s, max ${fmt(Math.max(...r.releaseS, 0))} s; ` +
    `live runners taken for dead: ${takenForDead}; jobs locked at the end: ${lockedAtEnd}`
  );
}

/** The final answers by kind, e.g. `signed → 200: 2580; forged → 401: 131`. */
export function answersOf(
  sent: readonly { id: string; status: number }[],
  forged: (id: string) => boolean,
): string {
  const answers = new Map<string, number>();
  for (const s of sent) {
    const k = `${forged(s.id) ? 'forged' : 'signed'} → ${s.status === 0 ? 'no answer' : s.status}`;
    answers.set(k, (answers.get(k) ?? 0) + 1);
  }
  return [...answers.entries()].map(([k, v]) => `${k}: ${v}`).join('; ');
}

export type SoakFacts = {
  command: string;
  port: number;
  workerCount: number;
  concurrency: number;
  deliveries: number;
  duplicates: number;
  forged: number;
  /** Final answers by kind, e.g. `signed → 200: 2580; forged → 401: 131`. */
  answers: string;
  retried: number;
  kills: number;
  restarted: boolean;
  /** Acked signed deliveries (distinct webhook ids). */
  acked: number;
  pendingAfter: number;
  lockedAtEnd: number;
  takenForDead: number;
  release: ReturnType<typeof releaseTimes>;
  outcome: {
    events: number;
    processed: number;
    failed: number;
    forged: number;
    dup: number;
    ackedMissing: number;
    ackedNotProcessed: readonly { external_id: string; status: string; last_error: string | null }[];
    ackedOrders: number;
    ordersInCrm: number;
  };
  timeline: readonly string[];
};

function failuresOf(f: SoakFacts): string[] {
  const o = f.outcome;
  return [
    ...(o.ackedMissing > 0 ? [`${o.ackedMissing} acked but not stored`] : []),
    ...(o.ackedNotProcessed.length > 0 ? [`${o.ackedNotProcessed.length} acked but not processed`] : []),
    ...(f.pendingAfter > 0 ? [`${f.pendingAfter} still pending`] : []),
    ...(f.release.notReleased > 0 ? [`${f.release.notReleased} killed runners never released`] : []),
    ...(f.lockedAtEnd > 0 ? [`${f.lockedAtEnd} jobs still locked`] : []),
    ...(f.takenForDead > 0 ? [`${f.takenForDead} live runners taken for dead`] : []),
    ...(o.dup > 0 ? [`${o.dup} orders stored twice`] : []),
    ...(o.forged > 0 ? [`${o.forged} forged events stored`] : []),
  ];
}

function table(f: SoakFacts): string {
  const { release: r, outcome: o } = f;
  const spread = (s: number[]) =>
    `${fmt(percentile(s, 50))} / ${fmt(percentile(s, 95))} / ${fmt(Math.max(...s, 0))}`;
  return markdownTable(
    ['check', 'result'],
    [
      ['deliveries sent (duplicates, forged)', `${f.deliveries} (${f.duplicates}, ${f.forged})`],
      ['final answers', f.answers],
      ['deliveries that needed retries (503 / no answer)', String(f.retried)],
      ['worker processes SIGKILLed / PostgreSQL restarts', `${f.kills} / ${f.restarted ? 1 : 0}`],
      ['acked signed deliveries (distinct webhook ids)', String(f.acked)],
      ['acked but not stored', `**${o.ackedMissing}**`],
      ['acked but not processed at the end', `**${o.ackedNotProcessed.length}**`],
      [
        'killed workers holding jobs → jobs they held (stranded until released)',
        `${r.holding} → ${r.heldJobs}`,
      ],
      [
        'SIGKILL → their jobs released by the live runners (s): p50 / p95 / max',
        `${spread(r.holdingReleaseS)} (all ${r.recorded} killed runners: ${spread(r.releaseS)})`,
      ],
      [
        'killed runners never released / jobs still locked at the end',
        `**${r.notReleased}** / **${f.lockedAtEnd}**`,
      ],
      ['live runners taken for dead', `**${f.takenForDead}**`],
      ['operator steps', 'none'],
      ['distinct acked orders → orders in the CRM', `${o.ackedOrders} → ${o.ordersInCrm}`],
      ['Shopify orders stored twice', `**${o.dup}**`],
      ['forged events stored', `**${o.forged}**`],
      ['events: total / processed / failed', `${o.events} / ${o.processed} / ${o.failed}`],
    ],
  );
}

/** The section's markdown, and the checks that failed (none: passed). */
export function soakReport(f: SoakFacts): { report: SectionReport; failures: string[] } {
  const failures = failuresOf(f);
  const notProcessed = f.outcome.ackedNotProcessed;
  const body = [
    stamp(f.command),
    '',
    `A private embedded PostgreSQL (temporary folder, port ${f.port}); the server (WORKER_CONCURRENCY=0) and ` +
      `${f.workerCount} \`npm run worker\` processes (WORKER_CONCURRENCY=${f.concurrency}); one worker SIGKILLed and ` +
      'replaced every 2–6 s; PostgreSQL stopped for 3 s once 40% of the deliveries were answered. 8 senders; a ' +
      '503 or a lost connection is retried (up to 40 times, 500 ms apart) like Shopify would. No operator step: ' +
      'the jobs a killed worker held must be released by the live runners (liveness sweep, apps/api/src/jobs/' +
      "liveness.ts); release times are from the SIGKILL to the killed runner's record leaving job_runners.processes " +
      '(polled every 0.5 s), which the release deletes in the same transaction.',
    '',
    table(f),
    '',
    failures.length === 0
      ? '**Passed**: every acked delivery processed with no operator step, no live runner taken for dead.'
      : `**FAILED**: ${failures.join('; ')}.`,
    '',
    '<details><summary>timeline</summary>',
    '',
    ...f.timeline.map((e) => `- ${e}`),
    ...(notProcessed.length > 0
      ? [
          '',
          'not processed:',
          ...notProcessed.slice(0, 10).map((r) => `- ${r.external_id}: ${r.status} ${r.last_error ?? ''}`),
        ]
      : []),
    '</details>',
  ].join('\n');
  const report = { name: 'soak', title: 'Hardening: soak with worker kills and a PostgreSQL restart', body };
  return { report, failures };
}
