import { expect } from 'chai';
import request from 'supertest';
import { createConsent, ConsentError, MemoryTracker } from '../../lib/index';
import { acceptedRanges, lookup } from '../../lib/i18n/negotiate';
import { routerApp, TEST_SECRET } from '../helpers/app';

describe('locale negotiation (RFC 4647 lookup, RFC 9110 q-values)', () => {
  it('orders ranges by q-value, keeps the header order on ties, drops q=0, * and malformed entries', () => {
    expect(acceptedRanges('fr;q=0.5, de-CH, en;q=0.5, it;q=0, *;q=0.1, x_y, es;q=2')).to.deep.equal(['de-CH', 'fr', 'en']);
    expect(acceptedRanges(undefined)).to.deep.equal([]);
    expect(acceptedRanges('DE ; q=0.800, en')).to.deep.equal(['en', 'DE']);
  });

  it('looks up by removing subtags from the end (a dangling single-letter subtag with them), ignoring case', () => {
    expect(lookup(['zh-Hant-CN-x-private1'], ['zh', 'zh-Hant'])).to.equal('zh-Hant');
    expect(lookup(['de-CH-1996'], ['en', 'de'])).to.equal('de');
    expect(lookup(['DE-at'], ['de-AT', 'de'])).to.equal('de-AT');
    expect(lookup(['es', 'fr-CA'], ['en', 'fr'])).to.equal('fr');
    expect(lookup(['es'], ['en'])).to.equal(null);
  });
});

describe('the catalog of the library\'s own words', () => {
  const requirement = { id: 'stats', title: 'Statistics', description: 'We count page views.' };

  it('lets hosts override a built-in language and add one; English fills what an added one leaves out', async () => {
    const consent = createConsent({
      tracker: new MemoryTracker(),
      secret: TEST_SECRET,
      subject: () => 'ann',
      messages: { de: { 'form.legend': 'Ihre Zustimmung' }, es: { 'form.legend': 'Su consentimiento', 'problem.unknown_requirement': 'Finalidad desconocida' } },
    });
    consent.register(requirement);
    await consent.ready();
    expect(consent.formFields(['stats'], { locale: 'de' })).to.include('<legend>Ihre Zustimmung</legend>').and.include('(freiwillig)');
    expect(consent.formFields(['stats'], { locale: 'es-MX' })).to.include('<legend>Su consentimiento</legend>').and.include('(optional)');
    const res = await request(routerApp(consent)).put('/consent/me/nope').set('Accept-Language', 'es').send({ decision: 'granted' }).expect(404);
    expect(res.body.title).to.equal('Finalidad desconocida');
    const client = await request(routerApp(consent)).get('/consent/client.js').expect(200);
    expect(client.text).to.include('"client.acceptAll":"Alle akzeptieren"').and.include('"es":{');
    await consent.close();
  });

  it('refuses a malformed locale, an unknown key (with a hint) and an empty text', () => {
    const bad = (messages: unknown) => {
      try {
        createConsent({ tracker: new MemoryTracker(), secret: TEST_SECRET, messages: messages as Record<string, never> });
      } catch (error) {
        expect(error).to.be.instanceOf(ConsentError);
        return (error as ConsentError).message;
      }
      throw new Error('expected invalid_option');
    };
    expect(bad({ 'de DE': {} })).to.match(/messages\.de DE.*language tag/);
    expect(bad({ de: { 'form.legnd': 'x' } })).to.match(/did you mean "form\.legend"/);
    expect(bad({ de: { 'form.legend': ' ' } })).to.match(/non-empty string/);
    expect(bad([])).to.match(/messages/);
  });
});
