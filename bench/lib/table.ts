/** One line of a result table: a target, its figure and the raw numbers behind it. */
export interface ResultRow {
  target: string;
  required: string;
  figure: string;
  pass: boolean | null;
  raw: string;
}

/** Prints rows as a Markdown table (so it pastes into bench/README.md unchanged). */
export function printTable(title: string, rows: ResultRow[]): void {
  const header = ['target', 'required', 'figure', 'pass', 'raw figures'];
  const lines = rows.map((r) => [r.target, r.required, r.figure, r.pass === null ? 'n/a' : r.pass ? 'yes' : 'NO', r.raw]);
  console.log(`\n### ${title}\n`);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const line of lines) console.log(`| ${line.join(' | ')} |`);
  console.log('');
}

/** A ratio as text with two decimals. */
export const ratio = (value: number): string => value.toFixed(2);
