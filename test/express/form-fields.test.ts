import { expect } from 'chai';
import { createConsent, type Consent } from '../../lib/index';
import { MemoryTracker } from '../../lib/index';
import { TEST_SECRET, memoryLogger } from '../helpers/consent-setup';

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
