import type { AppDeps } from '../deps.ts';

export type JobRunner = { stop: () => Promise<void> };

// Placeholder until the job queue lands (issue #4).
export async function startJobRunner(_deps: AppDeps, _options: { concurrency: number }): Promise<JobRunner> {
  return { stop: async () => {} };
}
