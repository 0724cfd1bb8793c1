import { describe, expect, it } from 'vitest';
import type { Card, CardProduct, CardStatus } from '../store/types.js';
import { REQUESTABLE_STATUS_CHANGES, decide, initialState } from './state-machine.js';

const product = (overrides: Partial<CardProduct> = {}): CardProduct => ({
  id: 'cp_1',
  name: 'Test',
  form: 'PHYSICAL',
  pinIssuancePolicy: 'NOT_REQUIRED',
  offlinePin: false,
  pinLength: 4,
  emvProfile: 'EMV_CCD',
  allowBearerWidgetTokens: false,
  pinTryLimit: 3,
  pinChangeRequiresCurrentPin: false,
  revealStepUp: 'NONE',
  createdTime: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

const card = (overrides: Partial<Card> = {}): Card => ({
  id: 'card_1',
  accountId: 'acct',
  customerId: null,
  cardProductId: 'cp_1',
  form: 'PHYSICAL',
  sealedPan: {
    ciphertext: Buffer.alloc(16),
    iv: Buffer.alloc(12),
    tag: Buffer.alloc(16),
    keyId: 'k',
  },
  panSequenceNumber: '00',
  lastFour: '0000',
  cardStatus: 'PENDING',
  statusReason: null,
  memo: null,
  isWaitingForPin: false,
  fulfillmentStatus: 'ORDERED',
  isPinSet: false,
  timestampPinSet: null,
  pinTriesRemaining: 3,
  offlinePinEnabled: false,
  offlinePinInSync: false,
  pendingScriptId: null,
  createdTime: '2026-01-01T00:00:00.000Z',
  lastModifiedTime: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

describe('initialState', () => {
  it('NOT_REQUIRED: UNACTIVATED at once, fulfillment starts', () => {
    expect(initialState(product())).toMatchObject({
      cardStatus: 'UNACTIVATED',
      isWaitingForPin: false,
      schedule: ['ISSUE_CARD'],
    });
  });

  it('RANDOM: PENDING with the issuance job scheduled', () => {
    expect(initialState(product({ pinIssuancePolicy: 'RANDOM' }))).toMatchObject({
      cardStatus: 'PENDING',
      isWaitingForPin: false,
      schedule: ['COMPLETE_ISSUANCE'],
    });
  });

  it('REQUIRED: PENDING, waiting for the PIN, nothing scheduled', () => {
    expect(initialState(product({ pinIssuancePolicy: 'REQUIRED' }))).toMatchObject({
      cardStatus: 'PENDING',
      isWaitingForPin: true,
      schedule: [],
    });
  });

  it('VIRTUAL: ACTIVE and digitally presented', () => {
    expect(initialState(product({ form: 'VIRTUAL', pinIssuancePolicy: null }))).toMatchObject({
      cardStatus: 'ACTIVE',
      fulfillmentStatus: 'DIGITALLY_PRESENTED',
      schedule: [],
    });
  });
});

describe('decide: requested status changes', () => {
  const statuses: CardStatus[] = ['PENDING', 'UNACTIVATED', 'ACTIVE', 'SUSPENDED', 'TERMINATED'];
  const allowed = new Set([
    'PENDING>TERMINATED',
    'UNACTIVATED>ACTIVE',
    'UNACTIVATED>TERMINATED',
    'ACTIVE>SUSPENDED',
    'ACTIVE>TERMINATED',
    'SUSPENDED>ACTIVE',
    'SUSPENDED>TERMINATED',
  ]);
  for (const from of statuses) {
    for (const to of statuses) {
      if (from === to) continue;
      const expected = allowed.has(`${from}>${to}`);
      it(`${from} → ${to} is ${expected ? 'allowed' : 'refused'}`, () => {
        const outcome = decide(card({ cardStatus: from }), product(), {
          type: 'STATUS_REQUESTED',
          to,
          reason: null,
        });
        expect(outcome.allowed).toBe(expected);
        expect(REQUESTABLE_STATUS_CHANGES[from].includes(to)).toBe(expected);
      });
    }
  }
});

describe('decide: PIN set and issuance', () => {
  const required = product({ pinIssuancePolicy: 'REQUIRED' });
  const random = product({ pinIssuancePolicy: 'RANDOM' });

  it('REQUIRED card waiting for a PIN: the PIN starts issuance', () => {
    const outcome = decide(card({ isWaitingForPin: true }), required, {
      type: 'PIN_SET',
      time: 't',
    });
    expect(outcome).toMatchObject({
      allowed: true,
      patch: { isPinSet: true, isWaitingForPin: false, timestampPinSet: 't' },
      schedule: ['COMPLETE_ISSUANCE'],
    });
  });

  it('a second PIN on a REQUIRED card does not schedule issuance again', () => {
    const outcome = decide(card({ isPinSet: true }), required, { type: 'PIN_SET', time: 't' });
    expect(outcome).toMatchObject({ allowed: true, schedule: [] });
  });

  it('REQUIRED issuance job is refused while no PIN is set', () => {
    expect(
      decide(card({ isWaitingForPin: true }), required, {
        type: 'JOB_DUE',
        job: 'COMPLETE_ISSUANCE',
        time: 't',
      }).allowed,
    ).toBe(false);
  });

  it('RANDOM issuance assigns a random PIN only when the cardholder set none', () => {
    const job = { type: 'JOB_DUE', job: 'COMPLETE_ISSUANCE', time: 't' } as const;
    expect(decide(card(), random, job)).toMatchObject({
      allowed: true,
      patch: { cardStatus: 'UNACTIVATED', isPinSet: true, timestampPinSet: 't' },
      schedule: ['ISSUE_CARD'],
      assignRandomPin: true,
    });
    expect(decide(card({ isPinSet: true }), random, job)).toMatchObject({ assignRandomPin: false });
  });

  it('issuance never fires for a card no longer PENDING', () => {
    const job = { type: 'JOB_DUE', job: 'COMPLETE_ISSUANCE', time: 't' } as const;
    expect(decide(card({ cardStatus: 'TERMINATED' }), random, job).allowed).toBe(false);
    expect(decide(card({ cardStatus: 'UNACTIVATED' }), random, job).allowed).toBe(false);
  });

  it('PIN operations are refused for virtual and terminated cards', () => {
    const event = { type: 'PIN_SET', time: 't' } as const;
    expect(decide(card({ form: 'VIRTUAL', cardStatus: 'ACTIVE' }), product(), event).allowed).toBe(
      false,
    );
    expect(decide(card({ cardStatus: 'TERMINATED' }), product(), event).allowed).toBe(false);
  });
});

describe('decide: fulfillment', () => {
  it('moves ORDERED → ISSUED → SHIPPED, one job at a time', () => {
    const issued = decide(card({ cardStatus: 'UNACTIVATED' }), product(), {
      type: 'JOB_DUE',
      job: 'ISSUE_CARD',
      time: 't',
    });
    expect(issued).toMatchObject({
      allowed: true,
      patch: { fulfillmentStatus: 'ISSUED' },
      schedule: ['SHIP_CARD'],
    });
    const shipped = decide(card({ cardStatus: 'ACTIVE', fulfillmentStatus: 'ISSUED' }), product(), {
      type: 'JOB_DUE',
      job: 'SHIP_CARD',
      time: 't',
    });
    expect(shipped).toMatchObject({
      allowed: true,
      patch: { fulfillmentStatus: 'SHIPPED' },
      schedule: [],
    });
  });

  it('never proceeds while PENDING or once TERMINATED, nor out of order', () => {
    const job = { type: 'JOB_DUE', job: 'ISSUE_CARD', time: 't' } as const;
    expect(decide(card({ cardStatus: 'PENDING' }), product(), job).allowed).toBe(false);
    expect(decide(card({ cardStatus: 'TERMINATED' }), product(), job).allowed).toBe(false);
    expect(
      decide(card({ cardStatus: 'UNACTIVATED' }), product(), {
        type: 'JOB_DUE',
        job: 'SHIP_CARD',
        time: 't',
      }).allowed,
    ).toBe(false);
  });
});

describe('decide: PIN tries (docs/point-of-sale.md)', () => {
  const limit5 = product({ pinTryLimit: 5 });
  const withPin = (overrides: Partial<Card> = {}) =>
    card({ cardStatus: 'ACTIVE', fulfillmentStatus: 'SHIPPED', isPinSet: true, ...overrides });

  it('a wrong PIN uses one try, down to 0; a blocked or absent PIN counts nothing', () => {
    expect(decide(withPin({ pinTriesRemaining: 2 }), limit5, { type: 'PIN_INCORRECT' })).toEqual({
      allowed: true,
      patch: { pinTriesRemaining: 1 },
      schedule: [],
      assignRandomPin: false,
      personalizeChip: false,
    });
    for (const blocked of [
      withPin({ pinTriesRemaining: 0 }),
      withPin({ isPinSet: false }),
      withPin({ cardStatus: 'TERMINATED' }),
      withPin({ form: 'VIRTUAL' }),
    ]) {
      expect(decide(blocked, limit5, { type: 'PIN_INCORRECT' }).allowed).toBe(false);
      expect(decide(blocked, limit5, { type: 'PIN_VERIFIED' }).allowed).toBe(false);
    }
  });

  it('a right PIN, an unblock and a new PIN restore the product’s limit', () => {
    expect(
      decide(withPin({ pinTriesRemaining: 1 }), limit5, { type: 'PIN_VERIFIED' }),
    ).toMatchObject({ allowed: true, patch: { pinTriesRemaining: 5 } });
    expect(
      decide(withPin({ pinTriesRemaining: 0 }), limit5, { type: 'PIN_UNBLOCKED' }),
    ).toMatchObject({ allowed: true, patch: { pinTriesRemaining: 5 } });
    expect(
      decide(withPin({ pinTriesRemaining: 0 }), limit5, { type: 'PIN_SET', time: 't' }),
    ).toMatchObject({ allowed: true, patch: { pinTriesRemaining: 5, isPinSet: true } });
    expect(decide(withPin({ isPinSet: false }), limit5, { type: 'PIN_UNBLOCKED' }).allowed).toBe(
      false,
    );
  });

  it('issuing an offline-PIN card with a PIN personalizes its chip; others have none to write', () => {
    const job = { type: 'JOB_DUE', job: 'ISSUE_CARD', time: 't' } as const;
    const offline = card({ cardStatus: 'UNACTIVATED', offlinePinEnabled: true, isPinSet: true });
    expect(decide(offline, product(), job)).toMatchObject({ personalizeChip: true });
    expect(decide({ ...offline, offlinePinEnabled: false }, product(), job)).toMatchObject({
      personalizeChip: false,
    });
  });
});
