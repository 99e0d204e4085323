/**
 * Request validation for the REST gateway. Two Ajv instances: query strings and path parameters arrive as
 * text, so they are coerced (`limit=10` → 10) and unknown query parameters are dropped; JSON bodies are
 * validated as sent — no coercion (`{"force": "yes"}` is an error, not `true`) and unknown fields are refused,
 * so a misspelt field never silently does nothing. Errors name the field: `body/priority must be equal to one
 * of the allowed values`, `body must NOT have additional properties (forse)`.
 */
import { Ajv, type ErrorObject, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';

// ajv-formats is CommonJS with a default export; under NodeNext its namespace is the function itself.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function ajv(options: Options): Ajv {
  return addFormats(new Ajv({ useDefaults: true, allErrors: false, strict: false, ...options }));
}

const textParts = ajv({ coerceTypes: 'array', removeAdditional: true });
const bodies = ajv({ coerceTypes: false, removeAdditional: false });

/** Fastify validator compiler: bodies strictly, everything else with coercion. */
export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? bodies : textParts).compile(schema as object);

function describe(error: FastifySchemaValidationError | ErrorObject, dataVar: string): string {
  const path = `${dataVar}${error.instancePath}`;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') return `${path}/${String(params.missingProperty)} is required`;
  if (error.keyword === 'additionalProperties') {
    return `${path} must NOT have additional properties (${String(params.additionalProperty)})`;
  }
  return `${path} ${error.message ?? 'is invalid'}`;
}

/** Fastify schema error formatter: one message naming the offending field. */
export function schemaErrorFormatter(errors: FastifySchemaValidationError[], dataVar: string): Error {
  return new Error(errors.map((e) => describe(e, dataVar)).join('; '));
}
