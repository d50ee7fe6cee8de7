/**
 * A checker for the subset of JSON Schema the OpenAPI document uses: type (with null in type
 * arrays), properties, required, additionalProperties, items, enum, pattern, minimum,
 * maximum, minProperties, maxProperties, oneOf and local $ref. Returns problems as pointers.
 */
export function checkSchema(root: Record<string, unknown>, schema: unknown, value: unknown, at = ''): string[] {
  const s = schema as Record<string, unknown>;
  if (typeof s.$ref === 'string') {
    const target = s.$ref.replace(/^#\//, '').split('/').reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], root);
    return checkSchema(root, target, value, at);
  }
  if (Array.isArray(s.oneOf)) {
    const matching = s.oneOf.filter((option) => checkSchema(root, option, value, at).length === 0).length;
    return matching === 1 ? [] : [`${at}: matches ${matching} of oneOf`];
  }
  const types = s.type === undefined ? null : ([] as unknown[]).concat(s.type);
  if (types && !types.some((type) => isType(type as string, value))) return [`${at}: ${JSON.stringify(value)} is not ${types.join('|')}`];
  const problems: string[] = [];
  if (Array.isArray(s.enum) && !s.enum.includes(value)) problems.push(`${at}: ${JSON.stringify(value)} not in enum`);
  if (typeof value === 'string' && typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) problems.push(`${at}: pattern`);
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) problems.push(`${at}: below minimum`);
    if (typeof s.maximum === 'number' && value > s.maximum) problems.push(`${at}: above maximum`);
  }
  if (Array.isArray(value) && s.items) value.forEach((item, i) => problems.push(...checkSchema(root, s.items, item, `${at}/${i}`)));
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) problems.push(...checkObject(root, s, value as Record<string, unknown>, at));
  return problems;
}

function checkObject(root: Record<string, unknown>, s: Record<string, unknown>, value: Record<string, unknown>, at: string): string[] {
  const problems: string[] = [];
  const properties = (s.properties ?? {}) as Record<string, unknown>;
  for (const key of (s.required ?? []) as string[]) if (!(key in value)) problems.push(`${at}/${key}: required`);
  const count = Object.keys(value).length;
  if (typeof s.minProperties === 'number' && count < s.minProperties) problems.push(`${at}: too few properties`);
  if (typeof s.maxProperties === 'number' && count > s.maxProperties) problems.push(`${at}: too many properties`);
  for (const [key, child] of Object.entries(value)) {
    if (key in properties) problems.push(...checkSchema(root, properties[key], child, `${at}/${key}`));
    else if (s.additionalProperties === false) problems.push(`${at}/${key}: not allowed`);
    else if (s.additionalProperties && typeof s.additionalProperties === 'object') problems.push(...checkSchema(root, s.additionalProperties, child, `${at}/${key}`));
  }
  return problems;
}

function isType(type: string, value: unknown): boolean {
  switch (type) {
    case 'null': return value === null;
    case 'integer': return Number.isInteger(value);
    case 'number': return typeof value === 'number';
    case 'array': return Array.isArray(value);
    case 'object': return value !== null && typeof value === 'object' && !Array.isArray(value);
    default: return typeof value === type;
  }
}
