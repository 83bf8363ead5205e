import { expandMacros, expandMacrosLegacy, leftoverMacros, MacroError, stripComments } from './macros';
import { interpolateVariables, referencedVariables } from './template-variables';

// 2025-11-26T10:00:00.250Z → 1764151200 s; to = +1 h.
const ctx = { from: new Date(1764151200250), to: new Date(1764154800250), intervalMs: 300_000 };

describe('ClickHouse plugin macros (hand-computed expansions)', () => {
  it('expands time filters, bounds and intervals as the plugin does', () => {
    expect(expandMacros('WHERE $__timeFilter(ts)', ctx)).toBe('WHERE ts >= toDateTime(1764151200) AND ts <= toDateTime(1764154800)');
    expect(expandMacros('WHERE $__timeFilter_ms(ts)', ctx)).toBe('WHERE ts >= fromUnixTimestamp64Milli(1764151200250) AND ts <= fromUnixTimestamp64Milli(1764154800250)');
    expect(expandMacros('$__fromTime, $__toTime_ms', ctx)).toBe('toDateTime(1764151200), fromUnixTimestamp64Milli(1764154800250)');
    expect(expandMacros('$__timeInterval(window_start)', ctx)).toBe('toStartOfInterval(toDateTime(window_start), INTERVAL 300 second)');
    expect(expandMacros('$__timeInterval_ms(t)', ctx)).toBe('toStartOfInterval(toDateTime64(t, 3), INTERVAL 300000 millisecond)');
    expect(expandMacros('$__interval_s', { ...ctx, intervalMs: 200 })).toBe('1');
    expect(expandMacros('$__dateFilter(d)', ctx)).toBe("d >= toDate('2025-11-26') AND d <= toDate('2025-11-26')");
    expect(expandMacros('$__dt(d, t)', ctx)).toBe("(d >= toDate('2025-11-26') AND d <= toDate('2025-11-26')) AND (t >= toDateTime(1764151200) AND t <= toDateTime(1764154800))");
  });

  it('takes nested parentheses and quoted commas as one argument', () => {
    expect(expandMacros("$__timeFilter(coalesce(a, b)) AND x = 'a,b'", ctx)).toBe("coalesce(a, b) >= toDateTime(1764151200) AND coalesce(a, b) <= toDateTime(1764154800) AND x = 'a,b'");
  });

  it('rejects a wrong argument count with a typed error', () => {
    expect(() => expandMacros('$__timeFilter(a, b)', ctx)).toThrow(MacroError);
    expect(() => expandMacros('$__timeFilter', ctx)).toThrow(/expected 1 argument, received 0/);
  });

  it('ignores macros in comments and leaves unknown $__ names for the lint to report', () => {
    expect(expandMacros('SELECT 1 -- $__timeFilter()\n', ctx)).toBe('SELECT 1 \n');
    expect(stripComments("SELECT '--x' /* c */")).toBe("SELECT '--x'  ");
    expect(leftoverMacros(expandMacros('SELECT $__unknown(x), $__fromTime', ctx))).toEqual(['$__unknown']);
  });

  it('the legacy engine swallows a later parenthesised group after an argument-less macro (issue #249) — which our lint catches', () => {
    const q = 'SELECT n / $__interval_s AS r FROM (SELECT 1 AS n)';
    expect(expandMacros(q, ctx)).toBe('SELECT n / 300 AS r FROM (SELECT 1 AS n)');
    expect(expandMacrosLegacy(q, ctx)).toBe('SELECT n / 300');
  });
});

describe('Grafana template variables', () => {
  const t = { from: new Date(0), to: new Date(3_600_000), intervalMs: 60_000 };
  it('formats sqlstring values as quoted, escaped literals and leaves plugin macros alone', () => {
    expect(interpolateVariables("c = ${ch:sqlstring} AND $__timeFilter(t) AND p IN (${ps:sqlstring})", { ch: "o'k", ps: ['a', 'b'] }, t)).toBe(
      "c = 'o''k' AND $__timeFilter(t) AND p IN ('a','b')",
    );
    expect(interpolateVariables('$__interval / $__interval_ms / $__interval_s / $__from', {}, t)).toBe('1m / 60000 / $__interval_s / 0');
    expect(referencedVariables('${a:sqlstring} $b [[c]] $__from $__timeFilter(x)')).toEqual(['a', 'b', 'c']);
  });
});
