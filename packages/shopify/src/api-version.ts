/**
 * The Admin API version this CRM speaks: the Admin API client's default (SHOPIFY_API_VERSION in the
 * API's config) and the version signed test deliveries carry. One source, so the two cannot drift.
 */
export const SHOPIFY_API_VERSION = '2026-10';
