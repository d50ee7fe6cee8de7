import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { KnexTracker } from '../../lib/index';
import { CAPABILITY_METHODS, type CapabilityName } from '../../lib/tracker/has-capability';

const page = readFileSync(new URL('../../docs/writing-a-tracker.md', import.meta.url), 'utf8');

/** The rows of the method table: method name, capability, level. */
const rows = [...page.matchAll(/^\| `([a-zA-Z]+)\(.*?\)` \| ([a-z]+) \| ([a-z]+) \|/gm)].map((m) => ({ method: m[1] as string, capability: m[2], level: m[3] }));

describe('docs/writing-a-tracker.md', () => {
  it('lists every tracker method once, each one the Knex tracker implements', () => {
    const methods = rows.map((r) => r.method);
    expect(new Set(methods).size).to.equal(methods.length);
    for (const method of methods) expect(typeof (KnexTracker.prototype as unknown as Record<string, unknown>)[method], method).to.equal('function');
    expect(methods).to.have.length(37);
  });

  it('gives each optional capability exactly its methods', () => {
    for (const [name, methods] of Object.entries(CAPABILITY_METHODS) as Array<[CapabilityName, readonly string[]]>) {
      const documented = rows.filter((r) => r.capability === name).map((r) => r.method);
      // `prepareMany`, `outboxClaimed`, `audienceRows` and `snapshotRows` are optional within their capability.
      const optional = ['prepareMany', 'outboxClaimed', 'audienceRows', 'snapshotRows'];
      expect(documented.filter((m) => !optional.includes(m)), name).to.deep.equal([...methods]);
    }
    for (const row of rows) {
      expect(['core', 'proof', ...Object.keys(CAPABILITY_METHODS)], row.method).to.include(row.capability);
      expect(['required', 'recommended', 'optional'], row.method).to.include(row.level);
    }
  });
});
