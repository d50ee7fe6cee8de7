import { expect } from 'chai';
import { createConsent, MemoryTracker } from '../../lib/index';
import { latestDefinitions } from '../../lib/cli/stored-requirements';
import { TEXTS_REQUIREMENTS } from '../helpers/texts';

const SECRET = 'cli-test-secret-0123456789abcdef';
const quiet = { warn() {}, error() {} };

describe('the stored requirements the command line works with', () => {
  it('keep every locale, the Art. 13 fields and scheduled versions, so that ready() accepts them as stored', async () => {
    const tracker = new MemoryTracker();
    const start = Date.parse('2027-01-01T00:00:00.000Z');
    const app = createConsent({ tracker, secret: SECRET, logger: quiet, now: () => new Date(start) });
    app.register([...TEXTS_REQUIREMENTS, { id: 'stats', version: 2, title: 'Statistics', description: 'Clicks too.', effectiveFrom: start + 1000 }]);
    await app.ready();
    await app.record('ann', { stats: { decision: 'granted', locale: 'de' } });
    const shown = app.requirements();

    const definitions = latestDefinitions(await tracker.allRequirementVersions(), start);
    expect(definitions.map((d) => [d.id, d.version])).to.have.deep.members([['stats', 1], ['stats', 2], ['letter', 1]]);
    const cli = createConsent({ tracker, secret: SECRET, logger: quiet, now: () => new Date(start) });
    cli.register(definitions);
    await cli.ready();
    expect(cli.requirements().map((r) => [r.id, r.texts, r.defaultLocale])).to.have.deep.members(shown.map((r) => [r.id, r.texts, r.defaultLocale]));
    expect((await cli.states('ann')).stats?.state).to.equal('granted');
    expect(latestDefinitions(await tracker.allRequirementVersions(), start + 1000).map((d) => [d.id, d.version])).to.have.deep.members([['stats', 2], ['letter', 1]]);
    await cli.close();
    await app.close();
  });
});
