/** What every benchmark section shares: server processes, load runs and the figures they produce. */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export const seconds = Number(process.env.BENCH_SECONDS ?? 10);
export const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
/** How much data the data-heavy sections seed: 1 = the sizes the issues name; BENCH_SCALE=0.05 for a quick run. */
export const scale = Number(process.env.BENCH_SCALE ?? 1);
export const scaled = (n: number, min = 1) => Math.max(min, Math.round(n * scale));
const here = new URL('.', import.meta.url);

export interface Started {
  child: ChildProcess;
  port: number;
  info: Record<string, unknown>;
}

/** BENCH_CPU_PROF=<dir>: every forked process writes a V8 CPU profile there when it exits. */
const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];

/** Forks a bench server script; it reports its port (and anything else) with `process.send`. */
export function start(script: string, env: Record<string, string> = {}): Promise<Started> {
  const child = fork(new URL(script, here), [], { execArgv: ['--import', 'tsx', ...profile], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { port: number } & Record<string, unknown>) => resolve({ child, port: message.port, info: message }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

/** Stops a bench server and waits until it has cleaned up (its database, its data directory). */
export async function stop(server: Started): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  // A server cleans up within 15 s (fixtures.ts); one that does not is killed.
  const killer = setTimeout(() => server.child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(killer);
}

/** Sends a command to a bench process and waits for its answer (see `answer` below). */
export function ask<T = Record<string, unknown>>(child: ChildProcess, type: string, args: Record<string, unknown> = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: { reply?: string; error?: string }) => {
      if (message?.reply !== type) return;
      child.off('message', onMessage);
      if (message.error) reject(new Error(`${type}: ${message.error}`));
      else resolve(message as T);
    };
    child.on('message', onMessage);
    child.send({ type, ...args });
  });
}

/** Answers the commands `ask()` (support.ts) sends to this process, one handler per command type. */
export function answer(handlers: Record<string, (args: Record<string, unknown>) => Promise<Record<string, unknown>>>): void {
  process.on('message', (message: { type: string } & Record<string, unknown>) => {
    const handler = handlers[message.type];
    if (!handler) return;
    handler(message).then(
      (result) => process.send?.({ reply: message.type, ...result }),
      (err: Error) => process.send?.({ reply: message.type, error: err.stack ?? err.message }),
    );
  });
}

/** The p-th percentile (0–100) of some figures, by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const rssMiB = (pid: number) => {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return kb / 1024;
};

export interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  rss: number;
  errors: number;
  /** Measured in rounds against the table's first row: the median of the per-round ratios. */
  vsFirst?: number;
}

export type LoadOptions = Omit<autocannon.Options, 'url'> & { path: string; warmup?: boolean };

/** One load run of autocannon against a route of a started server. */
const load = (server: Started, path: string, duration: number, options: Omit<autocannon.Options, 'url'> = {}) =>
  autocannon({ url: `http://127.0.0.1:${server.port}${path}`, connections, duration, ...options });

/** Requests that did not get a 2xx answer in time. */
const failures = (result: autocannon.Result) => result.errors + result.non2xx + result.timeouts;

/** Runs autocannon against one route (after a 2 s warm-up) and prints the row. */
export async function measure(name: string, server: Started, { path, warmup = true, ...options }: LoadOptions): Promise<Row> {
  if (warmup) await load(server, path, 2, options); // JIT, caches, connections
  const result = await load(server, path, seconds, options);
  const row = {
    name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    rss: rssMiB(server.child.pid!),
    errors: failures(result),
  };
  process.stdout.write(`${name}: ${Math.round(row.rps)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, RSS ${row.rss.toFixed(0)} MiB, errors ${row.errors}\n`);
  return row;
}

/** A route of a started server, measured as one row. */
export interface Target {
  name: string;
  server: Started;
  path: string;
}

const median = (values: readonly number[]) => percentile(values, 50);

/**
 * Measures targets in turn, round after round (after a 2 s warm-up each; every other round in the
 * reverse order), so that a shared machine's changing load falls on all of them alike. A row's
 * requests/s and p50 are the medians of its rounds, its p99 the worst round's, and its `vsFirst`
 * the median of its per-round ratios to the first target.
 */
export async function measureInterleaved(targets: readonly Target[], { rounds = 10, roundSeconds = 2 } = {}): Promise<Row[]> {
  for (const target of targets) await load(target.server, target.path, 2);
  const results = targets.map(() => [] as autocannon.Result[]);
  for (let round = 0; round < rounds; round++) {
    const order = [...targets.keys()];
    if (round % 2 === 1) order.reverse();
    for (const i of order) results[i]!.push(await load(targets[i]!.server, targets[i]!.path, roundSeconds));
  }
  const first = results[0]!;
  return targets.map((target, i) => {
    const own = results[i]!;
    const row = {
      name: target.name,
      rps: median(own.map((r) => r.requests.average)),
      p50: median(own.map((r) => r.latency.p50)),
      p99: Math.max(...own.map((r) => r.latency.p99)),
      rss: rssMiB(target.server.child.pid!),
      errors: own.reduce((sum, r) => sum + failures(r), 0),
      vsFirst: median(own.map((r, round) => r.requests.average / first[round]!.requests.average)),
    };
    process.stdout.write(`${row.name}: ${Math.round(row.rps)} req/s (rounds: ${own.map((r) => Math.round(r.requests.average)).join(', ')}), ${(row.vsFirst * 100).toFixed(0)}% of the first\n`);
    return row;
  });
}

export const percent = (part: number, whole: number) => `${((part / whole) * 100).toFixed(0)}%`;

export function table(rows: Row[], baseline?: Row): string {
  return [
    `| target | requests/s | p50 ms | p99 ms | RSS MiB |${baseline ? ' vs baseline |' : ''} errors |`,
    `|---|---:|---:|---:|---:|${baseline ? '---:|' : ''}---:|`,
    ...rows.map((r) => `| ${r.name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.rss.toFixed(0)} |${baseline ? ` ${r.vsFirst === undefined ? percent(r.rps, baseline.rps) : percent(r.vsFirst, 1)} |` : ''} ${r.errors} |`),
  ].join('\n');
}

export const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
/** The verdict of a target that names a data size: a scaled-down run says so. */
export const scaledVerdict = (met: boolean) => `${verdict(met)}${scale === 1 ? '' : ` (BENCH_SCALE=${scale}: smaller than the target's data)`}`;

/** A section of docs/benchmarks.md: its `## title` and the markdown below it. */
export interface Section {
  title: string;
  body: string;
}

/** Measures bare node:http answering the same small JSON as /health/live: every section's yardstick. */
export async function bareBaseline(): Promise<Row> {
  const bare = await start('bare-server.ts');
  try {
    return await measure('bare node:http, same JSON', bare, { path: '/' });
  } finally {
    bare.child.kill();
  }
}
