import { expect } from 'chai';
import fc from 'fast-check';
import knexFactory from 'knex';
import { createConsent, ConsentError, MemoryTracker } from '../../lib/index';
import { sqliteKnexConfig, tempSqliteFile } from '../helpers/databases';
import { memoryLogger } from '../helpers/consent-setup';

const SECRET = 's'.repeat(32);
const fresh = () => createConsent({ tracker: new MemoryTracker(), secret: SECRET });

/** Where a definition holds text, and the definition with `text` put there. */
const PLACES: Array<[string, (text: string) => Record<string, unknown>]> = [
  ['title', (text) => ({ title: text })],
  ['description', (text) => ({ description: text })],
  ['url', (text) => ({ url: `/privacy/${text}` })],
  ['url', (text) => ({ url: `https://example.com/${text}` })],
  ['retention', (text) => ({ retention: text })],
  ['transfers', (text) => ({ transfers: text })],
  ['purposes/0', (text) => ({ purposes: [text] })],
  ['controller.name', (text) => ({ controller: { name: text } })],
  ['controller.contact', (text) => ({ controller: { name: 'ACME', contact: text } })],
  ['texts.de.title', (text) => ({ title: undefined, description: undefined, texts: { de: { title: text, description: 'B' } } })],
];

// A lone surrogate becomes U+FFFD in a UTF-8 database, and PostgreSQL refuses U+0000: the stored
// text would differ from the registered one, its seal would fail, and ready() would refuse to start.
const unstorable = fc
  .tuple(fc.string({ maxLength: 8 }), fc.constantFrom('\ud800', '\udfff', '\udc00\ud800', '\u0000'), fc.string({ maxLength: 8 }))
  .map(([before, bad, after]) => `x${before}${bad}${after}`);

describe('requirement texts the database would change', () => {
  it('are refused at register() with invalid_requirement naming the field', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PLACES), unstorable, ([field, place], text) => {
        let error: unknown;
        try {
          fresh().register({ id: 'a', title: 'T', description: 'D', ...place(text) });
        } catch (caught) {
          error = caught;
        }
        expect(error, `${field} ${JSON.stringify(text)}`).to.be.instanceOf(ConsentError);
        expect((error as ConsentError).code).to.equal('invalid_requirement');
        expect((error as ConsentError).extensions.field).to.equal(field);
      }),
      { seed: 20251, numRuns: 200 },
    );
    expect(() => { fresh().register({ id: 'a', title: 'T 😀 \u00e9', description: 'D \ud83d\ude00' }); }).to.not.throw();
  });

  it('so an app never registers a text that SQLite then reads back as tampered with', async () => {
    const file = tempSqliteFile();
    const knex = knexFactory(sqliteKnexConfig(file.filename));
    const consent = createConsent({ knex, secret: SECRET, logger: memoryLogger() });
    try {
      expect(() => { consent.register({ id: 'a', title: 'Lone \ud800', description: 'D' }); }).to.throw(ConsentError, /title/);
      consent.register({ id: 'a', title: 'Paired \ud83d\ude00', description: 'D' });
      await consent.ready();
      await consent.record('ann', { a: 'granted' });
      expect((await consent.states('ann')).a?.state).to.equal('granted');
    } finally {
      await consent.close();
      await knex.destroy();
      file.cleanup();
    }
  });
});
