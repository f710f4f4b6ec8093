import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const shapes = fileURLToPath(new URL('./object-shapes.ts', import.meta.url));

/**
 * Runs `body` in a fresh Node process that may ask V8 whether two objects share a map
 * (`sameMap`) and print a function's inline-cache states (`printFeedback`), and returns its
 * output. `fill` fills the list of transitions from `{}`'s map the way building the app does: with
 * objects each given a first property of a name of their own.
 */
async function inFreshProcess(body: string): Promise<string> {
  const script = `
    const { collectStartupGarbage } = await import(${JSON.stringify(shapes)});
    const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)');
    const printFeedback = new Function('f', '%DebugPrint(f)');
    const fill = (prefix) => { for (let i = 0; i < 3000; i++) { const o = {}; o[prefix + i] = i; } };
    ${body}
  `;
  // Into a file, not a pipe: V8's own printing bypasses Node's streams.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lyceum-shapes-out-'));
  const file = path.join(dir, 'stdout');
  const fd = openSync(file, 'w');
  try {
    const child = spawn(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', fd, 'inherit'] });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code, 'the script ran to its end').toBe(0);
    return readFileSync(file, 'utf8').trim();
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('object shapes on hot paths', () => {
  it('in a listening app, objects with a new first property share a map and nextTick keeps its fast path', async () => {
    const app = fileURLToPath(new URL('../app.ts', import.meta.url));
    const config = fileURLToPath(new URL('./config/config.ts', import.meta.url));
    const widgets = fileURLToPath(new URL('../../test/support/widgets/widgets.module.ts', import.meta.url));
    const output = await inFreshProcess(`
      const { mkdtempSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const { buildApp } = await import(${JSON.stringify(app)});
      const { loadConfig } = await import(${JSON.stringify(config)});
      const { createWidgetsModule } = await import(${JSON.stringify(widgets)});
      const dataDir = mkdtempSync(tmpdir() + '/lyceum-shapes-');
      const env = { NODE_ENV: 'test', DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'silent' };
      const lyceum = await buildApp({ logger: false, extraModules: [createWidgetsModule], config: loadConfig({ cwd: dataDir, env }) });
      await lyceum.listen();
      const headers = [{}, {}];
      headers[0]['x-new-first-header'] = 'a';
      headers[1]['x-new-first-header'] = 'b';
      console.log('headers share a map:', sameMap(headers[0], headers[1]));
      for (let i = 0; i < 100000; i++) process.nextTick(() => undefined);
      await new Promise((resolve) => setImmediate(resolve));
      printFeedback(process.nextTick);
      await lyceum.close();
      rmSync(dataDir, { recursive: true, force: true });
    `);
    expect(output).toContain('headers share a map: true');
    // The record's literal adds its two symbol-keyed properties through these slots; megamorphic
    // means records came with maps of their own, and nextTick then takes V8's slow path for good.
    const slots = output.split('\n').filter((line) => line.includes('DefineKeyedOwnPropertyInLiteral'));
    expect(slots.length).toBeGreaterThan(0);
    expect(slots.filter((line) => line.includes('MEGAMORPHIC'))).toEqual([]);
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
