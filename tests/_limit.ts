/**
 * `Deno.test` with a time limit: a test that has not settled after its limit fails with its own
 * name, so a hang costs seconds rather than the CI run. Deno's test runner has no per-test
 * timeout, hence this wrapper; every test file registers its tests through {@link test}.
 * @module
 */

/** The limit for a test that names none; generous, since CI machines are slow and shared. */
export const DEFAULT_LIMIT_MS = 60_000;

/** A test definition with an optional limit of its own, in milliseconds. */
export type LimitedDefinition = Deno.TestDefinition & { readonly timeoutMs?: number };
type TestFn = (t: Deno.TestContext) => void | Promise<void>;
type Options = Omit<LimitedDefinition, "name" | "fn">;

/**
 * Runs `fn`, failing when it has not settled after `limitMs`. The timer is cleared either way, so
 * it never trips the op sanitizer of a test that finished in time.
 */
export function withLimit(name: string, limitMs: number, fn: TestFn): (t: Deno.TestContext) => Promise<void> {
  return async function limited(t) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`"${name}" did not finish within ${limitMs} ms (see tests/_limit.ts)`)),
        limitMs,
      );
    });
    try {
      await Promise.race([Promise.resolve().then(() => fn(t)), expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Registers a test as `Deno.test` does, with a time limit (`timeoutMs`, else {@link DEFAULT_LIMIT_MS}). */
export function test(definition: LimitedDefinition): void;
export function test(name: string, fn: TestFn): void;
export function test(name: string, options: Options, fn: TestFn): void;
export function test(options: Options & { readonly name: string }, fn: TestFn): void;
export function test(
  first: LimitedDefinition | (Options & { readonly name: string }) | string,
  second?: TestFn | Options,
  third?: TestFn,
): void {
  let definition: LimitedDefinition;
  if (typeof first === "string") {
    definition = typeof second === "function"
      ? { name: first, fn: second }
      : { ...second, name: first, fn: third! };
  } else if (typeof second === "function") {
    definition = { ...first, fn: second };
  } else {
    definition = first as LimitedDefinition;
  }
  const { timeoutMs = DEFAULT_LIMIT_MS, ...rest } = definition;
  Deno.test({ ...rest, fn: withLimit(rest.name, timeoutMs, rest.fn) });
}
