import { expect } from 'chai';
import { createConsent, MemoryTracker } from '../../lib/index';

const SECRET = 'export-test-secret-0123456789abcdef012345';
const NOW = Date.UTC(2025, 5, 1);
const quiet = { warn() {}, error() {} };

describe('export() (Art. 15)', () => {
  it('gives states, open confirmations without tokens, and every event with its network details', async () => {
    const consent = createConsent({ tracker: new MemoryTracker(), secret: SECRET, now: () => new Date(NOW), logger: quiet });
    consent.register([
      { id: 'a', title: 'A', description: 'A' },
      { id: 'd', title: 'D', description: 'D', doubleOptIn: true },
    ]);
    await consent.ready();
    await consent.engine.record('ann', { a: 'granted' }, { note: 'hello', data: { k: 1 } }, { ip: '192.0.2.0', userAgent: 'UA/1' });
    const { tokens } = await consent.engine.record('ann', { d: 'granted' });
    const doc = await consent.export('ann');
    expect(doc.subject).to.equal(consent.engine.pseudonym('ann'));
    expect(doc.exportedAt).to.equal(new Date(NOW).toISOString());
    expect(doc.states).to.deep.equal(await consent.states('ann'));
    expect(doc.pending).to.deep.equal([]);
    expect(doc.confirmations).to.deep.equal([
      { requirement: 'd', version: 1, requestedAt: new Date(NOW).toISOString(), expiresAt: new Date(NOW + 172_800_000).toISOString() },
    ]);
    expect(doc.events.map((e) => [e.requirement, e.action, e.note, e.data, e.network])).to.deep.equal([
      ['a', 'grant', 'hello', { k: 1 }, { ip: '192.0.2.0', userAgent: 'UA/1' }],
      ['d', 'request', null, null, { ip: null, userAgent: null }],
    ]);
    const text = JSON.stringify(doc);
    expect(text).to.not.contain(tokens[0]!.token);
    expect(text).to.not.contain(consent.engine.tokenHash(tokens[0]!.token));
    expect((await consent.export('nobody')).events).to.deep.equal([]);
  });
});
