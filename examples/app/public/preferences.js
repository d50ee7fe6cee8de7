// Progressive enhancement of the preference center. Without this script every button posts a
// plain form to /preferences/:id. With it, a decision goes to the mounted JSON API
// (PUT /consent/me/:id, recorded with source "api"), then the page content is refreshed in
// place and focus moves to the confirmation inside the same card, so the page does not jump.
// Any failure falls back to the plain form.
/* global HTMLFormElement, DOMParser, URLSearchParams */
'use strict';

function fallback(form, decision) {
  const input = document.createElement('input');
  input.type = 'hidden';
  input.name = 'decision';
  input.value = decision;
  form.appendChild(input);
  HTMLFormElement.prototype.submit.call(form);
}

async function decide(form, decision) {
  const id = form.closest('[data-requirement]').dataset.requirement;
  const version = Number(form.elements.version.value);
  const response = await fetch('/consent/me/' + encodeURIComponent(id), {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ decision, version }),
    credentials: 'same-origin',
  });
  if (!response.ok) throw new Error('the consent API answered ' + response.status);
  const query = new URLSearchParams({ updated: id });
  if (form.elements.needs) query.set('needs', form.elements.needs.value);
  if (form.elements.next) query.set('next', form.elements.next.value);
  const page = await fetch('/preferences?' + query, { credentials: 'same-origin' });
  if (!page.ok) throw new Error('the preference page answered ' + page.status);
  const fresh = new DOMParser().parseFromString(await page.text(), 'text/html').querySelector('main');
  document.querySelector('main').replaceChildren(...fresh.childNodes);
  document.getElementById('saved-' + id).focus();
}

document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!form.classList.contains('decide') || !event.submitter) return;
  event.preventDefault();
  const decision = event.submitter.value;
  for (const button of form.querySelectorAll('button')) button.disabled = true;
  decide(form, decision).catch(() => fallback(form, decision));
});
