import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { errorCode, errorMessage, fieldErrors, serverField } from './errors.ts';

function serverError(message: string, code: string, extra: Record<string, unknown> = {}) {
  return TRPCClientError.from({
    error: { message, code: -32600, data: { code, httpStatus: 400, ...extra } },
  });
}

describe('errorMessage', () => {
  it("shows the server's own words", () => {
    expect(errorMessage(serverError('Only the workspace owner can do this.', 'FORBIDDEN'))).toBe(
      'Only the workspace owner can do this.',
    );
  });

  it('explains a network failure instead of the browser message', () => {
    const offline = TRPCClientError.from(new TypeError('Failed to fetch'));
    expect(errorMessage(offline)).toBe('The server cannot be reached. Check your connection and try again.');
    const firefox = TRPCClientError.from(new TypeError('NetworkError when attempting to fetch resource.'));
    expect(errorMessage(firefox)).toMatch(/cannot be reached/);
  });

  it('falls back for anything else', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('boom')).toBe('Something went wrong.');
  });
});

describe('errorCode', () => {
  it('is the tRPC code of a server error, else null', () => {
    expect(errorCode(serverError('x', 'UNAUTHORIZED'))).toBe('UNAUTHORIZED');
    expect(errorCode(new Error('x'))).toBeNull();
    expect(errorCode(TRPCClientError.from(new TypeError('Failed to fetch')))).toBeNull();
  });
});

describe('fieldErrors', () => {
  it('maps each "path: message" of a validation error to its last path segment', () => {
    const error = serverError(
      'config.shopDomain: Enter a *.myshopify.com domain; accessToken: Required; accessToken: Too short',
      'BAD_REQUEST',
      { zodError: { fieldErrors: {} } },
    );
    expect(fieldErrors(error)).toEqual({
      shopDomain: 'Enter a *.myshopify.com domain',
      accessToken: 'Required Too short',
    });
  });

  it('puts a message without a path under the form', () => {
    const error = serverError('Check the form; name: Required', 'BAD_REQUEST', { zodError: {} });
    expect(fieldErrors(error)).toEqual({ '': 'Check the form', name: 'Required' });
  });

  it('is empty for errors that are not input validation', () => {
    expect(fieldErrors(serverError('a: b', 'BAD_REQUEST'))).toEqual({});
    expect(fieldErrors(serverError('a: b', 'CONFLICT', { zodError: {} }))).toEqual({});
    expect(fieldErrors(new Error('a: b'))).toEqual({});
  });
});

describe('serverField', () => {
  it('is the input path the server names, whatever the message says', () => {
    const refused = serverError(
      'Shopify refused the client ID and secret for x.myshopify.com.',
      'BAD_REQUEST',
      {
        field: 'clientSecret',
      },
    );
    expect(serverField(refused)).toBe('clientSecret');
    expect(serverField(serverError('The access token is wrong.', 'BAD_REQUEST'))).toBeNull();
    expect(serverField(new Error('x'))).toBeNull();
  });
});
