import type { Express } from 'express';
import type { Consent } from '../../../lib/index';
import { html } from '../html';
import { page } from '../layout';
import { signedIn } from '../guards';

/** The requirement this extension brings; its id is namespaced by the extension. */
export const PARTNER_OFFERS = 'partners.offers';

/**
 * A self-contained feature module: it registers its own requirement under its own name
 * through `consent.use()`, and guards its own route with it. The host only installs it.
 */
export function installPartnerOffers(app: Express, consent: Consent): void {
  consent.use({
    name: 'partner-offers',
    requirements: [
      {
        id: PARTNER_OFFERS,
        version: 1,
        title: 'Offers from partners',
        description: 'We share your email address with our bookshop partner so it can send you its own offers.',
        url: '/legal/privacy#partners',
      },
    ],
  });

  app.get('/offers', signedIn, consent.requireConsent(PARTNER_OFFERS, { redirect: `/preferences?needs=${PARTNER_OFFERS}` }), (req, res) => {
    res.send(
      page(req, 'Partner offers', html`
        <h1>Partner offers</h1>
        <p>Because you agreed to hear from our partners, here is this month's offer:
          <strong>10% off any paperback</strong> at the partner bookshop.</p>`),
    );
  });
}
