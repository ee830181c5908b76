import { describe, expect, it } from 'vitest';
import { integrationConfigSchema } from '../src/integration-config.ts';
import { integrationConfigOutputSchema, storedConfigSchema } from '../src/trpc/schemas.ts';

const PIPELINE = '6f1c2b9e-3d4a-4c5b-8e7f-0a1b2c3d4e5f';

describe('a stored integration config, read for the owner page', () => {
  it('takes the same defaults as the workers (one schema)', () => {
    expect(storedConfigSchema.parse({ shopDomain: 'a.myshopify.com' })).toEqual(
      integrationConfigSchema.parse({ shopDomain: 'a.myshopify.com' }),
    );
    expect(storedConfigSchema.parse({ shopDomain: 'a.myshopify.com' })).toEqual({
      shopDomain: 'a.myshopify.com',
      pipelineId: null,
      stageId: null,
      productMatching: 'sku',
      fuzzyMatching: true,
      autoCreateOrders: true,
      defaultPhoneCountry: 'CO',
    });
  });

  it('replaces a missing or odd field by its default instead of failing, and keeps the rest', () => {
    const read = storedConfigSchema.parse({
      pipelineId: PIPELINE,
      stageId: 'not-a-uuid',
      productMatching: 'fuzzy',
      fuzzyMatching: false,
      defaultPhoneCountry: 'colombia',
      extra: 'dropped',
    });
    expect(read).toEqual({
      shopDomain: '',
      pipelineId: PIPELINE,
      stageId: null,
      productMatching: 'sku',
      fuzzyMatching: false,
      autoCreateOrders: true,
      defaultPhoneCountry: 'CO',
    });
    expect(storedConfigSchema.parse(null)).toMatchObject({ shopDomain: '', productMatching: 'sku' });
    expect(storedConfigSchema.parse('{"oops"')).toMatchObject({ shopDomain: '', fuzzyMatching: true });
  });

  it('what it reads passes the output schema', () => {
    expect(integrationConfigOutputSchema.safeParse(storedConfigSchema.parse({})).success).toBe(true);
  });
});
