import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { CHROMIUM_PATH } from './tti.js';

export interface Machine {
  cpu: string;
  cores: number;
  ramGiB: number;
  os: string;
  node: string;
  chromium: string;
  loadAverage: string;
}

function chromiumVersion(): string {
  try {
    return execFileSync(CHROMIUM_PATH, ['--version'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .trim()
      .replace(/ built on .*/, '');
  } catch {
    return 'unknown';
  }
}

function osName(): string {
  try {
    const release = fs.readFileSync('/etc/os-release', 'utf8');
    return /PRETTY_NAME="([^"]+)"/.exec(release)?.[1] ?? `${os.type()} ${os.release()}`;
  } catch {
    return `${os.type()} ${os.release()}`;
  }
}

export function describeMachine(): Machine {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    ramGiB: os.totalmem() / 2 ** 30,
    os: `${osName()}, kernel ${os.release()}`,
    node: process.version,
    chromium: chromiumVersion(),
    loadAverage: os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' '),
  };
}
