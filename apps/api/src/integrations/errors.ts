/**
 * What the integrations service refuses, in words for the owner and with a code and (when one input
 * is at fault) the input's path, so the SPA can put the message beside that field without reading it.
 * The router turns it into a tRPC error of the same code.
 */
export type IntegrationErrorCode = 'BAD_REQUEST' | 'NOT_FOUND' | 'PRECONDITION_FAILED' | 'BAD_GATEWAY';

export class IntegrationError extends Error {
  readonly code: IntegrationErrorCode;
  /** The input's path, e.g. `config.shopDomain` or `accessToken`; absent when no one field is at fault. */
  readonly field: string | undefined;
  constructor(code: IntegrationErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'IntegrationError';
    this.code = code;
    this.field = field;
  }
}

export const noIntegration = () =>
  new IntegrationError('NOT_FOUND', 'This workspace has no Shopify integration yet.');
