import { expect } from 'chai';
import knexFactory from 'knex';
import { KnexTracker, MemoryTracker, type ConsentTracker } from '../../lib/tracker';
import { CAPABILITY_METHODS, hasCapability, missingMethods, type CapabilityName } from '../../lib/tracker/has-capability';
import { sqliteKnexConfig } from '../helpers/databases';

const NAMES = Object.keys(CAPABILITY_METHODS) as CapabilityName[];

describe('tracker capabilities', () => {
  it('the Knex tracker offers every optional capability, the memory tracker all but watch and upgrade (it never holds an older store)', async () => {
    const knex = knexFactory({ ...sqliteKnexConfig(':memory:'), pool: { min: 1, max: 1 } });
    try {
      const trackers: Array<[ConsentTracker, CapabilityName[]]> = [
        [new KnexTracker(knex), NAMES],
        [new MemoryTracker(), NAMES.filter((n) => n !== 'watch' && n !== 'upgrade')],
      ];
      for (const [tracker, offered] of trackers) {
        expect(NAMES.filter((name) => hasCapability(tracker, name))).to.deep.equal(offered);
      }
    } finally {
      await knex.destroy();
    }
  });

  it('names the methods a partial implementation lacks', () => {
    const memory = new MemoryTracker();
    const partial = { ...Object.fromEntries(['auditEvents', 'stats'].map((m) => [m, () => Promise.resolve()])) } as unknown as ConsentTracker;
    expect(hasCapability(partial, 'admin')).to.equal(false);
    expect(missingMethods(partial, 'admin')).to.deep.equal(['dailyCounts', 'allRequirementVersions', 'readSetting']);
    expect(missingMethods(memory, 'admin')).to.deep.equal([]);
    expect(missingMethods(memory, 'watch')).to.deep.equal(['subscribe']);
  });
});
