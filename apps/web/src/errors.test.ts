import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import {
  errorCode,
  errorMessage,
  fieldErrors,
  formFieldOf,
  placeServerError,
  serverField,
} from './errors.ts';

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
  it("maps zod's flattened issues to their fields, never reading the message", () => {
    const error = serverError('whatever the message says', 'BAD_REQUEST', {
      zodError: {
        formErrors: ['Check the form'],
        fieldErrors: { email: ['Enter an email.'], password: ['Required', 'Too short'] },
      },
      field: 'email',
    });
    expect(fieldErrors(error)).toEqual({
      '': 'Check the form',
      email: 'Enter an email.',
      password: 'Required Too short',
    });
  });

  it('puts a refusal on the field the server names (its last path segment)', () => {
    const error = serverError('Choose a start date that is not in the future.', 'BAD_REQUEST', {
      zodError: null,
      field: 'filters.since',
    });
    expect(fieldErrors(error)).toEqual({ since: 'Choose a start date that is not in the future.' });
  });

  it('is empty for errors that are not input validation or name no field', () => {
    expect(fieldErrors(serverError('since: b', 'BAD_REQUEST'))).toEqual({});
    expect(fieldErrors(serverError('a: b', 'CONFLICT', { field: 'a' }))).toEqual({});
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

  it("falls back to the first field of zod's flattened issues", () => {
    const error = serverError('x', 'BAD_REQUEST', {
      zodError: { formErrors: [], fieldErrors: { webhookSecret: ['Too short'] } },
      field: null,
    });
    expect(serverField(error)).toBe('webhookSecret');
  });
});

describe('formFieldOf', () => {
  const FIELDS = ['shopDomain', 'accessToken'] as const;

  it("is the form's field of the server's path, nested paths by their last segment", () => {
    const nested = serverError('Enter a myshopify.com domain.', 'BAD_REQUEST', {
      field: 'config.shopDomain',
    });
    expect(formFieldOf(nested, FIELDS)).toBe('shopDomain');
    const top = serverError('Too short', 'BAD_REQUEST', { field: 'accessToken' });
    expect(formFieldOf(top, FIELDS)).toBe('accessToken');
  });

  it('is the form (root) for a path the form has no field for, or no path at all', () => {
    expect(formFieldOf(serverError('x', 'PRECONDITION_FAILED', { field: 'credentials' }), FIELDS)).toBe(
      'root',
    );
    expect(formFieldOf(serverError('shop domain is wrong', 'BAD_REQUEST'), FIELDS)).toBe('root');
    expect(formFieldOf(new Error('access token'), FIELDS)).toBe('root');
  });
});

describe('placeServerError', () => {
  const FIELDS = ['webhookSecret', 'defaultPhoneCountry'] as const;

  it("gives an input error's field its own message, without the path the overall message carries", () => {
    const short = serverError('webhookSecret: The webhook signing secret is too short.', 'BAD_REQUEST', {
      zodError: {
        formErrors: [],
        fieldErrors: { webhookSecret: ['The webhook signing secret is too short.'] },
      },
      field: 'webhookSecret',
    });
    expect(placeServerError(short, FIELDS)).toEqual({
      field: 'webhookSecret',
      message: 'The webhook signing secret is too short.',
    });
    const nested = serverError('config.defaultPhoneCountry: a two-letter country code', 'BAD_REQUEST', {
      zodError: { formErrors: [], fieldErrors: { config: ['a two-letter country code'] } },
      field: 'config.defaultPhoneCountry',
    });
    expect(placeServerError(nested, FIELDS)).toEqual({
      field: 'defaultPhoneCountry',
      message: 'a two-letter country code',
    });
  });

  it("keeps the server's message for a refusal, on the form when no field of it is named", () => {
    const refused = serverError('The secret was rotated.', 'BAD_REQUEST', { field: 'webhookSecret' });
    expect(placeServerError(refused, FIELDS)).toEqual({
      field: 'webhookSecret',
      message: 'The secret was rotated.',
    });
    const conflict = serverError('Already connected to another workspace.', 'CONFLICT');
    expect(placeServerError(conflict, FIELDS)).toEqual({
      field: 'root',
      message: 'Already connected to another workspace.',
    });
  });
});
