import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Constant-time equality for secrets of any length (compares fixed-size digests). */
export function secretsEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** The credential of `Authorization: <scheme> <credential>`, or undefined. */
export function credential(request: FastifyRequest, scheme: string): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== scheme.toLowerCase()) return undefined;
  const value = header.slice(space + 1).trim();
  return value === '' ? undefined : value;
}

/** Builds the API-key check for the program's backend routes (`Authorization: Bearer <API_KEY>`). */
export function apiKeyAuth(apiKey: string) {
  return async (request: FastifyRequest): Promise<void> => {
    const given = credential(request, 'Bearer');
    if (given === undefined || !secretsEqual(given, apiKey)) {
      throw new ApiError('UNAUTHORIZED', 'Send the API key as "Authorization: Bearer <API_KEY>"');
    }
  };
}
