import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The program's API key: `API_KEY` when set; otherwise one generated on first start, kept in
 * `DATA_DIR/api_key` (mode 0600) so restarts keep it. `generated` tells the caller to print it.
 */
export function resolveApiKey(
  dataDir: string,
  configured: string | undefined,
): { apiKey: string; generated: boolean } {
  if (configured !== undefined) return { apiKey: configured, generated: false };
  const file = path.join(dataDir, 'api_key');
  if (fs.existsSync(file))
    return { apiKey: fs.readFileSync(file, 'utf8').trim(), generated: false };
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const apiKey = `sk_test_${randomBytes(24).toString('base64url')}`;
  fs.writeFileSync(file, `${apiKey}\n`, { mode: 0o600, flag: 'wx' });
  return { apiKey, generated: true };
}
