import fc from 'fast-check';
import { expect } from 'chai';
import { createConsent, MemoryTracker } from '../../lib/index';
import { TEST_SECRET, memoryLogger } from '../helpers/consent-setup';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escaped = (s: string) => s.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
const markup = fc.oneof(
  fc.string({ minLength: 1, maxLength: 200 }),
  fc.constantFrom('<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "' onfocus='alert(1)", '&lt;b&gt;', '</label></fieldset><form action=//evil>', '<!--', ']]>'),
).filter((s) => s.trim().length > 0);

async function render(title: string, description: string, url: string | undefined): Promise<string> {
  const consent = createConsent({ tracker: new MemoryTracker(), secret: TEST_SECRET, logger: memoryLogger() });
  consent.register({ id: 'x', title, description, url, mandatory: true });
  await consent.ready();
  try {
    return consent.formFields('x', { legend: title, linkText: description.slice(0, 50) });
  } finally {
    await consent.close();
  }
}

/** The markup of a rendering: every character that can open a tag or leave an attribute. */
const structure = (html: string) => html.replace(/[^<>"]/g, '');

describe('formFields() with hostile requirement texts', () => {
  it('escapes titles, descriptions and links, so no text adds a tag or an attribute', async () => {
    const plain = structure(await render('t', 'd', '/privacy'));
    await fc.assert(
      fc.asyncProperty(markup, markup, fc.option(markup.map((s) => `/p?${s}`), { nil: undefined }), async (title, description, url) => {
        let html: string;
        try {
          html = await render(title, description, url);
        } catch (error) {
          // The registry may refuse a text or URL outright; that is safe too.
          expect(error).to.have.property('code', 'invalid_requirement');
          return;
        }
        expect(html).to.contain(escaped(title));
        expect(html).to.contain(escaped(description));
        const expected = url === undefined ? structure(await render('t', 'd', undefined)) : plain;
        expect(structure(html)).to.equal(expected);
      }),
      { numRuns: 150 },
    );
  });
});
