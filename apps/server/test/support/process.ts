import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const serverEntry = new URL('./test-server.ts', import.meta.url).pathname;
// Resolved here, because the child runs in a data folder with no node_modules of its own.
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string>;
}

const START_LIMIT_MS = 90_000;

/**
 * Starts the real server entry in its own process (with the widgets fixture module) on a free
 * port, and resolves once it prints its API address.
 */
export function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const dataDir = env.DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'lyceum-proc-'));
  const child = spawn(process.execPath, ['--import', tsxLoader, serverEntry], {
    cwd: dataDir,
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '1000000', DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    // tsx compiles the whole server on start: on a loaded two-CPU machine that alone can take 30 s.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${START_LIMIT_MS / 1000} s:\n${output}`));
    }, START_LIMIT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /API:\s+(http:\/\/[^\s]+)\/api\/v1/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, baseUrl: match[1]!, output: () => output, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before it was ready:\n${output}`));
    });
  });
}

export interface TcpProxy {
  port: number;
  /** Freezes the forwarder: connections stay open but nothing moves, as when a server hangs. */
  pause(): void;
  resume(): void;
  stop(): void;
}

/** A TCP forwarder to `target` (`host:port`) in its own process. */
export function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(`tcp://${target}`);
  const child = spawn(process.execPath, ['--import', tsxLoader, new URL('./tcp-proxy.ts', import.meta.url).pathname, hostname, port], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`tcp proxy exited with ${code}`)));
    child.stdout!.once('data', (chunk: Buffer) => {
      const listening = Number(/PORT (\d+)/.exec(chunk.toString())?.[1]);
      resolve({ port: listening, pause: () => child.kill('SIGSTOP'), resume: () => child.kill('SIGCONT'), stop: () => child.kill('SIGKILL') });
    });
  });
}
