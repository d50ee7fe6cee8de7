/**
 * The gating part of the browser client (spliced into `CLIENT_SCRIPT`, sharing its scope): turns
 * on `<script type="text/plain" data-consent>` and `<iframe data-consent data-src>` once every
 * requirement they list is allowed, and veils a frame until then.
 */
export const CLIENT_GATING = String.raw`  function activate() {
    each(d.querySelectorAll('script[type="text/plain"][data-consent],iframe[data-consent][data-src]'), function (node) {
      var ids = node.getAttribute('data-consent').split(/[\s,]+/).filter(Boolean);
      if (!ids.length || !ids.every(allowed)) return;
      if (node.tagName === 'IFRAME') {
        node.setAttribute('src', node.getAttribute('data-src'));
        node.removeAttribute('data-src');
        unveil(node);
        return;
      }
      // The element the page wrote runs itself, re-inserted with its type restored: its src, text
      // and nonce stay the parser's, so no Trusted Types sink is written and the nonce holds.
      var type = node.getAttribute('data-type'), parent = node.parentNode, next = node.nextSibling;
      if (type) node.setAttribute('type', type); else node.removeAttribute('type');
      node.removeAttribute('data-consent');
      node.setAttribute('data-consent-activated', ids.join(' '));
      node.async = false;
      parent.removeChild(node);
      parent.insertBefore(node, next);
    });
  }

  // A gated frame stays out of sight, of the Tab order and of screen readers until it loads; a
  // note in its place says what it needs, with a button to choose.
  var veiled = 0;
  function veil() {
    each(d.querySelectorAll('iframe[data-consent][data-src]'), function (frame) {
      if (frame.hasAttribute('data-ec-veiled')) return;
      var ids = frame.getAttribute('data-consent').split(/[\s,]+/).filter(Boolean);
      var needed = known.filter(function (r) { return ids.indexOf(r.id) >= 0; });
      if (!needed.length || ids.every(allowed)) return;
      // The button is described by the note, so that a list of buttons says what each one is for.
      var said = 'ec-needs-' + (veiled += 1);
      var note = el('p', { 'class': 'ec-placeholder', lang: wordsLocale }, [
        el('span', { id: said, text: fill(w['client.placeholder'], { titles: titles(needed) }) }),
        needed.some(function (r) { return asked(r.id); }) ? el('button', { type: 'button', 'class': 'ec-btn', 'data-consent-open': '', 'aria-describedby': said, text: w['client.choose'] }) : null,
      ]);
      frame.setAttribute('data-ec-veiled', frame.getAttribute('tabindex') === null ? '' : frame.getAttribute('tabindex'));
      frame.setAttribute('tabindex', '-1');
      frame.setAttribute('aria-hidden', 'true');
      frame.classList.add('ec-gated');
      frame.parentNode.insertBefore(note, frame);
      frame.ecNote = note;
    });
  }
  function unveil(frame) {
    if (!frame.hasAttribute('data-ec-veiled')) return;
    var tabindex = frame.getAttribute('data-ec-veiled');
    if (tabindex === '') frame.removeAttribute('tabindex'); else frame.setAttribute('tabindex', tabindex);
    frame.removeAttribute('data-ec-veiled');
    frame.removeAttribute('aria-hidden');
    frame.classList.remove('ec-gated');
    if (!frame.classList.length) frame.removeAttribute('class');
    if (frame.ecNote) { frame.ecNote.remove(); frame.ecNote = null; }
  }
`;
