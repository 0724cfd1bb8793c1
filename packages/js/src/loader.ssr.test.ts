import { describe, expect, it } from 'vitest';
import { loadPinWidgets } from './loader.js';

describe('loadPinWidgets on a server', () => {
  it('resolves to null, loads nothing and throws nothing', async () => {
    expect(typeof window).toBe('undefined');
    await expect(loadPinWidgets({ platformUrl: 'https://platform.example' })).resolves.toBeNull();
  });

  it('still refuses a bad platformUrl, so the mistake shows in server logs too', async () => {
    await expect(loadPinWidgets({ platformUrl: 'pin.example.com' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
  });
});
