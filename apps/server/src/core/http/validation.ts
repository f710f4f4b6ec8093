import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';

const base: Options = { allErrors: true, useDefaults: true, removeAdditional: false, strict: false, coerceTypes: false };

function createAjv(options: Options): Ajv {
  const ajv = new Ajv({ ...base, ...options });
  (addFormats as unknown as (ajv: Ajv) => void)(ajv);
  return ajv;
}

/**
 * Query strings, params and headers arrive as text, so their values are coerced to the schema's
 * types; JSON bodies are not: `"5"` where an integer is expected is an error, not a guess.
 */
export function registerValidation(app: FastifyInstance): void {
  const strict = createAjv({});
  const coercing = createAjv({ coerceTypes: 'array' });
  app.setValidatorCompiler(({ schema, httpPart }: { schema: FastifySchema; httpPart?: string }) =>
    (httpPart === 'body' ? strict : coercing).compile(schema as object),
  );
}
