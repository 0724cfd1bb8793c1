import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';
const RANDOM_CHARS = 16;

let lastTime = -1;
let lastRandom: number[] = [];

function encodeTime(time: number): string {
  let text = '';
  let t = time;
  for (let i = 0; i < 10; i++) {
    text = CROCKFORD[t % 32] + text;
    t = Math.floor(t / 32);
  }
  return text;
}

/** The random part plus one, in base 32 (carrying left), as ULID's monotonic mode does. */
function increment(digits: number[]): number[] {
  const next = [...digits];
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i]! < 31) {
      next[i]!++;
      return next;
    }
    next[i] = 0;
  }
  throw new Error('id space for this millisecond is exhausted');
}

/**
 * Prefixed, time-ordered identifiers (48-bit millisecond time + 80 random bits, Crockford
 * base32, as ULID). Within one millisecond (or if the clock steps back) the random part is
 * incremented, so ids are strictly increasing in creation order within this process: lists
 * sorted by id show events in the order they happened.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  if (now <= lastTime) {
    lastRandom = increment(lastRandom);
  } else {
    lastTime = now;
    const bytes = randomBytes(RANDOM_CHARS);
    // Start low in the space (top bit clear) so increments never run out in practice.
    lastRandom = Array.from(bytes, (byte, i) => (i === 0 ? byte % 16 : byte % 32));
  }
  return `${prefix}_${encodeTime(lastTime)}${lastRandom.map((d) => CROCKFORD[d]).join('')}`;
}

/** The millisecond time an id was made with (its first 10 characters after the prefix). */
export function timeOfId(id: string): number {
  const encoded = id.slice(id.indexOf('_') + 1, id.indexOf('_') + 11);
  let time = 0;
  for (const char of encoded) {
    const digit = CROCKFORD.indexOf(char);
    if (digit < 0) throw new Error(`not an id: ${id}`);
    time = time * 32 + digit;
  }
  return time;
}
