import type { Request } from 'express';
import { html, trusted, type SafeHtml } from '../html';
import { page } from '../layout';

/** Problems to show on a form: a message per field name, or for the whole form. */
export interface FormErrors {
  email?: string;
  password?: string;
  consent?: string;
  form?: string;
}

/** Where each message's link leads: the field to correct. */
const FIELD_OF: Record<keyof FormErrors, string | null> = { email: 'email', password: 'password', consent: 'consent-terms', form: null };

/**
 * The error summary: focused when the page opens (also without script), each message a link to
 * its field.
 */
function summary(errors: FormErrors): SafeHtml | null {
  const entries = (Object.entries(errors) as Array<[keyof FormErrors, string | undefined]>).filter(([, m]) => Boolean(m));
  if (entries.length === 0) return null;
  return html`
    <div class="errors" role="alert" tabindex="-1" id="error-summary" autofocus aria-labelledby="error-summary-title">
      <h2 id="error-summary-title">Please correct the following</h2>
      <ul>${entries.map(([name, m]) => {
        const target = FIELD_OF[name];
        return html`<li>${target ? html`<a href="#${target}">${m}</a>` : m}</li>`;
      })}</ul>
    </div>`;
}

function field(name: 'email' | 'password', label: string, errors: FormErrors, attrs: SafeHtml, value = ''): SafeHtml {
  const error = errors[name];
  return html`
    <p class="field">
      <label for="${name}">${label}</label>
      ${error ? html`<span class="error" id="${name}-error">${error}</span>` : null}
      <input id="${name}" name="${name}" value="${value}" ${attrs}
        ${error ? html`aria-invalid="true" aria-describedby="${name}-error"` : null}>
    </p>`;
}

/** The sign-up page; `consentFields` is the escaped markup of `consent.formFields()`. */
export function signUpPage(req: Request, consentFields: string, errors: FormErrors = {}, email = '', agreed: readonly string[] = []): string {
  return page(req, 'Sign up', html`
    <h1>Create your account</h1>
    ${summary(errors)}
    <form method="post" action="/sign-up">
      <input type="hidden" name="_csrf" value="${req.session.csrf}">
      ${field('email', 'Email address', errors, html`type="email" autocomplete="email" required maxlength="254"`, email)}
      ${field('password', 'Password (at least 8 characters)', errors, html`type="password" autocomplete="new-password" required minlength="8"`)}
      ${trusted(consentFields)}
      ${agreed.length > 0 ? html`<p class="notice">You already agreed to: ${agreed.join(', ')}. Your account keeps that answer;
        change it at any time on your privacy preferences page.</p>` : null}
      <p><button type="submit">Create account</button></p>
    </form>
    <p>Already have an account? <a href="/sign-in">Sign in</a>.</p>`);
}

/** The sign-in page. */
export function signInPage(req: Request, next: string | null, errors: FormErrors = {}, email = ''): string {
  return page(req, 'Sign in', html`
    <h1>Sign in</h1>
    ${summary(errors)}
    <form method="post" action="/sign-in">
      <input type="hidden" name="_csrf" value="${req.session.csrf}">
      ${next ? html`<input type="hidden" name="next" value="${next}">` : null}
      ${field('email', 'Email address', errors, html`type="email" autocomplete="email" required`, email)}
      ${field('password', 'Password', errors, html`type="password" autocomplete="current-password" required`)}
      <p><button type="submit">Sign in</button></p>
    </form>
    <p>No account yet? <a href="/sign-up">Sign up</a>.</p>`);
}
