import { randomInt } from 'node:crypto';
import { pinPolicyViolation } from '../../widgets/ui/pin-policy.js';

// One source for the rules: the widget imports the same module for instant feedback.
export {
  COMMON_PINS,
  PinPolicyCodes,
  type PinPolicyCode,
  pinPolicyViolation,
} from '../../widgets/ui/pin-policy.js';

/**
 * A random PIN for the RANDOM policy: every digit from the CSPRNG (`crypto.randomInt`, which is
 * unbiased), redrawn whole while it breaks the policy, so it is uniform over acceptable PINs.
 */
export function randomPin(length: number, lastFour: string): string {
  for (;;) {
    let pin = '';
    for (let i = 0; i < length; i++) pin += String(randomInt(10));
    if (pinPolicyViolation(pin, length, lastFour) === undefined) return pin;
  }
}
