import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.js';

/** Fastify's own request errors, mapped to our stable codes. */
function fromFastify(error: FastifyError): ApiError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError('PAYLOAD_TOO_LARGE', 'The request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(
        'UNSUPPORTED_MEDIA_TYPE',
        'Send the body as Content-Type: application/json',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiError('MALFORMED_JSON', 'The body is empty: send a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ApiError('MALFORMED_JSON', 'The body is not valid JSON');
  }
  if (error instanceof SyntaxError || error.statusCode === 400) {
    return new ApiError('MALFORMED_JSON', 'The body is not valid JSON');
  }
  return undefined;
}

/**
 * Errors Fastify's router raises before any route or error handler is chosen (Fastify's
 * `frameworkErrors` option): a path that is not valid percent-encoding, or a path parameter
 * longer than the router allows. Without this they are answered in Fastify's own shape.
 */
export function frameworkErrors(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
) {
  const known =
    error.code === 'FST_ERR_BAD_URL'
      ? new ApiError('INVALID_REQUEST', 'The URL path is not valid percent-encoded UTF-8')
      : error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new ApiError('INVALID_REQUEST', 'A path parameter is too long')
        : undefined;
  if (known) return reply.status(known.status).send(known.toJSON());
  return reply
    .status(500)
    .send({ code: 'INTERNAL_ERROR', message: 'Something went wrong on our side; try again' });
}

/**
 * The one error handler: known errors become `{ code, message, field? }` with their status;
 * anything else is logged and answered with a generic 500 that leaks no internals.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // Schema violations arrive here as the ApiError built by validation.ts.
    const known = error instanceof ApiError ? error : fromFastify(error);
    if (known) {
      return reply.status(known.status).headers(known.headers).send(known.toJSON());
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply
      .status(500)
      .send({ code: 'INTERNAL_ERROR', message: 'Something went wrong on our side; try again' });
  });

  app.setNotFoundHandler((request, reply) => {
    const error = new ApiError(
      'ROUTE_NOT_FOUND',
      `No route ${request.method} ${request.url.split('?')[0]}`,
    );
    return reply.status(error.status).send(error.toJSON());
  });
}
