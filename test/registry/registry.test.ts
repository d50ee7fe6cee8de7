import { expect } from 'chai';
import { createConsent, ConsentError, MemoryTracker } from '../../lib/index';
import type { RequirementDefinition } from '../../lib/types';

const SECRET = 's'.repeat(32);
const def = (id: string, extra: Partial<RequirementDefinition> = {}): RequirementDefinition =>
  ({ id, title: `T ${id}`, description: `D ${id}`, ...extra });
const fresh = () => createConsent({ tracker: new MemoryTracker(), secret: SECRET });

function thrown(fn: () => unknown): ConsentError {
  try {
    fn();
  } catch (error) {
    expect(error).to.be.instanceOf(ConsentError);
    return error as ConsentError;
  }
  throw new Error('expected a ConsentError');
}

describe('registry', () => {
  const NO_INFO = { controller: null, purposes: null, dataCategories: null, recipients: null, retention: null, transfers: null };

  it('keeps registration order and fills in defaults', () => {
    const consent = fresh();
    consent.register([def('b'), def('a', { url: '/privacy', lawfulBasis: 'contract' })]);
    consent.use({ name: 'billing', requirements: [def('invoices')] });
    expect(consent.requirements().map((r) => r.id)).to.deep.equal(['b', 'a', 'invoices']);
    expect(consent.requirements()[0]).to.deep.equal({
      id: 'b', version: 1, title: 'T b', description: 'D b', url: null, lawfulBasis: 'consent',
      mandatory: false, expiresAfterDays: null, doubleOptIn: false, gpc: false,
      ...NO_INFO, defaultLocale: 'en', locales: ['en'], effectiveFrom: null,
      texts: { en: { title: 'T b', description: 'D b', url: null, ...NO_INFO } },
    });
  });

  it('names both registrants of a duplicate id: the host is app, an extension its name', () => {
    const consent = fresh();
    consent.register(def('news'));
    const error = thrown(() => { consent.use({ name: 'mailer', requirements: [def('news')] }); });
    expect(error.code).to.equal('duplicate_requirement');
    expect(error.message).to.contain('app').and.to.contain('mailer');
    expect(error.extensions.registrants).to.deep.equal(['app', 'mailer']);
    const inBatch = thrown(() => { consent.register([def('x'), def('x')]); });
    expect(inBatch.extensions.registrants).to.deep.equal(['app', 'app']);
    expect(consent.requirements().map((r) => r.id), 'a refused batch registers nothing').to.deep.equal(['news']);
  });

  it('says an extension installed twice registered its id twice, rather than naming it as both registrants', () => {
    const consent = fresh();
    const install = () => { consent.use({ name: 'mailer', requirements: [def('news')] }); };
    install();
    const error = thrown(install);
    expect(error.code).to.equal('duplicate_requirement');
    expect(error.message).to.equal('requirement "news" is registered twice by mailer, by an earlier call (the extension installed twice?)');
    expect(error.extensions.registrants).to.deep.equal(['mailer', 'mailer']);
  });

  it('refuses every bad field with invalid_requirement naming the field', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ id: 'Bad' }, 'id'], [{ id: '-x' }, 'id'], [{ id: 'a'.repeat(65) }, 'id'],
      [{ version: 0 }, 'version'], [{ version: 1.5 }, 'version'], [{ version: '2' }, 'version'],
      [{ title: '' }, 'title'], [{ title: 'x'.repeat(201) }, 'title'], [{ description: 'x'.repeat(5001) }, 'description'],
      [{ url: 'ftp://x.test/' }, 'url'], [{ url: '//evil.test' }, 'url'], [{ url: 'relative' }, 'url'],
      [{ lawfulBasis: 'whim' }, 'lawfulBasis'], [{ mandatory: 'yes' }, 'mandatory'],
      [{ expiresAfterDays: 0 }, 'expiresAfterDays'], [{ expiresAfterDays: 100_001 }, 'expiresAfterDays'], [{ doubleOptIn: true, lawfulBasis: 'contract' }, 'doubleOptIn'],
      [{ gpc: true, lawfulBasis: 'contract' }, 'gpc'], [{ colour: 'red' }, 'colour'],
    ];
    for (const [patch, field] of cases) {
      const error = thrown(() => { fresh().register({ ...def('ok'), ...patch }); });
      expect(error.code, JSON.stringify(patch)).to.equal('invalid_requirement');
      expect(error.extensions.field, JSON.stringify(patch)).to.equal(field);
      expect(error.message).to.contain(`"${field}"`);
    }
    expect(() => { fresh().register(def('fine', { url: 'https://example.com/p', expiresAfterDays: 30, gpc: true })); }).to.not.throw();
  });

  it('names the flat field given beside texts of the same locale, whichever it is', () => {
    const texts = { en: { title: 'T', description: 'D' } };
    for (const field of ['title', 'description', 'url'] as const) {
      const value = field === 'url' ? 'https://example.com/p' : 'X';
      const error = thrown(() => { fresh().register({ id: 'twice', texts, [field]: value }); });
      expect(error.extensions.field, field).to.equal(field);
      expect(error.message).to.contain(`"${field}"`).and.contain('duplicates texts.en');
    }
  });

  it('refuses a url that browsers would rewrite (to another origin, or a link other than shown); keeps the rest', () => {
    const offSite = [
      '/\\evil.example', '/\t/evil.example', '/\n/evil.example', '/\r/evil.example', '/\r\n/evil.example', '/ /evil.example',
      '/\u0000/evil.example', '/\u007f/evil.example', '/\u0085/evil.example', '/\u3000/evil.example', '/..//evil.example',
      '/%2e%2e//evil.example', ' https://example.com/', 'https://exa\tmple.com/', 'https://example.com\\@evil.example/',
    ];
    for (const url of offSite) {
      const error = thrown(() => { fresh().register(def('x', { url })); });
      expect(error.code, JSON.stringify(url)).to.equal('invalid_requirement');
      expect(error.extensions.field, JSON.stringify(url)).to.equal('url');
    }
    for (const url of ['/privacy#analytics', '/a/b?c=%2F%2Fd', 'https://example.com/p?q=1', 'http://example.com']) {
      const consent = fresh();
      consent.register(def('x', { url }));
      expect(consent.requirements()[0]!.url).to.equal(url);
    }
  });

  it('refuses registering after ready() with registry_sealed', async () => {
    const consent = fresh();
    consent.register(def('a'));
    await consent.ready();
    expect(thrown(() => { consent.register(def('b')); }).code).to.equal('registry_sealed');
    expect(thrown(() => { consent.use({ name: 'late', requirements: [def('c')] }); }).code).to.equal('registry_sealed');
  });

  it('accepts an extension name that reads as one', () => {
    for (const name of ['billing', 'Zahlungsverkehr-Ä', 'パートナー', 'ads v2']) {
      expect(() => { fresh().use({ name, requirements: [] }); }, name).not.to.throw();
    }
  });

  it('refuses a malformed extension', () => {
    expect(thrown(() => { fresh().use({ name: '', requirements: [] }); }).code).to.equal('invalid_argument');
    expect(thrown(() => { fresh().use({ name: 'app', requirements: [] }); }).code).to.equal('invalid_argument');
    // C1 controls (NEL breaks a line too), line and paragraph separators, and a name of only invisible characters.
    for (const name of ['   ', '\t', 'bill\ning', 'bill\u0085ing', 'bill\u009bing', 'bill\u2028ing', '\u200b', '\u00a0\u200d']) {
      expect(thrown(() => { fresh().use({ name, requirements: [] }); }).code, JSON.stringify(name)).to.equal('invalid_argument');
    }
  });
});
