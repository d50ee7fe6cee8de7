import { expect } from 'chai';
import { previewPage } from '../../lib/express/confirm-page';
import { Catalog } from '../../lib/i18n/catalog';
import type { LocalizedText, Requirement } from '../../lib/types';
import { textLanguages } from '../helpers/text-languages';

describe('the confirmation page marks a text in another language than the page\'s', () => {
  it('marks the English text on a German page, the German words (labels, link) inside it, and the English title in the link', () => {
    const text = {
      title: 'Newsletter',
      description: 'A monthly e-mail.',
      url: '/privacy',
      retention: '13 months',
    } as LocalizedText;
    const words = new Catalog().words('de');
    const content = previewPage({ requirement: {} as Requirement, expiresAt: '2030-01-01T00:00:00.000Z' }, { text, locale: 'en' }, '/confirm/t', { lang: 'de', words });
    const languages = new Map(textLanguages(content.body.value, 'de').map(({ text: t, lang }) => [t, lang]));
    expect(languages.get('Newsletter')).to.equal('en');
    expect(languages.get('A monthly e-mail.')).to.equal('en');
    expect(languages.get('13 months')).to.equal('en');
    expect(languages.get(words['info.retention'])).to.equal('de');
    // The link's words (and its quotation marks) in German, the title in them in English.
    expect(languages.get('Mehr über „')).to.equal('de');
    expect(languages.get('“')).to.equal('de');
    expect([...languages].filter(([t]) => t === 'Newsletter').map(([, lang]) => lang)).to.deep.equal(['en']);
    expect(languages.get(words['confirm.button'])).to.equal('de');
  });
});
