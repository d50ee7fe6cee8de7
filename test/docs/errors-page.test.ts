import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ConsentError, type ConsentErrorCode } from '../../lib/index';
import { PROBLEM_TITLES } from '../../lib/express/problem';

const page = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const source = readFileSync(new URL('../../lib/errors.ts', import.meta.url), 'utf8');

/** The codes of the `ConsentErrorCode` and `ProblemCode` unions, read from their source. */
const declared = [...source.matchAll(/^\s+\| '([a-z_]+)';?$/gm)].map((m) => m[1] as ConsentErrorCode);

/** The first cell and the second cell of the table rows of the page. */
const rows = [...page.matchAll(/^\| `([a-z_]+)` \| ([^|]+) \|/gm)].map((m) => ({ code: m[1]!, second: m[2]!.trim() }));

describe('docs/errors.md', () => {
  it('reads every code the library declares', () => {
    expect(declared).to.include.members(['invalid_body', 'store_unavailable', 'invalid_option', 'secret_required']);
    expect(declared).to.have.length(24);
  });

  it('has a row for every error code of the library', () => {
    const documented = new Set(rows.map((r) => r.code));
    expect(declared.filter((code) => !documented.has(code))).to.deep.equal([]);
    expect([...documented].filter((code) => !declared.includes(code as ConsentErrorCode))).to.deep.equal([]);
  });

  it('gives every problem code its status, as the router sends it', () => {
    for (const code of Object.keys(PROBLEM_TITLES) as ConsentErrorCode[]) {
      const row = rows.find((r) => r.code === code && /^\d{3}/.test(r.second));
      expect(row, `a status row for ${code}`).to.not.equal(undefined);
      expect(row!.second, code).to.match(new RegExp(`^${String(new ConsentError(code, 'x').status)}\\b`));
    }
  });
});
