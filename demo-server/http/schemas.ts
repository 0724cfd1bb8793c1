import { type TSchema, Type } from '@sinclair/typebox';

/** Shared request-schema pieces: ids, pagination, the error body. */
export const IdParam = (prefix: string) =>
  Type.Object(
    { id: Type.String({ pattern: `^${prefix}_[0-9a-z]{26}$`, description: `A ${prefix}_… id` }) },
    { additionalProperties: false },
  );

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  starting_after: Type.Optional(
    Type.String({ maxLength: 64, description: 'The last id of the previous page' }),
  ),
};

/** The page a list route asks the store for: `limit` (default 20) and the cursor. */
export function pageOf(query: { limit?: number; starting_after?: string }) {
  return { limit: query.limit ?? 20, startingAfter: query.starting_after };
}

export const ErrorBody = Type.Object({
  code: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
});

export const StrictObject = <T extends Record<string, TSchema>>(
  properties: T,
  description?: string,
) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });

/** A page of resources; `next_cursor` goes into `starting_after` for the next page. */
export function listResponse<T extends { id: string }, R>(
  page: { data: T[]; hasMore: boolean },
  toResource: (item: T) => R,
) {
  const last = page.data.at(-1);
  return {
    data: page.data.map(toResource),
    has_more: page.hasMore,
    next_cursor: page.hasMore && last !== undefined ? last.id : null,
  };
}
