import type { ConsentEngine } from '../core/engine';
import { ConsentError } from '../errors';
import type { Requirement } from '../types';
import { escapeHtml } from './escape-html';
import { isGranting } from './form-values';
import type { ReadyGate } from './ready-gate';

/** Options of `formFields()`. */
export interface FormFieldsOptions {
  /** Values to pre-check, e.g. `req.body.consent` when re-rendering a refused form. */
  values?: Record<string, unknown>;
  /** Text of the fieldset's legend. @default 'Your consent' */
  legend?: string;
  /** Text of each "learn more" link; the requirement's title is added for screen readers. @default 'Learn more' */
  linkText?: string;
}

function parseFormOptions(options: unknown): Required<Omit<FormFieldsOptions, 'values'>> & Pick<FormFieldsOptions, 'values'> {
  if (options === undefined) return { legend: 'Your consent', linkText: 'Learn more' };
  if (options === null || typeof options !== 'object') throw new ConsentError('invalid_argument', 'formFields options must be an object');
  for (const key of Object.keys(options)) {
    if (!['values', 'legend', 'linkText'].includes(key)) {
      throw new ConsentError('invalid_argument', `formFields has no option "${key}" (values, legend, linkText)`);
    }
  }
  const { values, legend = 'Your consent', linkText = 'Learn more' } = options as FormFieldsOptions;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers pass what the types forbid
  if (values !== undefined && (values === null || typeof values !== 'object')) {
    throw new ConsentError('invalid_argument', 'formFields: "values" must be an object of id → value');
  }
  if (typeof legend !== 'string' || typeof linkText !== 'string') {
    throw new ConsentError('invalid_argument', 'formFields: "legend" and "linkText" must be strings');
  }
  return { values, legend, linkText };
}

function field(requirement: Requirement, checked: boolean, linkText: string): string {
  const key = `consent-${requirement.id}`;
  const link = requirement.url
    ? ` <a href="${escapeHtml(requirement.url)}">${escapeHtml(linkText)}<span class="consent-sr-only"> about ${escapeHtml(requirement.title)}</span></a>`
    : '';
  return [
    `<div class="consent-field">`,
    `<input type="checkbox" id="${key}" name="consent[${requirement.id}]" value="granted" aria-describedby="${key}-description"` +
      `${checked ? ' checked' : ''}${requirement.mandatory ? ' required' : ''}>`,
    `<label for="${key}">${escapeHtml(requirement.title)}</label>`,
    `<p id="${key}-description">${escapeHtml(requirement.description)}${link}</p>`,
    `</div>`,
  ].join('\n');
}

/**
 * `formFields(ids, options)`: the checkboxes of a form, as escaped, accessible HTML — one
 * fieldset with a legend; per requirement a checkbox `consent[<id>]` (value `granted`,
 * `required` when mandatory) with its label, its description and a link to learn more.
 */
export function renderFormFields(engine: ConsentEngine, gate: ReadyGate, input: unknown, options?: unknown): string {
  const ids = gate.ids(input, 'formFields');
  const { values, legend, linkText } = parseFormOptions(options);
  const fields = ids.map((id) => {
    const requirement = engine.registry.require(id);
    const value = values && Object.hasOwn(values, id) ? values[id] : undefined;
    return field(requirement, isGranting(value), linkText);
  });
  return [`<fieldset class="consent-fields">`, `<legend>${escapeHtml(legend)}</legend>`, ...fields, `</fieldset>`].join('\n');
}
