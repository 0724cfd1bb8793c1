import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../demo-server/testing/server-process.js';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const BENCH_API_KEY = 'sk_bench_0123456789abcdefghijklmn';

export { freePort };

export interface ApiResponse {
  status: number;
  body: any;
}

/**
 * The real platform (`demo-server/main.ts`) as its own process, with a temporary DATA_DIR and
 * its own ports: its CPU and memory are its own, and the bench process (load generator,
 * browser driver) runs beside it on the other core.
 */
export class BenchPlatform {
  private child: ChildProcess | undefined;
  private output = '';
  private peakRssKb = 0;
  private sampler: NodeJS.Timeout | undefined;
  readonly dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-widgets-bench-'));

  private constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly nodeArgs: readonly string[],
    private readonly cpus: string | undefined,
  ) {}

  /** `http://localhost:<port>`: the platform origin (a secure context for WebCrypto). */
  get url(): string {
    return `http://localhost:${this.port}`;
  }

  /** Loopback by address, for the Node-side clients (no name resolution per connection). */
  get loopbackUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  static async start(
    env: Record<string, string> = {},
    options: { cpus?: string; nodeArgs?: readonly string[]; port?: number } = {},
  ): Promise<BenchPlatform> {
    const nodeArgs =
      options.nodeArgs ?? (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const port = options.port ?? (await freePort());
    const platform = new BenchPlatform(port, env, nodeArgs, options.cpus);
    await platform.spawn();
    return platform;
  }

  private async spawn(): Promise<void> {
    const demoSitePort = await freePort();
    const command = [process.execPath, ...this.nodeArgs, '--import', 'tsx', 'demo-server/main.ts'];
    // taskset execs node in place: the child's pid stays the server's own.
    if (this.cpus !== undefined) command.unshift('taskset', '-c', this.cpus);
    this.child = spawn(command[0]!, command.slice(1), {
      cwd: ROOT,
      env: {
        ...process.env,
        DEMO_MODE: '1',
        API_KEY: BENCH_API_KEY,
        LOG_LEVEL: 'warn',
        DATA_DIR: this.dataDir,
        DEMO_SITE_PORT: String(demoSitePort),
        ...this.env,
        PORT: String(this.port),
        // Both names resolve here: 127.0.0.1 for Node clients, localhost for the browser.
        HOST: '127.0.0.1',
        // Several instances behind one name share the URL they are given.
        PUBLIC_URL: this.env.PUBLIC_URL ?? `http://localhost:${this.port}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`platform exited:\n${this.output}`);
      try {
        if ((await fetch(`${this.loopbackUrl}/healthz`)).ok) {
          this.sampler = setInterval(() => this.sampleRss(), 100);
          this.sampler.unref();
          return;
        }
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`platform did not start:\n${this.output}`);
  }

  /** The kernel's own high-water mark of the process's resident set (VmHWM). */
  private sampleRss(): void {
    try {
      const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm) this.peakRssKb = Math.max(this.peakRssKb, Number(hwm[1]));
    } catch {
      // the process has gone
    }
  }

  /** Peak resident memory of the server process so far, in bytes. */
  peakRss(): number {
    this.sampleRss();
    return this.peakRssKb * 1024;
  }

  /** Moves every thread of the server (JOSE workers and libuv's pool too) onto `cpus`. */
  pin(cpus: string): void {
    pinProcess(this.pid, cpus);
  }

  /** CPU time (user + system) the server process has used so far, in ms. */
  cpuMs(): number {
    try {
      const fields = fs.readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      return (ticks * 1000) / 100;
    } catch {
      return 0;
    }
  }

  async call(method: string, url: string, body?: unknown): Promise<ApiResponse> {
    const response = await fetch(`${this.loopbackUrl}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${BENCH_API_KEY}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Like `call`, but anything but the expected status is an error naming the call. */
  async expect(status: number, method: string, url: string, body?: unknown): Promise<any> {
    const response = await this.call(method, url, body);
    if (response.status !== status) {
      throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(response.body)}`);
    }
    return response.body;
  }

  /**
   * Removes every webhook subscription (the demo site's own included), so a measurement of the
   * request path is not shared with webhook delivery.
   */
  async unsubscribeAll(): Promise<void> {
    for (;;) {
      const page = await this.expect(200, 'GET', '/v1/webhooks?limit=100');
      if (page.data.length === 0) return;
      for (const hook of page.data) await this.expect(200, 'DELETE', `/v1/webhooks/${hook.id}`);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.sampler);
    this.sampleRss();
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Runs `work` over `items` with at most `concurrency` in flight; keeps the order. */
export async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}

export const ALL_CPUS = `0-${os.availableParallelism() - 1}`;
/**
 * The one-core loads: the server on core 0, the load generator on core 1. The crypto floors run
 * on the server's core too: this VM's two cores are not equally fast (docs/performance.md,
 * "The floors").
 */
export const SERVER_CPU = '0';
export const CLIENT_CPU = '1';

/** Pins every thread of this process to `cpus` (a taskset list such as "1" or "0-1"). */
export function pinSelf(cpus: string): void {
  pinProcess(process.pid, cpus);
}

/** Moves every thread of process `pid` onto `cpus` (a taskset list). */
function pinProcess(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}
