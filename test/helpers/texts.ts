import type { RequirementDefinition } from '../../lib/index';

/** The Art. 13 fields shared by every locale of `stats`. */
export const INFO = {
  controller: { name: 'Example GmbH', contact: 'privacy@example.com' },
  purposes: ['Improve the site'],
  retention: '13 months',
};

/** A requirement in three locales with the Art. 13 fields, and a flat English one. */
export const TEXTS_REQUIREMENTS: RequirementDefinition[] = [
  {
    id: 'stats',
    texts: {
      en: { title: 'Statistics', description: 'We count page views.', url: '/privacy' },
      de: { title: 'Statistik', description: 'Wir zählen Seitenaufrufe.', url: '/datenschutz', purposes: ['Die Website verbessern'], retention: '13 Monate' },
      fr: { title: 'Statistiques', description: 'Nous comptons les pages vues.' },
    },
    ...INFO,
  },
  { id: 'letter', title: 'Newsletter', description: 'A monthly e-mail.', doubleOptIn: true },
];

