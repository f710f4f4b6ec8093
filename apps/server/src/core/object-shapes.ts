import v8 from 'node:v8';
import vm from 'node:vm';

/*
 * Why this file exists. V8 gives every object made as `{}` the same starting map (hidden class),
 * and that map keeps a bounded list of transitions: one per name an empty object has been given as
 * its first property, up to about 1,500. Building the app compiles hundreds of JSON schemas, and the
 * compilers' scratch objects each get a first property of a name of their own (Ajv's `validate12`,
 * `_errs7`; fast-json-stringify's `__fjs_root_345`): the list fills up. A transition whose objects
 * have all died is dropped only at the next full garbage collection, and until then an object whose
 * transition is not on the list gets a map of its own, made in V8's runtime, every time. A request's
 * header object is one (perf: about 3% of the server's CPU on a one-row read); one collection after
 * start-up made that read 6–9% cheaper in server CPU (alternating runs, both start orders).
 * Node's `process.nextTick` record (about seven per request) still takes V8's slow path (7.7%): a
 * record kept alive from the first line of the process removed it in an experiment, but why its
 * transition goes is not understood well enough yet to test a fix.
 */

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
