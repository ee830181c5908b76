/**
 * A failure that retrying cannot fix (the payload, or the integration's settings, are the problem).
 * Its message is for the owner who reads it in the SPA: plain words, no stack, no secret.
 */
export class ProcessingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProcessingError';
  }
}
