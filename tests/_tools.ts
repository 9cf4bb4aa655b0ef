/**
 * Finding the Debian tools that interop tests drive. A missing tool skips its tests with the
 * reason in the test name, except under CI=true, where the test runs and fails.
 * @module
 */

/** Whether this run has a permission (`deno test --allow-net` alone has only the network). */
export function granted(name: "read" | "write" | "run" | "env" | "net"): boolean {
  return Deno.permissions.querySync({ name }).state === "granted";
}

/** Whether this run is CI, where nothing may be skipped. */
export const IN_CI = granted("env") && Deno.env.get("CI") === "true";

/**
 * Test definition fields for a test that needs more than the network: ignored, with the reason in
 * its name, under `deno test --allow-net` alone (never under CI, which runs the full command).
 */
export function needsPermissions(
  permissions: readonly ("read" | "write" | "run" | "env")[],
  name: string,
): { name: string; ignore: boolean } {
  const missing = permissions.filter((permission) => !granted(permission));
  if (missing.length === 0 || IN_CI) return { name, ignore: false };
  return { name: `${name} [skipped: needs ${missing.map((p) => `--allow-${p}`).join(" ")}]`, ignore: true };
}

/** The absolute path of an executable on PATH (or in the sbin folders), or null. */
export function findTool(name: string): string | null {
  if (!granted("read") || !granted("env")) return null;
  const dirs = (Deno.env.get("PATH") ?? "").split(":").concat(["/usr/sbin", "/usr/local/sbin", "/sbin"]);
  for (const dir of dirs) {
    if (!dir) continue;
    const path = `${dir}/${name}`;
    try {
      const info = Deno.statSync(path);
      if (info.isFile && info.mode !== null && (info.mode & 0o111) !== 0) return path;
    } catch {
      // not in this folder
    }
  }
  return null;
}

/**
 * Test definition fields for a test that needs `tool`: ignored (with the reason in its name)
 * when the tool is missing outside CI.
 */
export function needsTool(tool: string, name: string): { name: string; ignore: boolean } {
  const permissions = needsPermissions(["read", "write", "run", "env"], name);
  if (permissions.ignore) return permissions;
  const found = findTool(tool) !== null;
  if (found) return { name, ignore: false };
  if (IN_CI) return { name: `${name} [${tool} is missing: install it]`, ignore: false };
  return { name: `${name} [skipped: ${tool} is not installed]`, ignore: true };
}
