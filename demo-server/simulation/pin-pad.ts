import fs from 'node:fs';
import path from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { CardService } from '../cards/service.js';
import { ApiError } from '../http/errors.js';
import { operation, withExamples } from '../http/openapi.js';
import { StrictObject } from '../http/schemas.js';
import { DIST_DIR, widgetDocumentHeaders } from '../http/widget-assets.js';
import { PinJweError, decryptPinJwe } from '../pins/jwe.js';
import type { TransportKeys } from '../pins/transport-keys.js';
import { type ZonePinKeys, zonePinBlock } from '../pins/zone-pin-blocks.js';

/**
 * The demo terminal's PIN pad (docs/point-of-sale.md, "The demo terminal"): a document served by
 * the platform that the program's page frames, and the translation an acquirer's HSM would do
 * from the pad's encryption to a zone-key PIN block. DEMO_MODE only: a simulated terminal is no
 * part of a production platform.
 */

/** How long an entered PIN may wait before it is translated: a terminal sends it at once. */
export const PIN_PAD_ENTRY_LIFETIME_S = 120;

const CARD_ID = '^card_[0-9a-z]{26}$';

const PadQuery = StrictObject({
  card: Type.String({ pattern: CARD_ID, description: 'The card at the terminal' }),
  origin: Type.String({
    maxLength: 256,
    description: 'The page framing the pad (one of FRAME_ANCESTORS)',
  }),
});

const Format = Type.Union([Type.Literal('ISO_9564_4'), Type.Literal('ISO_9564_0')], {
  description: 'ISO_9564_4: AES under ZONE_PIN_KEY_AES; ISO_9564_0: 3DES under ZONE_PIN_KEY_TDES',
});
const TranslateBody = withExamples(
  StrictObject({
    card_id: Type.String({ minLength: 1, maxLength: 64 }),
    encrypted_pin: Type.String({
      minLength: 1,
      maxLength: 4096,
      description: 'The PIN pad’s compact JWE (ECDH-ES, A256GCM, kid, card, iat) of {"pin"}',
    }),
    format: Format,
  }),
  {
    card_id: 'card_01k2m3n6a7b8c9d0e1f2g3h4j5',
    encrypted_pin:
      'eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTI1NkdDTSIsImtpZCI6InB0azEifQ..cXdlcnR5dWlvcGFz.VGhlIFBJTg.aGVsbG8td29ybGQtdGFn',
    format: 'ISO_9564_4',
  },
);
const TranslatedPinBlock = withExamples(
  Type.Object(
    {
      pin_block: Type.Object(
        { format: Format, block: Type.String({ pattern: '^[0-9A-F]+$' }) },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false, description: 'Goes as is into an authorization’s pin_block' },
  ),
  { pin_block: { format: 'ISO_9564_4', block: '3E9A7C1D5B2F80416CA9E3D7B25F0148' } },
);

/**
 * `GET /simulations/pin-pad/?card=…&origin=…`: the pad's document, with the widget documents'
 * headers. The pad posts the encrypted PIN to `origin` only, so `origin` must be a page that may
 * frame it: anything else is refused here, before the pad can run.
 */
export async function pinPadDocumentRoutes(
  app: FastifyInstance,
  frameAncestors: readonly string[],
): Promise<void> {
  const headers = widgetDocumentHeaders(frameAncestors);
  const file = path.join(DIST_DIR, 'widgets', 'pin-pad', 'index.html');
  app.get<{ Querystring: Static<typeof PadQuery> }>(
    '/simulations/pin-pad/',
    { schema: { hide: true, querystring: PadQuery } },
    async (request, reply) => {
      if (!frameAncestors.includes(request.query.origin)) {
        throw new ApiError(
          'INVALID_FIELD',
          `origin must be one of the origins allowed to frame the pad (FRAME_ANCESTORS): ${frameAncestors.join(', ') || 'none'}`,
          'origin',
        );
      }
      if (!fs.existsSync(file)) {
        const error = new ApiError(
          'INTERNAL_ERROR',
          'The PIN pad is not built: run `npm run build`',
        );
        return reply.status(503).send(error.toJSON());
      }
      return reply
        .headers(headers)
        .type('text/html; charset=utf-8')
        .send(fs.createReadStream(file));
    },
  );
}

/**
 * `POST /v1/simulations/pin_pad/pin_block` (API key, `admin`): the acquirer's HSM in the demo's
 * story. Opens the pad's JWE with the platform's PIN-transport keys, checks that it was entered
 * for this card moments ago, and re-enciphers the PIN as the zone-key PIN block an
 * authorization carries. The PIN exists in clear only inside this call.
 */
export function pinPadRoutes(
  app: FastifyInstance,
  deps: { cards: CardService; transportKeys: TransportKeys; zonePinKeys: ZonePinKeys },
): void {
  const { cards, transportKeys, zonePinKeys } = deps;
  app.post<{ Body: Static<typeof TranslateBody> }>(
    '/v1/simulations/pin_pad/pin_block',
    {
      schema: {
        ...operation({
          id: 'translatePinPadEntry',
          summary:
            'Translate the demo PIN pad’s encrypted PIN into a zone-key PIN block for an authorization (the acquirer’s HSM; demos)',
          tag: 'simulations',
          errors: [
            'NOT_FOUND',
            'UNKNOWN_KEY_ID',
            'PIN_DECRYPTION_FAILED',
            'PIN_PAD_CARD_MISMATCH',
            'PIN_PAD_ENTRY_EXPIRED',
            'INVALID_PIN_PAYLOAD',
          ],
          responses: {
            200: { description: 'The zone-key PIN block', schema: TranslatedPinBlock },
          },
        }),
        body: TranslateBody,
        security: [{ apiKey: [] }],
      },
    },
    async (request) => {
      const { card_id, encrypted_pin, format } = request.body;
      const card = await cards.getCard(card_id);
      const { plaintext, header } = await openPadJwe(encrypted_pin, transportKeys);
      try {
        if (header.card !== card_id) {
          throw new ApiError(
            'PIN_PAD_CARD_MISMATCH',
            'This PIN was entered at the pad for another card',
            'encrypted_pin',
          );
        }
        const age = Date.now() / 1000 - Number(header.iat);
        if (!Number.isInteger(header.iat) || Math.abs(age) > PIN_PAD_ENTRY_LIFETIME_S) {
          throw new ApiError(
            'PIN_PAD_ENTRY_EXPIRED',
            `The PIN must be translated within ${PIN_PAD_ENTRY_LIFETIME_S} s of its entry: enter it again`,
            'encrypted_pin',
          );
        }
        const pin = padPin(plaintext);
        if (pin === undefined) {
          throw new ApiError(
            'INVALID_PIN_PAYLOAD',
            'The encrypted payload must be {"pin":"<4 to 12 digits>"}',
            'encrypted_pin',
          );
        }
        const block = zonePinBlock(pin, cards.panOf(card), format, zonePinKeys);
        return { pin_block: { format, block: block.pin_block } };
      } finally {
        plaintext.fill(0);
      }
    },
  );
}

async function openPadJwe(jwe: string, transportKeys: TransportKeys) {
  try {
    return await decryptPinJwe(jwe, (kid) => transportKeys.decryptionKey(kid));
  } catch (error) {
    if (!(error instanceof PinJweError)) throw error;
    throw error.code === 'UNKNOWN_KEY_ID'
      ? new ApiError(
          'UNKNOWN_KEY_ID',
          'The PIN was encrypted to an unknown key: fetch /v1/pin_keys again',
          'encrypted_pin',
        )
      : new ApiError(
          'PIN_DECRYPTION_FAILED',
          'The encrypted PIN could not be decrypted',
          'encrypted_pin',
        );
  }
}

/** `{"pin":"<4–12 digits>"}` and nothing else, or undefined. */
function padPin(plaintext: Uint8Array): string | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const pin = (value as { pin?: unknown }).pin;
    if (Object.keys(value).length !== 1 || typeof pin !== 'string' || !/^\d{4,12}$/.test(pin))
      return undefined;
    return pin;
  } catch {
    return undefined;
  }
}
