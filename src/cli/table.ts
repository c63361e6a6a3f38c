/**
 * Plain-text tables for people (the default CLI output). Columns are padded to their widest cell;
 * numeric-looking cells are right-aligned so decimals line up.
 */

/** A cell: strings and numbers print as they are. */
export type Cell = string | number | boolean;

const numeric = /^-?[0-9]+(\.[0-9]+)?$/;

/** Renders `rows` under `headers` as aligned columns, one line per row, no trailing spaces. */
export function renderTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((r) => headers.map((_, i) => String(r[i] ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[], alignNumbers: boolean): string =>
    cells
      .map((c, i) => {
        const w = widths[i] ?? c.length;
        return alignNumbers && numeric.test(c) ? c.padStart(w) : c.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return [line(headers, false), line(widths.map((w) => '-'.repeat(w)), false), ...text.map((r) => line(r, true))].join('\n');
}

/** Renders `key: value` pairs, keys padded to align the values. */
export function renderPairs(pairs: readonly (readonly [string, Cell])[]): string {
  const w = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${(k + ':').padEnd(w + 1)} ${String(v)}`).join('\n');
}
