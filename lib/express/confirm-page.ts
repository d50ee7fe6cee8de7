import type { TokenPreview } from '../core/confirm';
import type { Requirement } from '../types';
import { escapeHtml } from './escape-html';

/** The pages carry no script, style or image: nothing to load, nothing to leak. */
export const PAGE_CSP = "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

function page(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title)}</title>`,
    '</head>',
    `<body><main>${body}</main></body>`,
    '</html>',
  ].join('\n');
}

function about(requirement: Requirement): string {
  const link = requirement.url ? `<p><a href="${escapeHtml(requirement.url)}">More about “${escapeHtml(requirement.title)}”</a></p>` : '';
  return `<h2>${escapeHtml(requirement.title)}</h2>\n<p>${escapeHtml(requirement.description)}</p>\n${link}`;
}

/**
 * What a confirmation link shows: the requirement and a button. Only the button's POST (to
 * `action`, the page's own path) confirms; opening the page changes nothing.
 */
export function previewPage(preview: TokenPreview, action: string): string {
  const { requirement, expiresAt } = preview;
  return page(`Confirm: ${requirement.title}`, [
    '<h1>Please confirm your consent</h1>',
    '<p>You asked to give your consent to the following. It takes effect only once you confirm.</p>',
    about(requirement),
    `<p>This link can be used until <time datetime="${escapeHtml(expiresAt)}">${escapeHtml(expiresAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}</time>.</p>`,
    `<form method="post" action="${escapeHtml(action)}">`,
    `<button type="submit">Confirm my consent to “${escapeHtml(requirement.title)}”</button>`,
    '</form>',
    '<p>If you did not ask for this, close this page: nothing changes unless you confirm.</p>',
  ].join('\n'));
}

/** The answer to the confirmation form. */
export function confirmedPage(requirement: Requirement): string {
  return page('Consent confirmed', `<h1>Thank you</h1>\n<p role="status">Your consent to “${escapeHtml(requirement.title)}” is confirmed.</p>`);
}

/** A link that cannot be used (unknown, used, expired, for an old text). */
export function problemPage(status: number, message: string): string {
  return page('This link cannot be used', `<h1>This link cannot be used</h1>\n<p role="alert">${escapeHtml(message)}</p>\n<p>Status ${String(status)}.</p>`);
}
