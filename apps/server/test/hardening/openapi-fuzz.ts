import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';

/** The parts of an OpenAPI document the fuzzer reads. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  pattern?: string;
  $ref?: string;
}

export interface Operation {
  method: string;
  path: string;
  params: Array<{ name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema: JsonSchema }>;
  body?: JsonSchema;
  bodyRequired: boolean;
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
  access: string;
}

export interface FuzzRequest {
  /** Whether the request is valid by construction; an invalid one must never get a 2xx. */
  valid: boolean;
  /** What was done to it, for the failure message. */
  mutation: string;
  pathParams: Record<string, string>;
  query: Record<string, string>;
  body?: unknown;
  rawBody?: string;
}

export function operationsOf(document: any): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters') continue;
      const json = op.requestBody?.content?.['application/json'];
      ops.push({
        method: method.toUpperCase(),
        path,
        params: op.parameters ?? [],
        body: json?.schema,
        bodyRequired: Boolean(op.requestBody?.required),
        responses: op.responses ?? {},
        access: op['x-access'],
      });
    }
  }
  return ops;
}

export function resolver(document: any): (schema: JsonSchema) => JsonSchema {
  const resolve = (schema: JsonSchema): JsonSchema => {
    if (!schema?.$ref) return schema;
    const name = schema.$ref.replace(/^#\/components\/schemas\//, '');
    return resolve(document.components.schemas[name]);
  };
  return resolve;
}

const patternOf = (source: string) => {
  try {
    return new RegExp(source, 'u');
  } catch {
    return new RegExp(source);
  }
};

const NASTY_STRINGS = ['', 'a\u0000b', '\u0000', "' OR '1'='1", '"; DROP TABLE x; --', '../../etc/passwd', '%00', '\u202e\u0041', '𝕃𝕪𝕔𝕖𝕦𝕞', '<script>alert(1)</script>'];

/** Values that satisfy `schema`. */
export function validValue(schema: JsonSchema, resolve: (s: JsonSchema) => JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return fc.oneof(...variants.map((v) => validValue(v, resolve, depth + 1)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string': {
      if (s.format === 'date-time') return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
      if (s.format === 'email') return fc.emailAddress();
      const min = s.minLength ?? 0;
      const max = Math.min(s.maxLength ?? 64, min + 64);
      const fits = (v: string) => [...v].length >= min && [...v].length <= (s.maxLength ?? Infinity);
      // Ids and other patterned values: mostly ones that match, so that requests reach the handlers.
      if (s.pattern) return fc.oneof(fc.stringMatching(patternOf(s.pattern), { size: 'small' }).filter(fits), fc.string({ minLength: min, maxLength: max }));
      const text = fc.string({ minLength: min, maxLength: max, unit: 'grapheme' });
      const nasty = NASTY_STRINGS.filter((v) => [...v].length >= min && [...v].length <= max);
      return nasty.length ? fc.oneof(text, fc.constantFrom(...nasty)) : text;
    }
    case 'integer':
      return fc.integer({ min: s.minimum ?? -1_000_000, max: s.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return depth > 4 ? fc.constant([]) : fc.array(validValue(s.items ?? {}, resolve, depth + 1), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 3, 3) });
    case 'object': {
      const properties = Object.entries(s.properties ?? {});
      const required = new Set(s.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, value] of properties) record[key] = validValue(value, resolve, depth + 1);
      return fc.record(record, { requiredKeys: properties.map(([k]) => k).filter((k) => required.has(k)) });
    }
    default:
      return fc.constant('x');
  }
}

/** A value of the wrong kind for `schema`, or one just outside its bounds; undefined when none exists. */
export function invalidValues(schema: JsonSchema, resolve: (s: JsonSchema) => JsonSchema): Array<{ value: unknown; why: string }> {
  const s = resolve(schema);
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (!types.length || s.anyOf || s.oneOf) return [];
  const out: Array<{ value: unknown; why: string }> = [];
  const notOf = (candidates: Array<[unknown, string]>) => {
    for (const [value, kind] of candidates) {
      if (!types.includes(kind) && !(kind === 'integer' && types.includes('number'))) out.push({ value, why: `a ${kind} where ${types.join('|')} is expected` });
    }
  };
  notOf([
    [12345, 'integer'],
    ['not-a-number', 'string'],
    [true, 'boolean'],
    [null, 'null'],
    [[1, 2], 'array'],
    [{ nested: { deeper: {} } }, 'object'],
  ]);
  if (types.includes('string') && s.maxLength !== undefined) out.push({ value: 'x'.repeat(s.maxLength + 1), why: 'one character over maxLength' });
  if (types.includes('string') && s.minLength) out.push({ value: 'x'.repeat(s.minLength - 1), why: 'one character under minLength' });
  if (types.includes('string') && s.enum) out.push({ value: 'not-one-of-them', why: 'outside the enum' });
  if (types.includes('integer') && s.maximum !== undefined) out.push({ value: s.maximum + 1, why: 'one over maximum' });
  if (types.includes('integer') && s.minimum !== undefined) out.push({ value: s.minimum - 1, why: 'one under minimum' });
  if (types.includes('integer')) out.push({ value: 1.5, why: 'a fraction where an integer is expected' });
  return out;
}

const deepNest = (levels: number): unknown => {
  let value: unknown = 'bottom';
  for (let i = 0; i < levels; i++) value = { deeper: value };
  return value;
};

const textValidator = new Ajv({ coerceTypes: 'array', strict: false });
(addFormats as unknown as (a: Ajv) => void)(textValidator);
const acceptsAsText = (schema: JsonSchema, text: string) => textValidator.validate({ ...schema, $id: undefined }, text);

/** Requests for one operation: valid ones, and ones broken in exactly one way. */
export function requestsFor(op: Operation, resolve: (s: JsonSchema) => JsonSchema): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const paramRecord = (params: Operation['params'], requiredOnly: boolean) =>
    fc.record(
      Object.fromEntries(params.map((p) => [p.name, validValue(p.schema, resolve).map((v) => String(v))])),
      { requiredKeys: params.filter((p) => p.required || requiredOnly).map((p) => p.name) },
    ) as fc.Arbitrary<Record<string, string>>;

  const valid: fc.Arbitrary<FuzzRequest> = fc
    .record({
      pathParams: paramRecord(pathParams, true),
      query: paramRecord(queryParams, false),
      body: op.body ? validValue(op.body, resolve) : fc.constant(undefined),
    })
    .filter((r) => Object.values(r.pathParams).every((v) => v.length > 0))
    .map((r) => ({ ...r, valid: true, mutation: 'none' }));

  const mutations: Array<fc.Arbitrary<(r: FuzzRequest) => FuzzRequest>> = [];
  const declared = op.body ? resolve(op.body) : undefined;
  // An optional body is declared as an object or null: null is then a valid body, and the object is what the mutations break.
  const variants = declared?.anyOf ?? declared?.oneOf;
  const optional = variants?.some((v) => resolve(v).type === 'null') === true;
  const body = optional ? resolve(variants!.find((v) => resolve(v).type !== 'null')!) : declared;
  if (body) {
    if (!optional) mutations.push(fc.constant((r) => ({ ...r, valid: false, mutation: 'null body', body: undefined, rawBody: 'null' })));
    mutations.push(fc.constant((r) => ({ ...r, valid: false, mutation: 'body nested 10,000 deep', body: undefined, rawBody: '['.repeat(10_000) + ']'.repeat(10_000) })));
    mutations.push(fc.constant((r) => ({ ...r, valid: false, mutation: 'truncated JSON', body: undefined, rawBody: '{"a":' })));
    if (body.type === 'object' && body.additionalProperties === false) {
      for (const key of ['__proto__', 'constructor', 'isAdmin', 'role', 'ownerId', 'version', 'id', 'unknownField']) {
        if (body.properties?.[key]) continue;
        const raw = key === '__proto__' ? (r: FuzzRequest) => JSON.stringify(r.body ?? {}).replace(/^\{/, '{"__proto__":{"isAdmin":true},').replace(/,\}$/, '}') : undefined;
        mutations.push(
          fc.constant((r) =>
            raw ? { ...r, valid: false, mutation: 'a __proto__ key', body: undefined, rawBody: raw(r) } : { ...r, valid: false, mutation: `an undeclared "${key}" field`, body: { ...(r.body as object), [key]: { admin: true } } },
          ),
        );
      }
    }
    for (const [key, schema] of Object.entries(body.properties ?? {})) {
      for (const { value, why } of invalidValues(schema, resolve)) {
        mutations.push(fc.constant((r) => ({ ...r, valid: false, mutation: `body.${key}: ${why}`, body: { ...(r.body as object), [key]: value } })));
      }
      mutations.push(fc.constant((r) => ({ ...r, valid: false, mutation: `body.${key}: nested 50 deep`, body: { ...(r.body as object), [key]: deepNest(50) } })));
      if (body.required?.includes(key)) {
        mutations.push(
          fc.constant((r) => {
            const { [key]: _removed, ...rest } = (r.body ?? {}) as Record<string, unknown>;
            return { ...r, valid: false, mutation: `body.${key} missing`, body: rest };
          }),
        );
      }
    }
  }
  for (const p of [...queryParams, ...pathParams]) {
    const where = p.in === 'path' ? 'pathParams' : 'query';
    for (const { value, why } of invalidValues(p.schema, resolve)) {
      // A URL carries only text: `12345` is a fine value for a free-text parameter. Only what the
      // server's own coercing validation refuses is invalid here.
      if (typeof value === 'object' || acceptsAsText(resolve(p.schema), String(value))) continue;
      mutations.push(fc.constant((r) => ({ ...r, valid: false, mutation: `${where}.${p.name}: ${why}`, [where]: { ...r[where], [p.name]: String(value) } })));
    }
  }
  if (!mutations.length) return valid;
  const invalid = fc.tuple(valid, fc.oneof(...mutations)).map(([r, mutate]) => mutate(r));
  return fc.oneof(valid, invalid, invalid);
}

export function urlOf(op: Operation, r: FuzzRequest): string {
  const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(r.pathParams[name] ?? 'x'));
  const query = new URLSearchParams(r.query).toString();
  return query ? `${path}?${query}` : path;
}
