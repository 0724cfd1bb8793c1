import { describe, expect, it } from 'vitest';
import { startTestPlatform } from '../testing/platform.js';

describe('health and readiness (docs/deployment.md)', () => {
  it('/readyz is 200 while serving, 503 "draining" from the moment shutdown starts', async () => {
    const platform = await startTestPlatform();
    try {
      const ready = await platform.app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ ready: true });

      const closing = platform.close(300);
      const draining = await platform.app.inject({ method: 'GET', url: '/readyz' });
      expect(draining.statusCode).toBe(503);
      expect(draining.json()).toEqual({ ready: false, reason: 'draining' });
      // Liveness stays up while draining: the process is healthy, just leaving.
      expect((await platform.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      await closing;
    } finally {
      await platform.dispose();
    }
  });

  it('/readyz is 503 when the database does not answer', async () => {
    const platform = await startTestPlatform();
    try {
      await platform.store.close();
      const response = await platform.app.inject({ method: 'GET', url: '/readyz' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({ ready: false, reason: 'database unreachable' });
    } finally {
      await platform.close();
    }
  });
});
