import { Ajv, type AnySchema, type Options, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyServerOptions } from 'fastify';
import { buildSerializer } from './serialization.js';

const base: Options = { allErrors: true, useDefaults: true, removeAdditional: false, strict: false, coerceTypes: false };

function createAjv(options: Options, sharedSchemas: Record<string, unknown>): Ajv {
  const ajv = new Ajv({ ...base, ...options });
  (addFormats as unknown as (ajv: Ajv) => void)(ajv);
  for (const schema of Object.values(sharedSchemas)) ajv.addSchema(schema as AnySchema);
  return ajv;
}

type ValidatorCompiler = (route: { schema: unknown; httpPart?: string }) => ValidateFunction;
const compilers = new Map<string, ValidatorCompiler>();

/**
 * Query strings, params and headers arrive as text, so their values are coerced to the schema's
 * types; JSON bodies are not: `"5"` where an integer is expected is an error, not a guess, and an
 * unknown field is an error rather than silently dropped.
 *
 * Given as a compilers factory (not `setValidatorCompiler`) because Fastify rebuilds the compiler
 * for every plugin that adds shared schemas, and would otherwise fall back to its lenient default.
 */
export const schemaCompilers: NonNullable<FastifyServerOptions['schemaController']> = {
  compilersFactory: {
    buildValidator: ((sharedSchemas: Record<string, unknown>) => {
      // Fastify asks again for every route of a plugin that added shared schemas; building Ajv
      // anew each time (formats, meta-schema, every shared schema) made startup seconds slower.
      // Fastify's default builder pools its compilers by shared schemas the same way.
      const key = JSON.stringify(sharedSchemas);
      let compiler = compilers.get(key);
      if (!compiler) {
        const strict = createAjv({}, sharedSchemas);
        const coercing = createAjv({ coerceTypes: 'array' }, sharedSchemas);
        compiler = ({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema as AnySchema);
        compilers.set(key, compiler);
      }
      return compiler;
    }) as unknown as NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator'],
    // Responses: Fastify's serializer, on a copy of each schema that it serializes faster (serialization.ts).
    buildSerializer: buildSerializer as unknown as NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildSerializer'],
  },
};
