/**
 * Finding and running the Debian tools that interop tests drive. A missing tool skips its tests
 * with the reason in the test name, except under CI=true, where the test runs and fails.
 * @module
 */

/** Whether this run has a permission (`deno test --allow-net` alone has only the network). */
export function granted(name: "read" | "write" | "run" | "env" | "net" | "ffi"): boolean {
  return Deno.permissions.querySync({ name }).state === "granted";
}

/** Whether this run is CI, where nothing may be skipped. */
export const IN_CI = granted("env") && Deno.env.get("CI") === "true";

/**
 * Test definition fields for a test that needs more than the network: ignored, with the reason in
 * its name, under `deno test --allow-net` alone (never under CI, which runs the full command).
 */
export function needsPermissions(
  permissions: readonly ("read" | "write" | "run" | "env" | "ffi")[],
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

/** What a finished command printed, and its exit code. */
export interface Finished {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` to completion with no stdin (in `cwd` if given), killing it after `ms`. */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: { readonly cwd?: URL; readonly ms: number },
): Promise<Finished> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.ms);
  try {
    const output = await new Deno.Command(command, {
      args: [...args],
      ...(options.cwd ? { cwd: options.cwd } : {}),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
      // A deno child must never look up Deno's servers for a newer release.
      env: { DENO_NO_UPDATE_CHECK: "1" },
    }).output();
    const decoder = new TextDecoder();
    return {
      code: output.code,
      stdout: decoder.decode(output.stdout),
      stderr: decoder.decode(output.stderr),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs an installed tool (dig, kdig) to completion, killing it after `ms`; returns its stdout, and
 * fails unless it exits 0.
 */
export async function runTool(tool: string, args: readonly string[], ms = 10_000): Promise<string> {
  const path = findTool(tool);
  if (!path) throw new Error(`${tool} is not installed`);
  const { code, stdout, stderr } = await runCommand(path, args, { ms });
  if (code !== 0) throw new Error(`${tool} ${args.join(" ")} exited ${code}:\n${stdout}${stderr}`);
  return stdout;
}

/**
 * The definition of a test that serves DNS on `address`:53 (as Zonemaster needs): itself, or
 * skipped with the reason when port 53 cannot be bound there (not root, no CAP_NET_BIND_SERVICE),
 * except under CI, where it runs and fails.
 */
export function needsPort53(address: string, name: string): { name: string; ignore: boolean } {
  if (IN_CI) return { name, ignore: false };
  try {
    Deno.listenDatagram({ transport: "udp", hostname: address, port: 53 }).close();
    return { name, ignore: false };
  } catch {
    return { name: `${name} [skipped: cannot bind port 53 on ${address}: run as root]`, ignore: true };
  }
}
