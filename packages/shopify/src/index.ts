export { SHOPIFY_API_VERSION } from './api-version.ts';
export {
  mayShowSecretHint,
  SECRET_HINT_MIN_LENGTH,
  SHOPIFY_SECRET_MAX_LENGTH,
  SHOPIFY_SECRET_MIN_LENGTH,
  secretHint,
  shopifySecretProblem,
  shopifySecretSchema,
} from './credentials.ts';
export {
  CANDIDATE_SCORE_WEIGHTS,
  type ContactFacts,
  type ContactScore,
  contactScorer,
  FUZZY_THRESHOLDS,
  FUZZY_WEIGHTS,
  levenshtein,
  phoneDigitDistance,
  phonesAreNear,
  scoreContactCandidate,
  trigramSimilarity,
} from './fuzzy.ts';
export { matchShopifyHmac, signShopifyWebhook } from './hmac.ts';
export { parseJsonLossless } from './json.ts';
export {
  type ContactDraft,
  contactDraftFromOrder,
  DESCRIPTION_FACT_PREFIXES,
  type MappedLine,
  type MappedOrder,
  mapOrder,
  REDACTED_ORDER_NOTE,
  redactedOrderDescription,
  splitTags,
} from './map-order.ts';
export { divideRoundHalfUp, formatMoney, parseMoney } from './money.ts';
export { signOAuthQuery, verifyOAuthQuery } from './oauth-query.ts';
export { type LineAmounts, type OrderAmounts, orderAmounts, spreadProportionally } from './order-amounts.ts';
export {
  parseOrder,
  parseWebhookPayload,
  ShopifyPayloadError,
  type ShopifyPayloadIssue,
  type ShopifyWebhookPayload,
  validateOrder,
} from './parse.ts';
export { normalizePhone, phoneCountry, pickOrderPhone, secondaryPhoneFromNoteAttributes } from './phone.ts';
export {
  type CatalogProduct,
  matchLineToProduct,
  PRODUCT_NAME_THRESHOLD,
  type ProductMatchStrategy,
} from './products.ts';
export { REDACTED, redactOrderPayload, redactPayloadText } from './redact.ts';
export {
  type AppUninstalled,
  appUninstalledSchema,
  type CustomersDataRequest,
  type CustomersRedact,
  customersDataRequestSchema,
  customersRedactSchema,
  type ShopifyAddress,
  type ShopifyCustomer,
  type ShopifyLineItem,
  type ShopifyOrder,
  type ShopRedact,
  shopifyAddressSchema,
  shopifyCustomerSchema,
  shopifyLineItemSchema,
  shopifyOrderSchema,
  shopRedactSchema,
} from './schemas.ts';
export { normalizeShopDomain, type ShopDomainResult } from './shop-domain.ts';
export { normalizeText, phoneticKeys, storableText } from './text.ts';
export {
  API_SUBSCRIBABLE_TOPICS,
  COMPLIANCE_TOPICS,
  isShopifyTopic,
  KNOWN_SHOPIFY_TOPICS,
  SHOPIFY_TOPICS,
  type ShopifyOrderTopic,
  type ShopifyTopic,
} from './topics.ts';
export {
  SHOPIFY_WEBHOOK_HEADERS,
  type SignedWebhookOptions,
  STORED_WEBHOOK_HEADERS,
  signedWebhookHeaders,
} from './webhook-headers.ts';
