/**
 * contrib/systemd/dnsd.service: `systemd-analyze verify` accepts it with no warning, and it holds
 * the settings docs/deployment.md promises (and not MemoryDenyWriteExecute=, which V8 cannot run
 * under). verify also checks that ExecStart='s binary exists, and /usr/local/bin/dnsd does not on a
 * test machine: so a copy of the unit, with ExecStart= naming a stub executable in a temporary
 * folder, is what is verified. Skipped without systemd-analyze, except under CI=true.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { findTool, needsPermissions, needsTool, runCommand } from "../_tools.ts";

const UNIT = new URL("../../contrib/systemd/dnsd.service", import.meta.url);
const BINARY = "/usr/local/bin/dnsd";

/** The unit's `Key=value` lines of one section. */
function section(text: string, name: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1]!;
      continue;
    }
    if (current !== name) continue;
    const eq = line.indexOf("=");
    keys.set(line.slice(0, eq), [...(keys.get(line.slice(0, eq)) ?? []), line.slice(eq + 1)]);
  }
  return keys;
}

const required = [
  ["DynamicUser", "yes"],
  ["AmbientCapabilities", "CAP_NET_BIND_SERVICE"],
  ["CapabilityBoundingSet", "CAP_NET_BIND_SERVICE"],
  ["ProtectSystem", "strict"],
  ["ProtectHome", "yes"],
  ["PrivateTmp", "yes"],
  ["NoNewPrivileges", "yes"],
  ["RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"],
  ["SystemCallFilter", "@system-service"],
  ["ExecReload", "/bin/kill -HUP $MAINPID"],
  ["Environment", "DENO_NO_UPDATE_CHECK=1"],
  ["ExecStart", `${BINARY} --config /etc/dnsd/dnsd.toml`],
] as const;

for (const [key, value] of required) {
  test(needsPermissions(["read"], `dnsd.service sets ${key}=${value}`), async () => {
    const service = section(await Deno.readTextFile(UNIT), "Service");
    assert.ok(service.get(key)?.includes(value), `${key}= is ${JSON.stringify(service.get(key))}`);
  });
}

test(
  needsPermissions(
    ["read"],
    "dnsd.service does not set MemoryDenyWriteExecute= (V8 compiles code), and says why",
  ),
  async () => {
    const text = await Deno.readTextFile(UNIT);
    assert.equal(section(text, "Service").has("MemoryDenyWriteExecute"), false);
    assert.match(text, /^# MemoryDenyWriteExecute= is NOT set: V8 compiles JavaScript/m);
  },
);

test(
  needsTool("systemd-analyze", "systemd-analyze verify accepts dnsd.service with no warning"),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "dnsd-unit-" });
    try {
      const stub = `${dir}/dnsd`;
      await Deno.writeTextFile(stub, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
      const text = await Deno.readTextFile(UNIT);
      assert.ok(text.includes(`ExecStart=${BINARY} `));
      await Deno.writeTextFile(
        `${dir}/dnsd.service`,
        text.replaceAll(`ExecStart=${BINARY} `, `ExecStart=${stub} `),
      );
      const { code, stdout, stderr } = await runCommand(findTool("systemd-analyze")!, [
        "verify",
        `${dir}/dnsd.service`,
      ], { ms: 20_000 });
      assert.equal(code, 0, stderr);
      // An unknown or misspelt key is only a warning: verify still exits 0. Any output fails.
      assert.equal(stderr.trim(), "", stderr);
      assert.equal(stdout.trim(), "", stdout);

      // And the check can fail: a misspelt key is reported.
      await Deno.writeTextFile(
        `${dir}/dnsd.service`,
        text.replace("NoNewPrivileges=yes", "NoNewPrivilege=yes")
          .replaceAll(`ExecStart=${BINARY} `, `ExecStart=${stub} `),
      );
      const bad = await runCommand(findTool("systemd-analyze")!, ["verify", `${dir}/dnsd.service`], {
        ms: 20_000,
      });
      assert.match(bad.stderr, /Unknown key 'NoNewPrivilege'/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
