import { startServerProcess } from './process.js';

export interface CrashRun {
  acknowledged: string[];
  /** Acknowledged writes the restarted server cannot find: must be empty. */
  missing: string[];
}

/**
 * Every write that returned 2xx survives a crash: the real server process takes `writers`
 * concurrent writes, is killed with SIGKILL once a random number of them (between `killAfter`
 * bounds) has been acknowledged, and restarts on the same data; after the last cycle every
 * acknowledged write must be served.
 */
export async function crashCycles(databaseUrl: string, options: { cycles: number; writers: number; killAfter: [number, number] }): Promise<CrashRun> {
  const env = { DATABASE_URL: databaseUrl };
  const acknowledged: string[] = [];
  for (let cycle = 0; cycle < options.cycles; cycle++) {
    const server = await startServerProcess(env);
    let killed = false;
    const writer = async (w: number) => {
      for (let i = 0; !killed && i < 100_000; i++) {
        try {
          const res = await fetch(`${server.baseUrl}/api/v1/widgets`, {
            method: 'POST',
            headers: { authorization: 'Bearer test:usr_durable', 'content-type': 'application/json' },
            body: JSON.stringify({ name: `c${cycle}-w${w}-${i}`, size: i % 1000 }),
          });
          if (res.status === 201) acknowledged.push(((await res.json()) as { id: string }).id);
          else await res.text();
        } catch {
          return; // the connection died with the process: this write was never acknowledged
        }
      }
    };
    const writers = Array.from({ length: options.writers }, (_, w) => writer(w));
    const [min, max] = options.killAfter;
    const target = acknowledged.length + min + Math.floor(Math.random() * (max - min));
    while (acknowledged.length < target) await new Promise((resolve) => setImmediate(resolve));
    server.child.kill('SIGKILL');
    killed = true;
    if ((await server.exited) !== 'SIGKILL') throw new Error('the server did not die by SIGKILL');
    await Promise.all(writers);
  }

  const server = await startServerProcess(env);
  try {
    const missing: string[] = [];
    for (let i = 0; i < acknowledged.length; i += 100) {
      const batch = acknowledged.slice(i, i + 100);
      const statuses = await Promise.all(batch.map(async (id) => (await fetch(`${server.baseUrl}/api/v1/widgets/${id}`, { headers: { authorization: 'Bearer test:usr_durable' } })).status));
      statuses.forEach((status, j) => status !== 200 && missing.push(batch[j]!));
    }
    return { acknowledged, missing };
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
}
