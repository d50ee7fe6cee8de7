import { expect } from 'chai';
import { ConsentError } from '../../lib/index';
import { confirmToken } from '../../lib/core/confirm';
import { atMostCharacters } from '../../lib/characters';
import { MAX_CONTEXT, MAX_NOTE } from '../../lib/core/input';
import { TOKEN_LENGTH } from '../../lib/core/tokens';
import { BACKENDS, testConsent, type TestDatabase } from '../helpers/consent-setup';

const EMOJI = '\u{1F600}';

describe('length limits count characters (code points), not UTF-16 units', () => {
  it('counts a surrogate pair as one character, and a lone surrogate as one', () => {
    expect(atMostCharacters(EMOJI.repeat(3), 3)).to.equal(true);
    expect(atMostCharacters(EMOJI.repeat(4), 3)).to.equal(false);
    expect(atMostCharacters(`${EMOJI}ab`, 3)).to.equal(true);
    expect(atMostCharacters('\ud800\ud800\ud800', 3)).to.equal(true);
    expect(atMostCharacters('\ud800\ud800\ud800\ud800', 3)).to.equal(false);
    expect(atMostCharacters('', 0)).to.equal(true);
  });
});

for (const backend of BACKENDS) {
  backend.describe(`characters beyond the Basic Multilingual Plane, stored and read back (${backend.name})`, () => {
    let db: TestDatabase;
    let t: Awaited<ReturnType<typeof testConsent>>;

    beforeEach(async () => {
      db = await backend.open();
      t = await testConsent(db);
    });
    afterEach(async () => {
      await t.close();
      await db.cleanup();
    });

    const code = async (step: () => Promise<unknown>): Promise<string | null> => {
      try {
        await step();
        return null;
      } catch (error) {
        return error instanceof ConsentError ? error.code : String(error);
      }
    };

    it('takes a subject id, context, note and actor of the most characters allowed, and refuses one more', async () => {
      const subject = EMOJI.repeat(256);
      const meta = { context: EMOJI.repeat(MAX_CONTEXT), note: EMOJI.repeat(MAX_NOTE), actor: EMOJI.repeat(256) };
      await t.consent.record(subject, { analytics: 'granted' }, meta);
      expect(await t.consent.isAllowed(subject, 'analytics')).to.equal(true);
      const [event] = (await t.consent.history(subject)).events;
      expect(event).to.include(meta);
      expect(await code(() => t.consent.record(`${subject}a`, { analytics: 'granted' }))).to.equal('invalid_subject');
      for (const [field, value] of Object.entries({ context: `${meta.context}a`, note: `${meta.note}a`, actor: `${meta.actor}a` })) {
        expect(await code(() => t.consent.record('ann', { analytics: 'granted' }, { [field]: value })), field).to.equal('invalid_argument');
      }
      expect((await t.consent.verify()).ok).to.equal(true);
    });

    it('confirms a double opt-in of the longest subject id (its token holds the id)', async () => {
      const subject = EMOJI.repeat(256);
      const { tokens } = await t.consent.engine.record(subject, { newsletter: 'granted' });
      const [issued] = tokens;
      expect(issued?.token.length).to.be.at.most(TOKEN_LENGTH.max);
      await confirmToken(t.consent.engine, issued?.token);
      expect(await t.consent.isAllowed(subject, 'newsletter')).to.equal(true);
    });
  });
}
