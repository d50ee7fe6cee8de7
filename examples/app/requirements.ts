import type { RequirementDefinition } from '../../lib/index';

/** What the example app itself asks people (an extension adds its own, see extensions/). */
export const appRequirements: RequirementDefinition[] = [
  {
    id: 'terms',
    version: 1,
    title: 'Terms of service',
    description: 'You accept the terms under which we provide your account. We cannot open an account without them.',
    url: '/legal/terms',
    lawfulBasis: 'contract',
    mandatory: true,
  },
  {
    id: 'newsletter',
    version: 1,
    title: 'Monthly newsletter',
    description: 'We send you one email a month about new features. You can stop it at any time.',
    url: '/legal/privacy#newsletter',
  },
  {
    id: 'digest',
    version: 1,
    title: 'Weekly reading digest',
    description: 'Every Monday we email you a summary of what you read. We first send you a link: the digest starts once you confirm your address.',
    url: '/legal/privacy#digest',
    doubleOptIn: true,
  },
  {
    id: 'analytics',
    version: 1,
    title: 'Usage analytics',
    description: 'We record which pages you open to improve the product and show you your own reading statistics.',
    url: '/legal/privacy#analytics',
    expiresAfterDays: 365,
  },
];
