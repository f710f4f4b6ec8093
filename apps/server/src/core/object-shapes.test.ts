import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const shapes = fileURLToPath(new URL('./object-shapes.ts', import.meta.url));

/**
 * Runs `body` in a fresh Node process that may ask V8 whether two objects share a map
 * (`sameMap`), and returns what it prints. `fill` fills the list of transitions from `{}`'s map the
 * way building the app does: with objects each given a first property of a name of their own.
 */
async function inFreshProcess(body: string): Promise<string> {
  const script = `
    const { collectStartupGarbage } = await import(${JSON.stringify(shapes)});
    const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)');
    const fill = (prefix) => { for (let i = 0; i < 3000; i++) { const o = {}; o[prefix + i] = i; } };
    ${body}
  `;
  const { stdout } = await run(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script]);
  return stdout.trim();
}

describe('object shapes on hot paths', () => {
  it('a listening app gives objects with a new first property a shared map (a request\'s headers)', async () => {
    const app = fileURLToPath(new URL('../app.ts', import.meta.url));
    const config = fileURLToPath(new URL('./config/config.ts', import.meta.url));
    const output = await inFreshProcess(`
      const { mkdtempSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { buildApp } = await import(${JSON.stringify(app)});
      const { loadConfig } = await import(${JSON.stringify(config)});
      const dataDir = mkdtempSync(tmpdir() + '/lyceum-shapes-');
      const lyceum = await buildApp({ logger: false, config: loadConfig({ cwd: dataDir, env: { NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent' } }) });
      await lyceum.listen();
      const headers = [{}, {}];
      headers[0]['x-new-first-header'] = 'a';
      headers[1]['x-new-first-header'] = 'b';
      console.log(sameMap(headers[0], headers[1]));
      await lyceum.close();
      rmSync(dataDir, { recursive: true, force: true });
    `);
    expect(output).toBe('true');
  });

  it('collectStartupGarbage makes room for new shapes after start-up garbage filled the list', async () => {
    const output = await inFreshProcess(`
      fill('scratch');
      const before = [{}, {}]; before[0].host = 'a'; before[1].host = 'b';
      collectStartupGarbage();
      const after = [{}, {}]; after[0].accept = 'a'; after[1].accept = 'b';
      console.log(sameMap(before[0], before[1]), sameMap(after[0], after[1]));
    `);
    expect(output).toBe('false true');
  });
});
