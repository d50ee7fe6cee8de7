/**
 * The language of each piece of text in a fragment of the library's own HTML, as a screen
 * reader takes it: the `lang` of its nearest element that has one, else `outer` (the page's).
 * Text is unescaped and trimmed; empty pieces are left out. Only for the library's markup:
 * quoted attributes, no comments or scripts.
 */
export function textLanguages(fragment: string, outer: string): Array<{ text: string; lang: string }> {
  const VOID = new Set(['input', 'br', 'img', 'meta', 'link', 'hr']);
  const stack: Array<{ tag: string; lang: string }> = [];
  const out: Array<{ text: string; lang: string }> = [];
  const current = () => stack[stack.length - 1]?.lang ?? outer;
  for (const [, close, tag, attrs, text] of fragment.matchAll(/<(\/?)([a-z0-9]+)([^>]*)>|([^<]+)/gi)) {
    if (text !== undefined) {
      const plain = text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').trim();
      if (plain !== '') out.push({ text: plain, lang: current() });
    } else if (close === '/') {
      if (stack.pop()?.tag !== tag) throw new Error(`unbalanced </${String(tag)}>`);
    } else if (!VOID.has(String(tag))) {
      stack.push({ tag: String(tag), lang: /\slang="([^"]*)"/.exec(String(attrs))?.[1] ?? current() });
    }
  }
  if (stack.length > 0) throw new Error('unclosed elements');
  return out;
}
