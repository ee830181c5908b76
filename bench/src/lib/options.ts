export type BenchOptions = {
  quick: boolean;
  /** Largest contact count of the lookup section (10k, 100k, … up to this). */
  contacts: number;
  /** Contacts of the processing section. */
  processingContacts: number;
  /** The command line, for the report. */
  command: string;
  /** Only print, leave BENCHMARKS.md alone. */
  dryRun: boolean;
};
