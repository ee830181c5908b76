import { describe, expect, it } from 'vitest';
import {
  changeEventFilters,
  changeTestOrderFilter,
  eventFiltersSearch,
  eventPath,
  isUuid,
  parseEventFilters,
  parseTestOrderFilter,
  sectionOf,
  withWorkspace,
  workspacePath,
} from './routes.ts';

const WS = '6f1c2b9e-3d4a-4c5b-8e7f-0a1b2c3d4e5f';

describe('event filters in the query string', () => {
  it('reads every filter a shared link carries', () => {
    expect(parseEventFilters('?status=failed&topic=orders%2Fcreate&from=2026-12-01&to=2026-12-04')).toEqual({
      status: 'failed',
      topic: 'orders/create',
      from: '2026-12-01',
      to: '2026-12-04',
    });
    expect(parseEventFilters('')).toEqual({});
  });

  it('drops what a hand-edited or stale link gets wrong instead of failing', () => {
    expect(parseEventFilters('status=FAILED&topic=DROP TABLE&from=2026-02-30&to=yesterday')).toEqual({});
    expect(parseEventFilters('status=retrying')).toEqual({});
    expect(parseEventFilters(`topic=orders/${'x'.repeat(120)}`)).toEqual({});
    expect(parseEventFilters('from=2026-13-01')).toEqual({});
    // a leap day exists in 2028 only
    expect(parseEventFilters('from=2027-02-29&to=2028-02-29')).toEqual({ to: '2028-02-29' });
  });

  it('keeps the start of a range whose end comes before it', () => {
    expect(parseEventFilters('from=2026-12-04&to=2026-12-01')).toEqual({ from: '2026-12-04' });
    expect(parseEventFilters('from=2026-12-04&to=2026-12-04')).toEqual({
      from: '2026-12-04',
      to: '2026-12-04',
    });
  });

  it('writes filters in one order and round-trips them', () => {
    const filters = { to: '2026-12-04', topic: 'app/uninstalled', status: 'ignored' as const };
    const search = eventFiltersSearch(filters);
    expect(search).toBe('?status=ignored&topic=app%2Funinstalled&to=2026-12-04');
    expect(parseEventFilters(search)).toEqual(filters);
    expect(eventFiltersSearch({})).toBe('');
  });

  it('changes one filter, clears one with an empty value, and ignores unknown parameters', () => {
    expect(changeEventFilters('?status=failed&utm=x', { topic: 'orders/updated' })).toBe(
      '?status=failed&topic=orders%2Fupdated',
    );
    expect(changeEventFilters('?status=failed&topic=orders%2Fupdated', { status: '' })).toBe(
      '?topic=orders%2Fupdated',
    );
    expect(changeEventFilters('?from=2026-12-01&to=2026-12-02', { from: '2026-12-03' })).toBe(
      '?from=2026-12-03',
    );
    expect(changeEventFilters('?status=failed', { status: 'bogus' })).toBe('');
  });
});

describe('paths', () => {
  it('puts every page under its workspace', () => {
    expect(workspacePath(WS)).toBe(`/w/${WS}/integration`);
    expect(workspacePath(WS, '/sync')).toBe(`/w/${WS}/sync`);
    expect(eventPath('a/b')).toBe('/sync/events/a%2Fb');
  });

  it('finds the section of a page, an event belonging to the sync page', () => {
    expect(sectionOf('/sync')).toBe('/sync');
    expect(sectionOf(`/sync/events/${WS}`)).toBe('/sync');
    expect(sectionOf('/orders')).toBe('/orders');
    expect(sectionOf('/synchronise')).toBeNull();
    expect(sectionOf('/')).toBeNull();
  });

  it('sends a link without a workspace to the same page of one, its query kept', () => {
    expect(withWorkspace(WS, '/sync', '?status=failed')).toBe(`/w/${WS}/sync?status=failed`);
    expect(withWorkspace(WS, '/sync', 'status=failed')).toBe(`/w/${WS}/sync?status=failed`);
    expect(withWorkspace(WS, `/sync/events/${WS}`, '')).toBe(`/w/${WS}/sync/events/${WS}`);
    expect(withWorkspace(WS, '/', '')).toBe(`/w/${WS}/integration`);
    expect(withWorkspace(WS, '/nowhere', '?x=1')).toBe(`/w/${WS}/integration`);
  });

  it('tells a UUID', () => {
    expect(isUuid(WS)).toBe(true);
    expect(isUuid(WS.toUpperCase())).toBe(true);
    expect(isUuid(`${WS}0`)).toBe(false);
    expect(isUuid('not-a-uuid')).toBe(false);
  });
});

describe('the Orders board test-order filter in the query string', () => {
  it('reads ?test=exclude and ?test=only; anything else shows every order', () => {
    expect(parseTestOrderFilter('?test=exclude')).toBe('exclude');
    expect(parseTestOrderFilter('test=only&x=1')).toBe('only');
    for (const search of ['', '?test=ONLY', '?test=', '?test=all']) {
      expect(parseTestOrderFilter(search)).toBe('include');
    }
  });

  it('writes the filter, keeping other parameters; the default leaves the URL clean', () => {
    expect(changeTestOrderFilter('', 'only')).toBe('?test=only');
    expect(changeTestOrderFilter('?x=1&test=only', 'exclude')).toBe('?x=1&test=exclude');
    expect(changeTestOrderFilter('?test=only', 'include')).toBe('');
  });
});
