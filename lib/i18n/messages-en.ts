/**
 * Every word the library shows people, in English: the reference every other language is
 * checked against. `{name}` marks a value filled in when the text is used.
 */
export const EN = {
  // Problem titles (`title` of every problem+json answer).
  'problem.invalid_body': 'Invalid request',
  'problem.no_subject': 'No subject',
  'problem.forbidden': 'Forbidden',
  'problem.consent_required': 'Consent required',
  'problem.unknown_requirement': 'Unknown requirement',
  'problem.token_invalid': 'Invalid confirmation token',
  'problem.version_mismatch': 'Version mismatch',
  'problem.token_expired': 'Confirmation token expired',
  'problem.payload_too_large': 'Payload too large',
  'problem.unsupported_media_type': 'Unsupported media type',
  'problem.mandatory_missing': 'Mandatory consent missing',
  'problem.rate_limited': 'Too many requests',
  'problem.internal_error': 'Internal error',
  'problem.store_unavailable': 'Store unavailable',
  // Problem details a person may read.
  'detail.consent_required': 'This needs your consent to: {titles}.',
  'detail.answers_required': 'This needs your answer to: {titles}.',
  'detail.mandatory_missing': 'The form must grant: {titles}.',
  'detail.store_unavailable': 'The consent store is unavailable; try again shortly.',
  'detail.internal_error': 'An unexpected error occurred.',
  // Lawful bases, as a person reads them.
  'basis.consent': 'consent',
  'basis.legitimate_interests': 'legitimate interests',
  'basis.contract': 'a contract',
  'basis.legal_obligation': 'a legal obligation',
  'basis.vital_interests': 'vital interests',
  'basis.public_task': 'a public task',
  // What a person is told (GDPR Art. 13), as labels.
  'info.controller': 'Who asks',
  'info.purposes': 'What for',
  'info.dataCategories': 'Which data',
  'info.recipients': 'Who receives it',
  'info.retention': 'How long it is kept',
  'info.transfers': 'Transfers outside the EU',
  'info.heading': 'Details',
  'link.more': 'More about {title}',
  // Pages.
  'page.home': 'Back to the site',
  'confirm.title': 'Confirm: {title}',
  'confirm.heading': 'Please confirm your consent',
  'confirm.intro': 'You asked to give your consent to the following. It takes effect once you confirm.',
  'confirm.button': 'Confirm my consent',
  'confirm.until': 'This link works until {time}. If you did not ask for this, close this page: nothing changes unless you confirm.',
  'confirmed.title': 'Consent confirmed',
  'confirmed.heading': 'Thank you, your consent is confirmed',
  'confirmed.status': 'Your consent to “{title}” is now in effect.',
  'confirmed.change': 'You can change your mind at any time in your privacy settings.',
  'already.title': 'Already confirmed',
  'already.heading': 'You have already confirmed',
  'already.status': 'Your confirmation went through: there is nothing more to do.',
  'already.list': 'Your consent is in effect for:',
  'failed.token_invalid.title': 'This link no longer works',
  'failed.token_invalid.text': 'It may have been replaced by a newer email, or the request was withdrawn. If you still want to give your consent, ask again on the site and use the link in the newest email.',
  'failed.token_expired.title': 'This link has expired',
  'failed.token_expired.text': 'Confirmation links work for a limited time. To give your consent, ask again on the site: we will send you a new link.',
  'failed.version_mismatch.title': 'The text has changed since we sent this link',
  'failed.version_mismatch.text': 'Please read the current text on the site and answer again: we will send you a new link if you agree.',
  'failed.store_unavailable.title': 'We cannot check this link right now',
  'failed.store_unavailable.text': 'Our records are unavailable for a moment. Please open the link again in a few minutes.',
  'failed.other.title': 'This link cannot be used',
  'failed.other.text': 'Please check that you opened the whole link from the email, or ask again on the site.',
  // Form fields (`formFields()`).
  'form.legend': 'Your consent',
  'form.learnMore': 'Learn more',
  'form.about': ' about {title}',
  'form.required': 'required',
  'form.optional': 'optional',
  // The browser client.
  'client.bannerTitle': 'Your privacy choices',
  'client.bannerText': 'We would like your consent for: {titles}. Nothing of this runs until you agree, and you can change your mind at any time.',
  'client.acceptAll': 'Accept all',
  'client.rejectAll': 'Reject all',
  'client.choose': 'Choose',
  'client.dialogTitle': 'Privacy choices',
  'client.dialogText': 'Choose what you allow. Switches that are off stay off until you turn them on.',
  'client.save': 'Save choices',
  'client.close': 'Close',
  'client.gpcNote': 'Your browser sends a Global Privacy Control signal, so we treat it as a refusal of: {titles}. You can still turn these on yourself under Choose.',
  'client.alwaysActive': 'Always active: needed for {basis}.',
  'client.gpcOff': 'Off because of your browser’s Global Privacy Control signal.',
  // The admin console.
  'console.upcoming': 'Upcoming versions',
  'console.effectiveFrom': 'Current from',
  'console.version': 'Version',
  'console.text': 'Text',
} as const;

/** The keys of the catalog. */
export type MessageKey = keyof typeof EN;

/** A complete set of the library's words in one language. */
export type Messages = Record<MessageKey, string>;
