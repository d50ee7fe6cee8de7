import type { TokenPreview, UsedLink } from '../core/confirm';
import { html, type SafeHtml } from '../pages/html';
import type { PageContent } from '../pages/document';
import { timeElement } from '../pages/time';
import type { Requirement } from '../types';

const quoted = (requirement: Requirement) => html`“${requirement.title}”`;

function about(requirement: Requirement): SafeHtml {
  return html`<h2>${requirement.title}</h2>
<p>${requirement.description}</p>
${requirement.url ? html`<p><a href="${requirement.url}">More about ${quoted(requirement)}</a></p>` : null}`;
}

/**
 * What a confirmation link shows: the requirement and a button. Only the button's POST (to
 * `action`, the page's own path) confirms; opening the page changes nothing.
 */
export function previewPage(preview: TokenPreview, action: string): PageContent {
  const { requirement, expiresAt } = preview;
  return {
    title: `Confirm: ${requirement.title}`,
    narrow: true,
    body: html`<h1>Please confirm your consent</h1>
<p>You asked to give your consent to the following. It takes effect once you confirm.</p>
${about(requirement)}
<form method="post" action="${action}">
<p><button type="submit">Confirm my consent</button></p>
</form>
<p class="ec-note">This link works until ${timeElement(expiresAt, 'long')}. If you did not ask for this, close this page: nothing changes unless you confirm.</p>`,
  };
}

/** The answer to the confirmation form. */
export function confirmedPage(requirement: Requirement): PageContent {
  return {
    title: 'Consent confirmed',
    narrow: true,
    body: html`<h1>Thank you, your consent is confirmed</h1>
<p class="ec-status" role="status">Your consent to ${quoted(requirement)} is now in effect.</p>
<p>You can change your mind at any time in your privacy settings.</p>`,
  };
}

/** A link opened again after its confirmation went through. */
export function alreadyConfirmedPage(used: UsedLink): PageContent {
  const list = used.requirements.map((r) => html`<li>${r.title}</li>`);
  return {
    title: 'Already confirmed',
    narrow: true,
    body: html`<h1>You have already confirmed</h1>
<p class="ec-status" role="status">Your confirmation went through: there is nothing more to do.</p>
<p>Your consent is in effect for:</p>
<ul>${list}</ul>
<p>You can change your mind at any time in your privacy settings.</p>`,
  };
}

const FAILURES: Record<string, { title: string; text: string }> = {
  token_invalid: {
    title: 'This link no longer works',
    text: 'It may have been replaced by a newer email, or the request was withdrawn. If you still want to give your consent, ask again on the site and use the link in the newest email.',
  },
  token_expired: {
    title: 'This link has expired',
    text: 'Confirmation links work for a limited time. To give your consent, ask again on the site: we will send you a new link.',
  },
  version_mismatch: {
    title: 'The text has changed since we sent this link',
    text: 'Please read the current text on the site and answer again: we will send you a new link if you agree.',
  },
  store_unavailable: {
    title: 'We cannot check this link right now',
    text: 'Our records are unavailable for a moment. Please open the link again in a few minutes.',
  },
};

/** A link that cannot be used: what happened and what the person can do, in plain words. */
export function failedPage(code: string): PageContent {
  const failure = FAILURES[code] ?? { title: 'This link cannot be used', text: 'Please check that you opened the whole link from the email, or ask again on the site.' };
  return { title: failure.title, narrow: true, body: html`<h1>${failure.title}</h1>\n<p class="ec-alert" role="alert">${failure.text}</p>` };
}
