import { type ChildProcess, spawn } from 'node:child_process';
import dns from 'node:dns/promises';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import {
  API_KEY,
  FIXTURE_PORT,
  FIXTURE_URL,
  HOSTILE_PORT,
  INSECURE_HOST,
  INSECURE_URL,
  MINIBROWSER_PATH,
  PLATFORM_PORT,
  PLATFORM_URL,
  SITE_PORT,
  SITE_URL,
  WEBKIT_DRIVER_PATH,
  WEBKIT_DRIVER_PORT,
  XVFB_PATH,
  selectedEngines,
} from './env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The WebKitWebDriver the webkit adapter connects to (0 when webkit is not selected). */
    webkitDriverPort: number;
    /**
     * One Firefox profile for the run: a warm profile starts in about half the time of a fresh
     * one, and each test still gets its own BiDi user context. Outside the repository, so that
     * ESLint (which reads every .js under the root) never sees its prefs.js.
     */
    firefoxProfileDir: string;
    /** Why the insecure origin's host name is not usable, or '' when it is. */
    insecureHostProblem: string;
  }
}

const ROOT = path.resolve(import.meta.dirname, '../..');
const DATA_DIR = path.join(ROOT, '.tmp/engines-data');
const LOG_DIR = path.join(ROOT, '.tmp/engines-logs');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

interface Started {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  /** The end of its log, for a message that says why it did not start. */
  tail(): string;
}

function start(name: string, command: string, args: string[], env: Record<string, string>) {
  const log = path.join(LOG_DIR, `${name}.log`);
  const out = fs.openSync(log, 'w');
  // Its own process group: stopping it stops what it started (tsx runs node as a child).
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', out, out],
    detached: true,
  });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined); // an ENOENT shows as an exit with the log below
  return {
    name,
    child,
    exited,
    tail: () => fs.readFileSync(log, 'utf8').split('\n').slice(-15).join('\n'),
  } satisfies Started;
}

async function stop(started: Started): Promise<void> {
  const pid = started.child.pid;
  if (pid === undefined || started.child.exitCode !== null || started.child.signalCode !== null)
    return;
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const killed = setTimeout(() => signal('SIGKILL'), 5_000);
  await started.exited;
  clearTimeout(killed);
}

async function until(what: string, started: Started, ready: () => Promise<boolean>, ms = 60_000) {
  const deadline = Date.now() + ms;
  let gone = false;
  void started.exited.then(() => (gone = true));
  while (Date.now() < deadline) {
    if (gone) throw new Error(`${started.name} exited before ${what}:\n${started.tail()}`);
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${started.name}: no ${what} after ${ms} ms:\n${started.tail()}`);
}

const answers = (url: string) => async () => (await fetch(url)).ok;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function anyFreePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The insecure origin needs its host name to resolve to this machine; adds it when it can. */
async function ensureInsecureHost(): Promise<string> {
  const resolves = async () =>
    (await dns.lookup(INSECURE_HOST, { family: 4 }).catch(() => undefined))?.address ===
    '127.0.0.1';
  if (await resolves()) return '';
  try {
    const hosts = fs.readFileSync('/etc/hosts', 'utf8');
    fs.appendFileSync(
      '/etc/hosts',
      `${hosts.endsWith('\n') ? '' : '\n'}127.0.0.1 ${INSECURE_HOST}\n`,
    );
  } catch (error) {
    return (
      `${INSECURE_HOST} does not resolve to 127.0.0.1 and /etc/hosts is not writable ` +
      `(${(error as Error).message}). Add the line "127.0.0.1 ${INSECURE_HOST}" to /etc/hosts ` +
      '(as root) and run again.'
    );
  }
  return (await resolves())
    ? ''
    : `${INSECURE_HOST} still does not resolve after editing /etc/hosts`;
}

/** Xvfb on the first free display from :99 (another may be taken by someone's own session). */
async function startXvfb(): Promise<{ started: Started; display: string }> {
  for (let n = 99; n < 200; n++) {
    if (fs.existsSync(`/tmp/.X${n}-lock`) || fs.existsSync(`/tmp/.X11-unix/X${n}`)) continue;
    const started = start(
      'xvfb',
      XVFB_PATH,
      [`:${n}`, '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'],
      {},
    );
    try {
      await until(
        'its display socket',
        started,
        async () => fs.existsSync(`/tmp/.X11-unix/X${n}`),
        10_000,
      );
      return { started, display: `:${n}` };
    } catch {
      await stop(started); // lost a race for that display: try the next one
    }
  }
  throw new Error('Xvfb: no free display between :99 and :199');
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const engines = selectedEngines();
  fs.mkdirSync(LOG_DIR, { recursive: true });
  for (const port of [PLATFORM_PORT, SITE_PORT, FIXTURE_PORT, HOSTILE_PORT]) {
    if (!(await portFree(port))) {
      throw new Error(
        `Port ${port} is in use (a server left from another engines run?): the engines suite needs ports ${PLATFORM_PORT}–${HOSTILE_PORT}.`,
      );
    }
  }
  if (
    !fs.existsSync(path.join(ROOT, 'dist/widgets')) ||
    !fs.existsSync(path.join(ROOT, 'dist/sdk'))
  ) {
    throw new Error('No built widgets in dist/: run `npm run build` first.');
  }
  project.provide('insecureHostProblem', await ensureInsecureHost());

  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pin-widgets-engines-firefox-'));
  project.provide('firefoxProfileDir', profile);
  const running: Started[] = [];
  // If vitest dies without running the teardown (a closed pipe, an uncaught error), the servers
  // and Xvfb are in their own process groups and would outlive it: end them on the way out.
  const onExit = () => {
    for (const { child } of running) {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    fs.rmSync(profile, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const teardown = async () => {
    process.off('exit', onExit);
    for (const started of running.reverse()) await stop(started);
    fs.rmSync(profile, { recursive: true, force: true });
  };
  try {
    fs.rmSync(DATA_DIR, { recursive: true, force: true });
    const platform = start('platform', TSX, ['demo-server/main.ts'], {
      DEMO_MODE: '1',
      PORT: String(PLATFORM_PORT),
      DEMO_SITE_PORT: String(SITE_PORT),
      DATA_DIR,
      API_KEY,
      ISSUANCE_DELAY_MS: '500',
      FRAME_ANCESTORS: `${SITE_URL} ${FIXTURE_URL} ${INSECURE_URL}`,
      LOG_LEVEL: 'warn',
    });
    running.push(platform);
    const fixture = start('fixture', TSX, ['e2e/fixtures/server.ts'], {
      FIXTURE_PORT: String(FIXTURE_PORT),
      HOSTILE_PORT: String(HOSTILE_PORT),
      PLATFORM_URL,
      API_KEY,
    });
    running.push(fixture);

    let driverPort = 0;
    if (engines.includes('webkit')) {
      for (const binary of [XVFB_PATH, WEBKIT_DRIVER_PATH, MINIBROWSER_PATH]) {
        if (!fs.existsSync(binary))
          throw new Error(`${binary} is missing: run \`bash scripts/ensure-webkit.sh\` (as root).`);
      }
      const xvfb = await startXvfb();
      running.push(xvfb.started);
      driverPort = (await portFree(WEBKIT_DRIVER_PORT)) ? WEBKIT_DRIVER_PORT : await anyFreePort();
      const driver = start('webkitwebdriver', WEBKIT_DRIVER_PATH, [`--port=${driverPort}`], {
        DISPLAY: xvfb.display,
      });
      running.push(driver);
      await until('WebDriver status', driver, answers(`http://127.0.0.1:${driverPort}/status`));
    }
    project.provide('webkitDriverPort', driverPort);

    await until('the demo site', platform, answers(`${SITE_URL}/api/config`));
    await until('health', fixture, answers(`${FIXTURE_URL}/healthz`));
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
