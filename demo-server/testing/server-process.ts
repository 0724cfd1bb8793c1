import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The real server (`demo-server/main.ts`) as a child process: one node process (tsx as an
 * import hook, not its CLI wrapper), so SIGKILL kills exactly the server.
 */
export class ServerProcess {
  private child: ChildProcess | undefined;
  private demoSitePort: number | undefined;
  output = '';

  constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    // The demo site starts too (outside production): on a free port, so a platform already
    // running on the default 4001 (`npm start` in another terminal) does not stop this one.
    this.demoSitePort ??= Number(this.env.DEMO_SITE_PORT ?? (await freePort()));
    this.child = spawn(process.execPath, ['--import', 'tsx', 'demo-server/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        // The demo's switch (test keys, simulations): tests run the platform as `npm start` does.
        DEMO_MODE: '1',
        ...this.env,
        PORT: String(this.port),
        HOST: '127.0.0.1',
        DEMO_SITE_PORT: String(this.demoSitePort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`server exited:\n${this.output}`);
      try {
        if ((await fetch(`${this.url}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`server did not start:\n${this.output}`);
  }

  /** SIGKILL: no shutdown hook runs, exactly like a crash. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}
