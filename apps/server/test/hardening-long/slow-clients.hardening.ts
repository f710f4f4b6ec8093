import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { startServerProcess } from '../support/process.js';

const CONNECTIONS = 1000;
const SECONDS = 60;

/**
 * 1,000 slow-header connections (slowhttptest, Debian's package) for 60 s: the server keeps
 * answering others promptly, and closes each slow socket once HTTP_HEADERS_TIMEOUT_MS has passed.
 */
it(`stays responsive under ${CONNECTIONS} slow-header connections for ${SECONDS} s, and closes them on time`, async () => {
  const server = await startServerProcess({ HTTP_HEADERS_TIMEOUT_MS: '10000' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-slow-'));
  try {
    const url = `${server.baseUrl}/health/live`;
    const attack = spawn('slowhttptest', ['-H', '-c', String(CONNECTIONS), '-r', '200', '-i', '5', '-x', '24', '-p', '3', '-l', String(SECONDS), '-t', 'GET', '-u', url, '-g', '-o', path.join(dir, 'stats')], { stdio: 'ignore' });
    const launched = performance.now();
    let attackSeconds = Infinity;
    const finished = new Promise<void>((resolve) =>
      attack.once('exit', () => {
        attackSeconds = (performance.now() - launched) / 1000;
        resolve();
      }),
    );

    // A well-behaved client probes twice a second while the attack runs.
    const latencies: number[] = [];
    let failures = 0;
    const probeUntil = Date.now() + (SECONDS - 5) * 1000;
    await new Promise((resolve) => setTimeout(resolve, 5000)); // let the attack open its connections
    // Probing stops when the attack ends (about 25 s in, once the server has closed every socket): later probes would prove nothing.
    while (Date.now() < probeUntil && attackSeconds === Infinity) {
      const started = performance.now();
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
        await res.text();
        if (res.status === 200) latencies.push(performance.now() - started);
        else failures++;
      } catch {
        failures++;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await finished;

    const rows = readFileSync(path.join(dir, 'stats.csv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split(',').map(Number));
    // Columns: seconds, closed, pending, connected, service available.
    const peakConnected = Math.max(...rows.map((r) => r[3]!));
    const [lastSecond, closed, , stillConnected] = rows.at(-1)!;
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
    process.stdout.write(
      `slow clients: peak ${peakConnected} connected; at ${lastSecond} s ${closed} closed by the server, ${stillConnected} left; the attack had no connection left after ${attackSeconds.toFixed(0)} s; probe p99 ${p99.toFixed(1)} ms over ${latencies.length} probes, ${failures} failures\n`,
    );
    expect(failures).toBe(0);
    expect(p99).toBeLessThan(500);
    expect(peakConnected).toBeGreaterThan(CONNECTIONS * 0.5);
    // Opened within the first ~5 s and cut 10 s after each opened (checked every second):
    // slowhttptest gives up long before its 60 s, as soon as the server has closed every socket.
    expect(lastSecond).toBeLessThanOrEqual(25);
    expect(attackSeconds).toBeLessThan(30);
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
