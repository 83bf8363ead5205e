import { isCurrent, latestViewColumns, latestViewSql } from './latest-views';

const view = { view: 'things_latest', table: 'things', key: ['platform', 'id'] };
const table = [
  { name: 'platform', type: 'LowCardinality(String)' },
  { name: 'id', type: 'String' },
  { name: 'label', type: 'LowCardinality(Nullable(String))' },
  { name: 'count', type: 'UInt32' },
  { name: 'version', type: 'UInt64' },
];

describe('latest views: generated from the table\'s columns', () => {
  it('the key, argMax of every other column but version (LowCardinality dropped, as argMax does), latest_version', () => {
    expect(latestViewColumns(view, table)).toEqual([
      { name: 'platform', type: 'LowCardinality(String)' },
      { name: 'id', type: 'String' },
      { name: 'label', type: 'Nullable(String)' },
      { name: 'count', type: 'UInt32' },
      { name: 'latest_version', type: 'UInt64' },
    ]);
    expect(latestViewSql(view, table)).toBe([
      'CREATE OR REPLACE VIEW `things_latest` AS',
      'SELECT',
      '  `platform`, `id`,',
      '  argMax(`label`, version) AS `label`,',
      '  argMax(`count`, version) AS `count`,',
      '  max(version) AS latest_version',
      'FROM `things`',
      'GROUP BY `platform`, `id`',
    ].join('\n'));
  });

  it('a view is current when it has exactly those columns, in any order; a missing or added column is not', () => {
    const want = latestViewColumns(view, table);
    expect(isCurrent(view, table, [...want].reverse())).toBe(true);
    expect(isCurrent(view, table, want.filter((c) => c.name !== 'count'))).toBe(false);
    expect(isCurrent(view, [...table, { name: 'extra', type: 'UInt8' }], want)).toBe(false);
    expect(isCurrent(view, table, [])).toBe(false);
  });

  it('refuses a table without its key or version, and a name that is not a plain identifier', () => {
    expect(() => latestViewColumns(view, table.filter((c) => c.name !== 'version'))).toThrow(/no version/);
    expect(() => latestViewSql(view, [...table, { name: 'a`b', type: 'UInt8' }])).toThrow(/not a plain/);
  });
});
