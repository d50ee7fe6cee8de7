import { LOCALE_TAG } from '../../i18n/negotiate';
import { CLIENT_GATING } from './client-gating';
import { CLIENT_ROOM } from './client-room';

/**
 * The browser client served at `<mount>/client.js`: plain ES2017 with no dependency, so a host
 * needs no build step. It runs under `script-src 'self'`: no inline style or script of its
 * own, no `eval`, texts set with `textContent` only. (Kept as a string so that the built
 * package and the sources serve the same bytes without a file to locate at run time.)
 */
export const CLIENT_SCRIPT = String.raw`(function () {
  'use strict';
  var WORDS = __WORDS__;
  var d = document, me = d.currentScript, w = WORDS.en;
  if (!me || !window.fetch || d.documentElement.hasAttribute('data-consent-client')) return;
  d.documentElement.setAttribute('data-consent-client', '');
  var base = me.src.replace(/\/client\.js([?#].*)?$/i, '');
  var known = [], requirements = [], states = {}, pending = [], gpcSeen = false;
  // wordsLocale: the language of the library's words, marked on what shows them (the page's may differ).
  var banner = null, dialog = null, opener = null, wordsLocale = 'en';
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  var only = (me.getAttribute('data-requirements') || '').split(/[\s,]+/).filter(Boolean);
  var asked = function (id) { return !only.length || only.indexOf(id) >= 0; };

  function el(tag, attrs, kids) {
    var e = d.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]);
    });
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function button(text, action) { return el('button', { type: 'button', 'class': 'ec-btn', 'data-ec': action, text: text }); }

  function api(method, path, body) {
    var init = { method: method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body) { init.headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(base + path, init).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) throw j; return j; });
    });
  }

  var gpcOn = function () { return gpcSeen || navigator.globalPrivacyControl === true; };
  var choosable = function (r) { return r.lawfulBasis === 'consent' || r.lawfulBasis === 'legitimate_interests'; };
  var allowed = function (id) { return !!(states[id] && states[id].allowed); };
  var titles = function (list) { return list.map(function (r) { return r.title; }).join(', '); };
  var fill = function (text, values) { return text.replace(/\{(\w+)\}/g, function (all, k) { return values[k] === undefined ? all : values[k]; }); };
  function pick(locale) {
    for (var tag = locale.toLowerCase(); tag; tag = tag.replace(/-?[^-]*$/, '')) {
      for (var k in WORDS) if (k.toLowerCase() === tag) return k;
    }
    return 'en';
  }
  var signalled = function () { return gpcOn() ? requirements.filter(function (r) { return r.gpc && choosable(r); }) : []; };
  // What the banner asks: what is still to answer, less what the privacy signal already refuses
  // (the dialog still shows that one, off, to turn on).
  var unanswered = function () {
    var kept = signalled();
    return requirements.filter(function (r) { return pending.indexOf(r.id) >= 0 && kept.indexOf(r) < 0; });
  };

  __GATING__

  function apply(result, reason) {
    states = result.states;
    pending = result.pending.filter(asked);
    if (result.gpc && result.gpc.seen) gpcSeen = true;
    activate();
    d.dispatchEvent(new CustomEvent('consent:change', { detail: { states: states, pending: pending, reason: reason } }));
  }

  // One save at a time: a click while one is on its way is ignored (its buttons say so), so what
  // the page shows and runs is what was stored last.
  var saving = false, alert = null;
  function busy(on) {
    saving = on;
    each(d.querySelectorAll('[data-ec="accept"],[data-ec="reject"],[data-ec="save"]'), function (b) {
      if (on) b.setAttribute('aria-disabled', 'true'); else b.removeAttribute('aria-disabled');
    });
  }
  function save(decide) {
    if (saving) return Promise.resolve();
    var decisions = {}, count = 0;
    requirements.forEach(function (r) {
      var decision = choosable(r) ? decide(r) : null;
      if (decision) { decisions[r.id] = { decision: decision, version: r.version, locale: r.locale }; count += 1; }
    });
    // Saved from the banner (or a dialog it opened), or from a frame's note (its button goes when
    // the frame loads): the control that had focus is gone, and focus would fall to the body.
    var fromBanner = !!banner && (banner.contains(d.activeElement) || (!!opener && banner.contains(opener)));
    // Said wherever it was saved from; focus moves only when it would be lost.
    var done = function () { hide(); close(); if (fromBanner || !d.activeElement || d.activeElement === d.body) saved(); else say(w['client.saved']); };
    if (!count) { done(); return Promise.resolve(); }
    if (alert) { alert.remove(); alert = null; }
    busy(true);
    return api('POST', '/me', { decisions: decisions }).then(function (result) { busy(false); apply(result, 'save'); done(); if (tabs) tabs.postMessage('saved'); }, function (problem) { busy(false); failed(problem); });
  }
  // A failed save says so in plain words where the person is, and leaves their focus where it was;
  // texts changed meanwhile (409) are read again first, so the question is asked of the new ones.
  function failed(problem) {
    var stale = !!problem && problem.status === 409;
    if (stale) close();
    return (stale ? load() : Promise.resolve()).then(function () {
      var at = dialog || banner, text = w[stale ? 'client.changed' : 'client.failed'];
      if (!at) { say(text); return; }
      // First among the buttons: in sight with them where they stay in sight (see client-style).
      alert = el('p', { role: 'alert', 'class': 'ec-error', lang: wordsLocale, text: text });
      var actions = at.querySelector('.ec-actions');
      actions.insertBefore(alert, actions.firstChild);
      if (!d.activeElement || d.activeElement === d.body) at.querySelector('button').focus();
    });
  }
  var changed = function (r, decision) {
    var state = states[r.id] ? states[r.id].state : 'unset';
    return state !== decision || pending.indexOf(r.id) >= 0 ? decision : null;
  };
  // From the banner, "all" is what the banner names (what is still to answer): an earlier answer
  // or an objection it does not mention stays as it is. From the dialog, it is every switch shown.
  var named = function (r, bannerOnly) { return !bannerOnly || unanswered().indexOf(r) >= 0; };
  function acceptAll(bannerOnly) {
    // The privacy signal stays a refusal unless the person turns that one on by itself.
    var kept = signalled();
    return save(function (r) { return kept.indexOf(r) >= 0 || !named(r, bannerOnly) ? null : changed(r, 'granted'); });
  }
  function rejectAll(bannerOnly) { return save(function (r) { return named(r, bannerOnly) ? changed(r, 'denied') : null; }); }
  function saveChoices() {
    return save(function (r) {
      var box = d.getElementById('ec-switch-' + r.id);
      if (!box) return null;
      var decision = box.checked ? 'granted' : 'denied';
      return box.checked !== allowed(r.id) || pending.indexOf(r.id) >= 0 ? decision : null;
    });
  }

  // Where the person turns a signalled requirement on: under Choose from the banner, below in the dialog.
  function gpcNote(inDialog) {
    var list = signalled();
    if (!list.length) return null;
    return el('p', { 'class': 'ec-gpc', text: fill(w['client.gpcNote'], { titles: titles(list) }) + ' ' + w[inDialog ? 'client.gpcBelow' : 'client.gpcChoose'] });
  }

  function showBanner() {
    if (banner) banner.remove();
    var asked = unanswered();
    banner = el('div', { 'class': 'ec-banner', role: 'region', 'aria-labelledby': 'ec-banner-title', lang: wordsLocale }, [
      el('h2', { id: 'ec-banner-title', 'class': 'ec-title', text: w['client.bannerTitle'] }),
      el('p', { text: fill(w['client.bannerText'], { titles: titles(asked) }) }),
      gpcNote(),
      el('div', { 'class': 'ec-actions' }, [button(w['client.acceptAll'], 'accept'), button(w['client.rejectAll'], 'reject'), button(w['client.choose'], 'choose')]),
    ]);
    d.body.insertBefore(banner, bannerPlace());
    reserve();
  }
  function hide() { if (banner) { banner.remove(); banner = null; } reserve(); }

  __ROOM__

  // Says that the choice was saved, and gives focus a place to go: the page's own control that
  // opens the choices, else its main content.
  var status = null;
  function saved() {
    var own = Array.prototype.filter.call(d.querySelectorAll('[data-consent-open]'), function (e) { return !e.closest('.ec-placeholder'); });
    var target = own[0] || d.querySelector('main,[role="main"]');
    if (target) {
      if (!target.matches('a[href],button,input,select,textarea,[tabindex]')) target.setAttribute('tabindex', '-1');
      target.focus();
    }
    say(w['client.saved']);
  }
  // On the page from the start: a live region added just before it changes is not always read out.
  function live() {
    if (!status) { status = el('p', { role: 'status', 'class': 'ec-status' }); d.body.appendChild(status); }
  }
  function say(text) {
    live();
    status.textContent = ''; status.setAttribute('lang', wordsLocale);
    setTimeout(function () { status.textContent = text; }, 50);
  }

  function item(r) {
    var id = r.id, kids = [];
    // On until the person objects (the dialog says switches stay off): a note says so, for the switch too.
    var gpcOff = r.gpc && gpcOn() && !allowed(id), objectable = r.lawfulBasis === 'legitimate_interests' && !gpcOff;
    if (choosable(r)) {
      var box = el('input', { type: 'checkbox', role: 'switch', id: 'ec-switch-' + id, 'class': 'ec-switch', 'aria-describedby': 'ec-desc-' + id + (objectable ? ' ec-basis-' + id : '') });
      box.checked = allowed(id);
      kids.push(el('div', { 'class': 'ec-row' }, [el('label', { 'for': 'ec-switch-' + id, 'class': 'ec-label', text: r.title }), box]));
    } else {
      kids.push(el('p', { 'class': 'ec-label', text: r.title }));
    }
    kids.push(el('p', { id: 'ec-desc-' + id, text: r.description }));
    kids.push(information(r));
    if (!choosable(r)) kids.push(el('p', { 'class': 'ec-note', text: fill(w['client.alwaysActive'], { basis: w['basis.' + r.lawfulBasis] }) }));
    else if (gpcOff) kids.push(el('p', { 'class': 'ec-note', text: w['client.gpcOff'] }));
    else if (objectable) kids.push(el('p', { id: 'ec-basis-' + id, 'class': 'ec-note', text: w['client.objection'] }));
    if (r.url) kids.push(el('a', { href: r.url, text: fill(w['link.more'], { title: fill(w.quote, { text: r.title }) }) }));
    var li = el('li', { 'class': 'ec-item' }, kids);
    if (r.locale !== wordsLocale) li.setAttribute('lang', r.locale);
    return li;
  }

  // What the person is told (GDPR Art. 13): only the fields the text gives.
  function information(r) {
    var items = [];
    var add = function (key, value) {
      if (value === null || value === undefined) return;
      var shown = Array.isArray(value) ? value.join(', ') : typeof value === 'object' ? value.name + (value.contact ? ' (' + value.contact + ')' : '') : value;
      items.push(el('dt', { text: w['info.' + key] }), el('dd', { text: shown }));
    };
    ['controller', 'purposes', 'dataCategories', 'recipients', 'retention', 'transfers'].forEach(function (k) { add(k, r[k]); });
    return items.length ? el('dl', { 'class': 'ec-info' }, items) : null;
  }

  function open(from) {
    if (!requirements.length) return;
    close();
    opener = from || d.activeElement;
    var shown = dialog = el('dialog', { 'class': 'ec-dialog', 'aria-labelledby': 'ec-dialog-title', lang: wordsLocale }, [
      el('h2', { id: 'ec-dialog-title', 'class': 'ec-title', text: w['client.dialogTitle'] }),
      el('p', { text: w['client.dialogText'] }),
      gpcNote(true),
      el('ul', { 'class': 'ec-list' }, requirements.map(item)),
      el('div', { 'class': 'ec-actions' }, [button(w['client.acceptAll'], 'accept'), button(w['client.rejectAll'], 'reject'), button(w['client.save'], 'save')]),
      el('button', { type: 'button', 'class': 'ec-close', 'data-ec': 'close', 'aria-label': w['client.close'], text: '\u00d7' }),
    ]);
    // The close event comes a frame later: by then a new dialog may be open, which it must leave alone.
    dialog.addEventListener('close', function () { if (dialog === shown) forget(); });
    dialog.addEventListener('keydown', trap);
    d.body.appendChild(dialog);
    if (dialog.showModal) dialog.showModal(); else dialog.setAttribute('open', '');
    var first = dialog.querySelector('input,button');
    if (first) first.focus();
  }
  function forget() {
    if (!dialog) return;
    var back = opener;
    dialog.remove();
    dialog = null;
    opener = null;
    if (back && back.isConnected && back.focus) back.focus();
    else if (banner) banner.querySelector('button').focus();
  }
  function close() { if (dialog && dialog.open && dialog.close) dialog.close(); forget(); }
  function trap(e) {
    if (e.key === 'Escape') { e.preventDefault(); close(); return; }
    if (e.key !== 'Tab') return;
    var all = dialog.querySelectorAll('a[href],button,input');
    var first = all[0], last = all[all.length - 1];
    if (e.shiftKey && d.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && d.activeElement === last) { e.preventDefault(); first.focus(); }
  }

  d.addEventListener('click', function (e) {
    var t = e.target.closest ? e.target.closest('[data-ec],[data-consent-open]') : null;
    if (!t) return;
    if (t.hasAttribute('data-consent-open')) { e.preventDefault(); open(t); return; }
    var a = t.getAttribute('data-ec');
    var inBanner = !!banner && banner.contains(t);
    if (a === 'accept') acceptAll(inBanner);
    else if (a === 'reject') rejectAll(inBanner);
    else if (a === 'save') saveChoices();
    else if (a === 'choose') open(t);
    else if (a === 'close') close();
  });

  function load() {
    // The page's language as a tag the API takes ("en_US" written as "en-US"): the script's
    // data-lang, else the page's lang. One that is still not a tag is passed over, and with none
    // left the browser's Accept-Language decides, since the API refuses it.
    var lang = [me.getAttribute('data-lang'), d.documentElement.lang].map(function (l) {
      return (l || '').trim().replace(/_/g, '-');
    }).filter(function (l) { return l.length <= 35 && /${LOCALE_TAG.source}/.test(l); })[0];
    var query = lang ? '?lang=' + encodeURIComponent(lang) : '';
    return Promise.all([api('GET', '/requirements' + query), api('GET', '/me')]).then(function (r) {
      known = r[0].requirements;
      requirements = known.filter(function (x) { return asked(x.id); });
      wordsLocale = pick(r[0].locale);
      w = WORDS[wordsLocale];
      states = r[1].states;
      live();
      veil();
      apply(r[1], 'load');
      if (unanswered().length) showBanner(); else hide();
    }, function () { /* no subject and no visitors: nothing to ask, nothing to run */ });
  }

  // The site's other tabs hear of a save and read the state again (a later click there acts on
  // what was stored, not on what they showed), as does a page back from the back/forward cache.
  var tabs = window.BroadcastChannel ? new BroadcastChannel('express-consent ' + base) : null;
  if (tabs) tabs.onmessage = function () { if (!saving) load(); };
  window.addEventListener('pageshow', function (e) { if (e.persisted) load(); });

  d.head.appendChild(el('link', { rel: 'stylesheet', href: base + '/client.css' }));
  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', load); else load();
})();
`.replace('  __GATING__\n', () => CLIENT_GATING).replace('  __ROOM__\n', () => CLIENT_ROOM)
  // Comments of whole lines are for this file's readers, not for every page load.
  .replace(/^[ \t]*\/\/.*\n/gm, '');
