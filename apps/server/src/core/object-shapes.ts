import { createHook } from 'node:async_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

/*
 * Why this file exists. V8 gives every object made as `{}` the same starting map (hidden class),
 * and that map keeps a bounded list of transitions: one per name an empty object has been given as
 * its first property, up to about 1,500. Building the app compiles hundreds of JSON schemas, and the
 * compilers' scratch objects each get a first property of a name of their own (Ajv's `validate12`,
 * `_errs7`; fast-json-stringify's `__fjs_root_345`): the list fills up. A transition whose objects
 * have all died is dropped only at the next full garbage collection, and until then an object whose
 * transition is not on the list gets a map of its own, made in V8's runtime, every time. Two such
 * objects are made on every HTTP request: the request's header object, and Node's
 * `process.nextTick` record (about seven per request), whose code, once it has met records with maps
 * of their own, takes V8's slow path for good. perf put the two at about 3% and 8% of the server's
 * CPU on a one-row read; `holdTickShape` and `collectStartupGarbage` take them away.
 */

let heldTick: object | undefined;

/**
 * Keeps one `process.nextTick` record alive for the life of the process, so that the transition to
 * its map stays on the list however full it gets. Run before the app is built (buildApp does): the
 * record is captured with an async hook enabled for one `nextTick` call.
 */
export function holdTickShape(): void {
  if (heldTick) return;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject') heldTick ??= resource as object;
    },
  }).enable();
  process.nextTick(() => undefined);
  hook.disable();
}

/**
 * One full garbage collection once the app is built and before it serves: the schema compilers'
 * scratch objects are garbage by then, and their transitions go with them, leaving room for the
 * shapes that serving makes (a request's header object). Takes tens of milliseconds, once.
 */
export function collectStartupGarbage(): void {
  let gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    // Reaching the collector without a command-line flag (as Jest's leak detector does): the flag
    // exposes `gc` in contexts created after it is set, and only there.
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
    v8.setFlagsFromString('--no-expose-gc');
  }
  gc();
}
