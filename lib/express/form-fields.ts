import type { ConsentEngine } from '../core/engine';
import { ConsentError } from '../errors';
import type { Requirement } from '../types';
import { html, type SafeHtml } from '../pages/html';
import type { Catalog, Messages } from '../i18n/catalog';
import { localeOf, textIn } from '../i18n/localize';
import { isLocaleTag, lookup } from '../i18n/negotiate';
import { informationList, langMark, withTitle } from '../pages/information';
import { isGranting, submittedValue } from './form-values';
import type { ReadyGate } from './ready-gate';

/** Options of `formFields()`. */
export interface FormFieldsOptions {
  /**
   * Values to pre-check when re-rendering a refused form: the body (`req.body`, with nested or
   * flat `consent[<id>]` keys, as `collect()` reads it) or `req.body.consent`.
   */
  values?: Record<string, unknown> | undefined;
  /** Text of the fieldset's legend. @default 'Your consent' */
  legend?: string | undefined;
  /** Text of each "learn more" link; the requirement's title is added for screen readers. @default 'Learn more' */
  linkText?: string | undefined;
  /**
   * The label of a checkbox, by id: a statement the person makes by ticking it ("I accept the
   * terms of service"). @default the requirement's title
   */
  labels?: Record<string, string> | undefined;
  /**
   * A message by id, shown next to its checkbox after a refused form: the checkbox gets
   * `aria-invalid="true"` and is described by the message (id `consent-<id>-error`).
   */
  errors?: Record<string, string> | undefined;
  /**
   * The language of the page the fields go into (a tag such as `de`): the requirements' texts
   * and the library's words are shown in it when they have it (else in their default). The
   * form should send it back (a hidden field, or `collect({ locale })`) so the decision records
   * the text shown. @default each requirement's default locale, the library's words in English
   */
  locale?: string | undefined;
}

/**
 * The options read. `lang`: the language of the library's words (English when the catalog lacks
 * `locale`); `page`: the page's, `locale` (else taken to be the words'); `own`: which of the
 * legend and link text the host gave (in the page's language).
 */
type ParsedFormOptions = Required<Pick<FormFieldsOptions, 'legend' | 'linkText' | 'labels' | 'errors'>> &
  Pick<FormFieldsOptions, 'values' | 'locale'> & { words: Messages; lang: string; page: string; own: { legend: boolean; linkText: boolean } };

const FORM_KEYS = ['values', 'legend', 'linkText', 'labels', 'errors', 'locale'];

function textsById(value: unknown, name: string): Record<string, string> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new ConsentError('invalid_argument', `formFields: "${name}" must be an object of id → string`);
  }
  return value as Record<string, string>;
}

function parseFormOptions(options: unknown, catalog: Catalog): ParsedFormOptions {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object') throw new ConsentError('invalid_argument', 'formFields options must be an object');
  for (const key of Object.keys(options)) {
    if (!FORM_KEYS.includes(key)) {
      throw new ConsentError('invalid_argument', `formFields has no option "${key}" (${FORM_KEYS.join(', ')})`);
    }
  }
  const { locale } = options as FormFieldsOptions;
  if (locale !== undefined && !isLocaleTag(locale)) throw new ConsentError('invalid_argument', 'formFields: "locale" must be a language tag such as "de"');
  const matched = lookup(locale === undefined ? [] : [locale], catalog.locales);
  const words = catalog.words(matched ?? 'en');
  // Words found for the page's language (`de` for `de-AT`) count as in it; else they are English.
  const lang = matched === null ? 'en' : (locale as string);
  const { values, legend = words['form.legend'], linkText = words['form.learnMore'], labels, errors } = options as FormFieldsOptions;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (values !== undefined && (values === null || typeof values !== 'object')) {
    throw new ConsentError('invalid_argument', 'formFields: "values" must be an object of id → value');
  }
  if (typeof legend !== 'string' || typeof linkText !== 'string') {
    throw new ConsentError('invalid_argument', 'formFields: "legend" and "linkText" must be strings');
  }
  const own = { legend: (options as FormFieldsOptions).legend !== undefined, linkText: (options as FormFieldsOptions).linkText !== undefined };
  return { values, legend, linkText, labels: textsById(labels, 'labels'), errors: textsById(errors, 'errors'), locale, words, lang, page: locale ?? lang, own };
}

/** `text` (in language `inner`), in a span that says so inside an element in `outer` when they differ. */
function inLanguage(text: string, inner: string, outer: string): SafeHtml | string {
  const mark = langMark(inner, outer);
  return mark === null ? text : html`<span${mark}>${text}</span>`;
}

const own = (texts: Record<string, string>, id: string): string | undefined => (Object.hasOwn(texts, id) ? texts[id] : undefined);

function field(requirement: Requirement, checked: boolean, options: ParsedFormOptions): SafeHtml {
  const key = `consent-${requirement.id}`;
  const error = own(options.errors, requirement.id);
  const locale = localeOf(requirement, options.locale === undefined ? [] : [options.locale]);
  const text = textIn(requirement, locale);
  const { words } = options;
  const hostLabel = own(options.labels, requirement.id);
  // Inside the field (in the text's language), what is in another one says so: the library's
  // words, and what the host gave in the page's language (a label, an error, the link text).
  const { lang, page } = options;
  const fieldMark = langMark(locale, page);
  // The language inside the field: the text's, or the page's when the text is in it (or its variant's).
  const inside = fieldMark === null ? page : locale;
  const wordsMark = langMark(lang, inside);
  const linkLang = options.own.linkText ? page : lang;
  const link = text.url
    ? html` <a href="${text.url}"${langMark(linkLang, inside)}>${options.linkText}<span class="consent-sr-only"${langMark(lang, linkLang)}>${withTitle(words['form.about'], text.title, langMark(locale, lang))}</span></a>`
    : null;
  // Required and optional are said in words, not shown by a colour or an asterisk alone.
  const need = requirement.mandatory ? words['form.required'] : words['form.optional'];
  return html`<div class="consent-field"${fieldMark}>
<input type="checkbox" id="${key}" name="consent[${requirement.id}]" value="granted" aria-describedby="${error ? `${key}-error ` : ''}${key}-description"${error ? html` aria-invalid="true"` : null}${checked ? html` checked` : null}${requirement.mandatory ? html` required` : null}>
<label for="${key}">${hostLabel === undefined ? text.title : inLanguage(hostLabel, page, inside)} <span class="consent-need"${wordsMark}>(${need})</span></label>
${error ? html`<p class="consent-error" id="${key}-error"${langMark(page, inside)}>${error}</p>
` : null}<p id="${key}-description">${text.description}${link}</p>
${informationList(text, words, wordsMark)}</div>`;
}

/**
 * `formFields(ids, options)`: the checkboxes of a form, as escaped, accessible HTML — one
 * fieldset with a legend; per requirement a checkbox `consent[<id>]` (value `granted`,
 * `required` when mandatory) with its label (marked required or optional in words), an error
 * message when given, its description and a link to learn more.
 */
export function renderFormFields(engine: ConsentEngine, gate: ReadyGate, input: unknown, options?: unknown): string {
  const ids = gate.ids(input, 'formFields');
  const parsed = parseFormOptions(options, engine.options.messages);
  const { values } = parsed;
  // A request body (its own fields beside `consent`) is read only through its consent keys:
  // a host field named like a requirement never ticks a box.
  const fromBody = values !== undefined && Object.keys(values).some((key) => key === 'consent' || key.startsWith('consent['));
  const fields = ids.map((id) => {
    const requirement = engine.registry.require(id);
    const value = values === undefined ? undefined : fromBody ? submittedValue(values, id) : Object.hasOwn(values, id) ? values[id] : undefined;
    return field(requirement, isGranting(value), parsed);
  });
  return html`<fieldset class="consent-fields">
<legend${parsed.own.legend ? null : langMark(parsed.lang, parsed.page)}>${parsed.legend}</legend>
${fields.map((f) => html`${f}
`)}</fieldset>`.value;
}
