import { describe, expect, it } from 'vitest';

describe('server-side rendering', () => {
  it('importing the SDK and the React entry without a DOM does nothing and throws nothing', async () => {
    expect(typeof document).toBe('undefined');
    const core = await import('./index.js');
    const react = await import('./react.js');
    expect(typeof core.mount).toBe('function');
    expect(typeof react.SetPin).toBe('function');
    expect(typeof (globalThis as { customElements?: unknown }).customElements).toBe('undefined');
  });
});
