/** A CSV cell value: `null` is an empty cell. */
export type CsvValue = string | number | null;

// Spreadsheets run a cell starting with one of these as a formula (CSV injection).
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One RFC 4180 cell: a text that a spreadsheet would evaluate is prefixed with `'`; a cell
 * holding a comma, quote or line break is quoted with doubled quotes. Numbers are written as
 * they are (a negative number stays a number).
 */
export function csvCell(value: CsvValue): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV record of cells, CRLF-terminated: the only way the library writes CSV. */
export function csvLine(cells: ReadonlyArray<CsvValue>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
