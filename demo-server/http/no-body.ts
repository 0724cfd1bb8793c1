import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/**
 * `preValidation` of a route that takes no body (README “API overview”: unknown fields are refused, never
 * ignored): no body or `{}` passes; anything else is a 400 before the handler runs, so a client
 * that thinks it sent options learns that none apply.
 */
export async function refuseBody(request: FastifyRequest): Promise<void> {
  const body: unknown = request.body;
  if (body === undefined) return;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError('INVALID_REQUEST', 'Send no body, or an empty JSON object');
  }
  const [field] = Object.keys(body);
  if (field !== undefined) {
    throw new ApiError('UNKNOWN_FIELD', `Unknown field "${field}": remove it`, field);
  }
}
