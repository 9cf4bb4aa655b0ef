/**
 * The floor of a Deno process's memory: a script that does nothing but stay alive. The memory
 * benchmark (bench/memory.ts) reads its RSS beside dnsd's idle RSS, as what no program run by
 * `deno run` goes below. Writes "ready" to stderr, then waits until it is stopped.
 * @module
 */
Deno.stderr.writeSync(new TextEncoder().encode("ready\n"));
// A promise that never settles would not keep Deno alive (the event loop ends); a timer does.
setInterval(() => {}, 2 ** 30);
