/**
 * A missing Deno permission, said in one line: which `--allow-*` flag the run needs. Pure.
 * @module
 */

/**
 * The one line for an error that says a permission flag is missing (`Deno.errors.NotCapable`,
 * whose message ends "run again with the --allow-net flag"), or null for any other error.
 * @example missingPermission(new Deno.errors.NotCapable('Requires net access to "127.0.0.1:53", run again with the --allow-net flag'))
 * // 'needs --allow-net: Requires net access to "127.0.0.1:53" (deno run --allow-net ...; see docs/deployment.md)'
 */
export function missingPermission(error: unknown): string | null {
  if (!(error instanceof Deno.errors.NotCapable)) return null;
  const first = error.message.split("\n")[0]!;
  const flag = /run again with the (--allow-[a-z-]+) flag/.exec(first)?.[1];
  const what = first.replace(/, run again with .*$/, "");
  return flag
    ? `needs ${flag}: ${what} (deno run ${flag} ...; see docs/deployment.md)`
    : `a permission is missing: ${what} (see docs/deployment.md)`;
}
