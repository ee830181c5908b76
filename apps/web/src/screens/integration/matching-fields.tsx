/**
 * How order lines and customers are matched, whether orders are created at all, and the country of
 * phone numbers written without one.
 */
import { INTEGRATION_CONFIG_DEFAULTS } from '@crm/shopify/integration-config';
import { useFormContext } from 'react-hook-form';
import { Field } from '../../ui.tsx';
import type { ProductMatching, SettingsValues } from './form-values.ts';

const COUNTRIES: [string, string][] = [
  ['AR', 'Argentina'],
  ['BO', 'Bolivia'],
  ['BR', 'Brazil'],
  ['CA', 'Canada'],
  ['CL', 'Chile'],
  ['CO', 'Colombia'],
  ['CR', 'Costa Rica'],
  ['DO', 'Dominican Republic'],
  ['EC', 'Ecuador'],
  ['ES', 'Spain'],
  ['GT', 'Guatemala'],
  ['MX', 'Mexico'],
  ['PA', 'Panama'],
  ['PE', 'Peru'],
  ['PY', 'Paraguay'],
  ['US', 'United States'],
  ['UY', 'Uruguay'],
  ['VE', 'Venezuela'],
];

const MATCHING: { value: ProductMatching; label: string; hint: string }[] = [
  { value: 'sku', label: 'SKU', hint: 'Exact SKU, ignoring case. Lines without a SKU stay unmatched.' },
  { value: 'name', label: 'Product name', hint: 'The most similar product title.' },
  { value: 'value', label: 'Price', hint: 'A product with the same price (within 0.01).' },
];

export function MatchingFields() {
  const { register, formState } = useFormContext<SettingsValues>();
  // A country stored before this list knew it stays a choice.
  const storedCountry =
    formState.defaultValues?.defaultPhoneCountry ?? INTEGRATION_CONFIG_DEFAULTS.defaultPhoneCountry;
  return (
    <>
      <fieldset className="radios">
        <legend>Match order lines to products by</legend>
        {MATCHING.map((m) => (
          <label key={m.value} className="radio">
            <input type="radio" value={m.value} {...register('productMatching')} />
            <span>
              <strong>{m.label}</strong> <span className="muted">— {m.hint}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <label className="check">
        <input type="checkbox" {...register('fuzzyMatching')} />
        <span>
          <strong>Fuzzy contact matching</strong>{' '}
          <span className="muted">
            — similar names in the same city go to Contact reviews, never merged silently
          </span>
        </span>
      </label>
      <label className="check">
        <input type="checkbox" {...register('autoCreateOrders')} />
        <span>
          <strong>Create orders automatically</strong>{' '}
          <span className="muted">— off: events are recorded but no order is created</span>
        </span>
      </label>
      <div className="grid-2">
        <Field
          label="Default phone country"
          hint="For phone numbers written without a country code."
          error={formState.errors.defaultPhoneCountry?.message}
        >
          {(p) => (
            <select {...p} {...register('defaultPhoneCountry')}>
              {COUNTRIES.some(([c]) => c === storedCountry) ? null : (
                <option value={storedCountry}>{storedCountry}</option>
              )}
              {COUNTRIES.map(([code, label]) => (
                <option key={code} value={code}>
                  {label} ({code})
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
    </>
  );
}
