import Ajv, { type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { ApiError } from './errors.js';

/**
 * Request validation. Bodies are validated strictly (no type coercion, unknown fields are an
 * error, not silently removed); query strings and path parameters are coerced from text.
 */
function ajv(coerceTypes: boolean): Ajv {
  const instance = new Ajv({
    allErrors: false,
    coerceTypes,
    removeAdditional: false,
    useDefaults: false,
    strict: false,
  });
  addFormats(instance);
  return instance;
}

const bodies = ajv(false);
const text = ajv(true);

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  const validate = (httpPart === 'body' ? bodies : text).compile(schema);
  return (data: unknown) =>
    validate(data) ? { value: data } : { error: toApiError(validate.errors ?? [], httpPart) };
};

function fieldPath(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (child !== undefined) parts.push(child);
  return parts.join('.');
}

/** Turns the first schema violation into an error with a stable code that names the field. */
export function toApiError(errors: ErrorObject[], httpPart: string | undefined): ApiError {
  const first = errors[0];
  const where =
    httpPart === 'querystring'
      ? 'query parameter'
      : httpPart === 'params'
        ? 'path parameter'
        : 'field';
  if (!first) return new ApiError('INVALID_REQUEST', 'The request is not valid');
  if (first.keyword === 'additionalProperties') {
    const field = fieldPath(first.instancePath, String(first.params.additionalProperty));
    return new ApiError('UNKNOWN_FIELD', `Unknown ${where} "${field}": remove it`, field);
  }
  if (first.keyword === 'required') {
    const field = fieldPath(first.instancePath, String(first.params.missingProperty));
    return new ApiError('MISSING_FIELD', `Missing required ${where} "${field}"`, field);
  }
  const field = fieldPath(first.instancePath);
  if (field === '') {
    return new ApiError(
      'INVALID_REQUEST',
      `The request ${httpPart ?? 'body'} ${first.message ?? 'is not valid'}`,
    );
  }
  return new ApiError(
    'INVALID_FIELD',
    `The ${where} "${field}" ${first.message ?? 'is not valid'}`,
    field,
  );
}
