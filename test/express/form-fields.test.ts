import { expect } from 'chai';
import { createConsent, type Consent } from '../../lib/index';
import { MemoryTracker } from '../../lib/index';
import { TEST_SECRET, memoryLogger } from '../helpers/consent-setup';
import { textLanguages } from '../helpers/text-languages';

describe('formFields()', () => {
  let consent: Consent;

  beforeEach(async () => {
    consent = createConsent({ tracker: new MemoryTracker(), secret: TEST_SECRET, logger: memoryLogger() });
    consent.register([
      { id: 'terms', title: 'Terms & <conditions>', description: 'You agree to "the terms" and \'rules\'.', url: 'https://example.com/terms?a=1&b=2', lawfulBasis: 'contract', mandatory: true },
      { id: 'news.letter', title: 'Newsletter', description: 'Monthly <b>news</b>.' },
    ]);
    await consent.ready();
  });
  afterEach(() => consent.close());

  it('renders a fieldset with a legend and one labelled, described checkbox per id', () => {
    const html = consent.formFields(['terms', 'news.letter']);
    expect(html.startsWith('<fieldset class="consent-fields">\n<legend>Your consent</legend>')).to.equal(true);
    expect(html.endsWith('</fieldset>')).to.equal(true);
    expect(html).to.contain('<input type="checkbox" id="consent-terms" name="consent[terms]" value="granted" aria-describedby="consent-terms-description" required>');
    // Required and optional in words, not by colour or an asterisk alone.
    expect(html).to.contain('<label for="consent-terms">Terms &amp; &lt;conditions&gt; <span class="consent-need">(required)</span></label>');
    expect(html).to.contain('<label for="consent-news.letter">Newsletter <span class="consent-need">(optional)</span></label>');
    expect(html).to.contain('<p id="consent-terms-description">You agree to &quot;the terms&quot; and &#39;rules&#39;.');
    expect(html).to.contain('<a href="https://example.com/terms?a=1&amp;b=2">Learn more<span class="consent-sr-only"> about Terms &amp; &lt;conditions&gt;</span></a>');
    expect(html).to.contain('name="consent[news.letter]" value="granted" aria-describedby="consent-news.letter-description">');
    expect(html).to.contain('Monthly &lt;b&gt;news&lt;/b&gt;.</p>');
    expect(html).not.to.match(/<b>|<conditions>/);
    expect(html.indexOf('consent[terms]')).to.be.lessThan(html.indexOf('consent[news.letter]'));
  });

  it('marks the language of every text that is not in the page\'s: the library\'s words, the host\'s and the requirements\'', async () => {
    const multi = createConsent({ tracker: new MemoryTracker(), secret: TEST_SECRET, logger: memoryLogger() });
    multi.register([
      {
        id: 'stats',
        texts: {
          en: { title: 'Statistics', description: 'We count page views.', url: '/privacy' },
          es: { title: 'Estadísticas', description: 'Contamos las visitas.', url: '/privacidad', retention: '13 meses' },
        },
      },
      { id: 'letter', title: 'Newsletter', description: 'A monthly e-mail.', mandatory: true },
    ]);
    await multi.ready();
    try {
      const language = (html: string, page: string) => new Map(textLanguages(html, page).map(({ text, lang }) => [text, lang]));
      // A page in Spanish, a language the library has no words for: its words are English, and say so.
      const es = language(multi.formFields(['stats', 'letter'], { locale: 'es', errors: { letter: 'Falta esta casilla.' } }), 'es');
      expect(Object.fromEntries(es)).to.deep.equal({
        'Your consent': 'en',
        'Estadísticas': 'es',
        '(optional)': 'en',
        'Contamos las visitas.': 'es',
        'Learn more': 'en',
        // The screen-reader words around the title in English, the title in its own.
        'about': 'en',
        'How long it is kept': 'en',
        '13 meses': 'es',
        'Newsletter': 'en',
        '(required)': 'en',
        'Falta esta casilla.': 'es',
        'A monthly e-mail.': 'en',
      });
      // What the host gives is in the page's language, even inside an English text.
      const own = language(multi.formFields(['letter'], { locale: 'es', legend: 'Tu consentimiento', labels: { letter: 'Quiero el boletín' } }), 'es');
      expect(own.get('Tu consentimiento')).to.equal('es');
      expect(own.get('Quiero el boletín')).to.equal('es');
      expect(own.get('(required)')).to.equal('en');
      // A page in German: words and the English text each in their own.
      const de = language(multi.formFields(['stats'], { locale: 'de' }), 'de');
      expect(de.get('Ihre Einwilligung')).to.equal('de');
      expect(de.get('Statistics')).to.equal('en');
      expect(de.get('(freiwillig)')).to.equal('de');
      // Nothing to mark when everything is in the page's language, or in the language of its variant.
      expect(multi.formFields(['letter'])).not.to.include('lang=');
      expect(multi.formFields(['stats'], { locale: 'de-AT' })).to.include('<legend>Ihre Einwilligung</legend>').and.include('<div class="consent-field" lang="en">');
      const mexico = multi.formFields(['stats'], { locale: 'es-MX' });
      // The field in Spanish is not marked on a page in Mexican Spanish; only the title inside the English words is.
      expect(mexico).to.include('<legend lang="en">').and.include('<div class="consent-field">').and.not.include('consent-field" lang=');
      expect(mexico.match(/lang="es"/g)).to.have.length(1);
      expect(mexico).to.include('<span lang="es">Estadísticas</span>');
    } finally {
      await multi.close();
    }
  });

  it('pre-checks the values given, with the same rule as collect()', () => {
    const html = consent.formFields(['terms', 'news.letter'], { values: { terms: 'on', 'news.letter': '0' } });
    expect(html).to.contain('aria-describedby="consent-terms-description" checked required>');
    expect(html).to.contain('aria-describedby="consent-news.letter-description">');
    // The body as a parser left it, nested or flat (express.urlencoded({ extended: false })), like collect() reads it;
    // the form's own fields never tick a box, even one named like a requirement.
    for (const body of [{ email: 'a@b.c', 'news.letter': 'on', consent: { terms: 'granted' } }, { email: 'a@b.c', terms: 'no', 'news.letter': 'on', 'consent[terms]': ['0', 'granted'], 'consent[news.letter]': '0' }]) {
      const again = consent.formFields(['terms', 'news.letter'], { values: body });
      expect(again, JSON.stringify(body)).to.contain('aria-describedby="consent-terms-description" checked required>');
      expect(again, JSON.stringify(body)).to.contain('aria-describedby="consent-news.letter-description">');
    }
  });

  it('takes an escaped legend and link text, and refuses unknown options', () => {
    const html = consent.formFields('terms', { legend: 'Vos <choix>', linkText: 'En savoir plus' });
    expect(html).to.contain('<legend>Vos &lt;choix&gt;</legend>');
    expect(html).to.contain('>En savoir plus<span');
    expect(() => consent.formFields('terms', { value: {} } as never)).to.throw(/no option "value"/);
    expect(() => consent.formFields([])).to.throw(/non-empty/);
  });

  it('labels a checkbox with the statement given, escaped', () => {
    const html = consent.formFields(['terms', 'news.letter'], { labels: { terms: 'I accept the <terms>' } });
    expect(html).to.contain('<label for="consent-terms">I accept the &lt;terms&gt; <span class="consent-need">(required)</span></label>');
    expect(html).to.contain('<label for="consent-news.letter">Newsletter <span');
    expect(() => consent.formFields('terms', { labels: { terms: 1 } } as never)).to.throw(/"labels" must be an object of id → string/);
  });

  it('marks a checkbox with an error invalid and describes it by the message first', () => {
    const html = consent.formFields(['terms', 'news.letter'], { errors: { terms: 'Accept the <terms> to go on.' } });
    expect(html).to.contain('<input type="checkbox" id="consent-terms" name="consent[terms]" value="granted" aria-describedby="consent-terms-error consent-terms-description" aria-invalid="true" required>');
    expect(html).to.contain('<p class="consent-error" id="consent-terms-error">Accept the &lt;terms&gt; to go on.</p>');
    expect(html).to.contain('aria-describedby="consent-news.letter-description">');
    expect(html).not.to.contain('consent-news.letter-error');
    expect(() => consent.formFields('terms', { errors: [] } as never)).to.throw(/"errors" must be an object/);
  });
});
