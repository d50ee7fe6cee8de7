import type { Express } from 'express';
import { html } from '../html';
import { page } from '../layout';

/** The home page and the two legal pages the requirements link to. */
export function staticPages(app: Express): void {
  app.get('/', (req, res) => {
    res.send(
      page(req, 'Welcome', html`
        <h1>Bookshelf</h1>
        <p>A small reading-list service that shows how <strong>express-consent</strong> asks,
          records and enforces what people agree to.</p>
        <ul>
          <li><a href="/sign-up">Sign up</a>: the terms are required, the newsletter is optional.</li>
          <li><a href="/preferences">Privacy preferences</a>: every question, your answer, your history.</li>
          <li><a href="/insights">Reading insights</a>: only with your consent to usage analytics.</li>
          <li><a href="/offers">Partner offers</a>: a feature module that brings its own question.</li>
          <li><a href="/dev/mailbox">Development mailbox</a>: the confirmation emails of the weekly digest (double opt-in).</li>
          <li><a href="/consent/admin/console/">Consent console</a>: for staff, with the administrator password printed at start
            (<a href="/staff/find">find a person by email</a>).</li>
        </ul>
        ${req.session.userId ? null : html`
        <section aria-labelledby="before-sign-in">
          <h2 id="before-sign-in">Before you sign in</h2>
          <p>You can answer before you have an account: your choices are kept with a cookie in this
            browser and carried into your account when you sign up or sign in (unless you already
            answered there later). Your history then shows them as your choices before you signed in.</p>
          <p><button type="button" data-consent-open>Privacy choices</button></p>
        </section>`}`, { consentClient: !req.session.userId }),
    );
  });

  app.get('/legal/terms', (req, res) => {
    res.send(
      page(req, 'Terms of service', html`
        <h1>Terms of service</h1>
        <p>Bookshelf keeps your reading list for you. Be kind, keep your password to yourself, and
          close your account whenever you like. This is an example service: nothing here is binding.</p>`),
    );
  });

  app.get('/legal/privacy', (req, res) => {
    res.send(
      page(req, 'Privacy notice', html`
        <h1>Privacy notice</h1>
        <h2 id="newsletter">Newsletter</h2>
        <p>With your consent we email you once a month. Withdraw it on your preferences page.</p>
        <h2 id="digest">Weekly reading digest</h2>
        <p>With your consent, confirmed through a link we email you, we send you a summary of your reading every Monday.</p>
        <h2 id="analytics">Usage analytics</h2>
        <p>With your consent we count the pages you open, for one year at most, and show you the counts.</p>
        <h2 id="partners">Partner offers</h2>
        <p>With your consent we pass your email address to our bookshop partner.</p>`),
    );
  });
}
