import SerializerSelector from '@fastify/fast-json-stringify-compiler';

type Schema = Record<string | symbol, unknown>;
const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Keywords whose value is a schema, an array of schemas, or a map of schemas. */
const ONE = ['additionalProperties', 'items', 'not', 'if', 'then', 'else', 'contains', 'propertyNames'];
const MANY = ['anyOf', 'oneOf', 'allOf', 'prefixItems'];
const MAP = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];
const STRUCTURE = ['anyOf', 'oneOf', 'allOf', '$ref', 'not', 'if'];

/**
 * The options of a union as one `type` list, when fast-json-stringify can tell them apart by the
 * value's JavaScript type alone: each option has one `type`, no structure of its own to choose by,
 * and at most one option is an object and one an array. Literal unions (`'a' | 'b'`) and nullable
 * fields (`string | null`) are such unions; `Tokens | MfaChallenge` is not.
 */
function asTypeList(options: unknown[]): Schema | undefined {
  if (!options.every((o) => isSchema(o) && typeof o.type === 'string' && !STRUCTURE.some((k) => k in o))) return undefined;
  const typed = options as Array<Schema & { type: string }>;
  const shaped = (type: string) => typed.filter((o) => o.type === type);
  if (shaped('object').length > 1 || shaped('array').length > 1) return undefined;
  const merged: Schema = Object.assign({}, shaped('object')[0], shaped('array')[0]);
  // A date format makes the serializer write Date objects as dates: kept when the string options agree on it.
  const [format, ...others] = new Set(shaped('string').map((o) => o.format));
  if (format !== undefined && others.length === 0) merged.format = format;
  merged.type = [...new Set(typed.map((o) => o.type))];
  return merged;
}

/**
 * A response schema as fast-json-stringify serializes it fastest, writing the same JSON. The
 * serializer checks each `anyOf` option by running Ajv on the value (compiling that validator
 * lazily, on the first response: ~150 ms for the directory's search at the first request), where a
 * `type` list is a `typeof` check. TypeBox writes every nullable field and literal union as
 * `anyOf`, so those become `type` lists. Only the serializer sees this copy: validation and the
 * OpenAPI document keep the schemas as written.
 */
export function forSerialization(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forSerialization);
  if (!isSchema(schema)) return schema;
  const copy: Schema = { ...schema };
  for (const key of ONE) if (isSchema(copy[key])) copy[key] = forSerialization(copy[key]);
  for (const key of MANY) if (Array.isArray(copy[key])) copy[key] = (copy[key] as unknown[]).map(forSerialization);
  for (const key of MAP) {
    if (isSchema(copy[key])) copy[key] = Object.fromEntries(Object.entries(copy[key] as Schema).map(([name, s]) => [name, forSerialization(s)]));
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = copy[key];
    const list = Array.isArray(options) && !('type' in copy) ? asTypeList(options) : undefined;
    if (!list) continue;
    delete copy[key];
    return { ...copy, ...list };
  }
  return copy;
}

type SerializerFactory = (externalSchemas: Record<string, unknown>, options: unknown) => (route: { schema: unknown }) => unknown;
const fastJsonStringify = (SerializerSelector as unknown as () => SerializerFactory)();

/** Fastify's own serializer (fast-json-stringify), given the schemas as forSerialization rewrites them. */
export const buildSerializer: SerializerFactory = (externalSchemas, options) => {
  const compile = fastJsonStringify(
    Object.fromEntries(Object.entries(externalSchemas ?? {}).map(([id, s]) => [id, forSerialization(s)])),
    options,
  );
  return (route) => compile({ ...route, schema: forSerialization(route.schema) });
};
