import { findContactCandidatesByName, type WorkerTx } from '@crm/db/worker';
import { CANDIDATE_SCORE_WEIGHTS, type ContactFacts, contactScorer, FUZZY_THRESHOLDS } from '@crm/shopify';

export type BestContactCandidate = { id: string; score: number; reasons: string[] };

/** The best candidate, and what finding it took: rows scored and queries made. */
export type ContactCandidateSearch = { best: BestContactCandidate | null; rows: number; rounds: number };

/**
 * The existing contact most likely to be the customer an order describes (the highest score the
 * scorer accepts; the first in the lookup's order on a tie), or null. The lookup returns at most
 * `limit` rows ordered by an upper bound of the score; when it filled the limit and its last row's
 * bound could still beat the best found (or, with none found, reach a candidate), the rows it cut
 * might win, so it asks again with a limit eight times larger. Namesakes in one city at a million
 * contacts take one or two rounds, not a scan.
 */
export async function findBestContactCandidate(
  tx: WorkerTx,
  input: ContactFacts,
  firstLimit = 25,
): Promise<ContactCandidateSearch> {
  const score = contactScorer(input);
  for (let limit = firstLimit, rounds = 1; ; limit *= 8, rounds++) {
    const rows = await findContactCandidatesByName(tx, input, {
      limit,
      nameSimilarity: FUZZY_THRESHOLDS.nameSimilarity,
      weights: CANDIDATE_SCORE_WEIGHTS,
    });
    let best: BestContactCandidate | null = null;
    for (const row of rows) {
      const s = score(row);
      if (s.isCandidate && (!best || s.score > best.score))
        best = { id: row.id, score: s.score, reasons: s.reasons };
    }
    const last = rows[rows.length - 1];
    const cutMayWin =
      rows.length === limit &&
      last !== undefined &&
      (best ? last.scoreBound > best.score : last.scoreBound >= FUZZY_THRESHOLDS.candidate);
    if (!cutMayWin) return { best, rows: rows.length, rounds };
  }
}
