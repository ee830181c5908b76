/**
 * The "Test connection" button and what the last test said: the shop's name, Shopify's reason for a
 * refusal, or when the stored credentials were last tested. Announced politely to screen readers.
 */
import { formatDateTime } from '../../format.ts';
import type { TestResult } from './form-values.ts';

export function TestConnectionPanel({
  canEdit,
  pending,
  onTest,
  result,
  unplacedError,
  storedTestedAt,
}: {
  canEdit: boolean;
  pending: boolean;
  onTest: () => void;
  result: TestResult | null;
  /** A refusal of the test that belongs to none of its fields. */
  unplacedError: string | null;
  /** When the stored credentials (kept unchanged) passed their last test. */
  storedTestedAt: string | null;
}) {
  return (
    <div className="test-row">
      <button
        type="button"
        className="btn"
        onClick={onTest}
        disabled={!canEdit || pending}
        aria-describedby="test-result"
      >
        {pending ? 'Testing…' : 'Test connection'}
      </button>
      <div id="test-result" role="status" aria-live="polite" className="test-result">
        {result?.ok === true ? (
          <span className="ok">
            ✓ Connected to <strong>{result.shopName}</strong> ({result.shopDomain})
          </span>
        ) : result?.ok === false ? (
          <span className="bad">✗ Connection failed: {result.message}</span>
        ) : unplacedError ? (
          <span className="bad">✗ {unplacedError}</span>
        ) : storedTestedAt ? (
          <span className="muted">Stored credentials tested {formatDateTime(storedTestedAt)}</span>
        ) : null}
      </div>
    </div>
  );
}
