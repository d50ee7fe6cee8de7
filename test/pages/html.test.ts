import { expect } from 'chai';
import { html, SafeHtml, trustedHtml } from '../../lib/index';

describe('html, the one escaping template of the library', () => {
  it('escapes every value for content and quoted attributes', () => {
    const value = `<a href="x" onclick='y'>&`;
    expect(html`<p title="${value}">${value}</p>`.value).to.equal('<p title="&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;">&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;</p>');
  });

  it('keeps nested templates and trusted markup, joins arrays, renders nothing for null, undefined and false', () => {
    const items = ['<1>', '2'].map((n) => html`<li>${n}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${0}${trustedHtml('<br>')}`.value).to.equal('<ul><li>&lt;1&gt;</li><li>2</li></ul>0<br>');
    expect(html`a`).to.be.instanceOf(SafeHtml);
    expect(String(html`<b>${'&'}</b>`)).to.equal('<b>&amp;</b>');
  });

  it('shows bidi controls as code points and lets the marks pass', () => {
    expect(html`${'admin \u202enimda\u202c \u2066x\u2069 \u200e\u200f\u061c'}`.value).to.equal('admin [U+202E]nimda[U+202C] [U+2066]x[U+2069] \u200e\u200f\u061c');
  });
});
