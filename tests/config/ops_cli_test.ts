/**
 * The command line's rough edges (issue 13, section 8): negative numbers say what is allowed,
 * `-h` is `--help`, a missing data file names its flag, a missing permission is one line naming
 * the `--allow-*` flag, `--help` tells the truth about `--port` and upstream order, and nothing
 * the project runs or documents lets Deno look up its servers for updates.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { parseCommand, USAGE, UsageError } from "../../lib/config/cli.ts";
import { missingPermission } from "../../lib/config/permissions.ts";
import { runDnsd } from "../_dnsd_process.ts";
import { needsPermissions } from "../_tools.ts";

const negative = [
  { args: ["--port", "-1"], message: '--port: "-1" is not a port number (0-65535)' },
  { args: ["--port=-53"], message: '--port: "-53" is not a port number (0-65535)' },
  { args: ["--timeout", "-5"], message: '--timeout: "-5" is not a whole number of milliseconds (1-600000)' },
  { args: ["--cache-size", "-1"], message: '--cache-size: "-1" is not a whole number from 0 to 100000000' },
  { args: ["--max-ttl", "-0.5"], message: '--max-ttl: "-0.5" is not a whole number from 0 to 2147483647' },
  { args: ["--host", "127.0.0.1", "--port", "-1"], message: '--port: "-1" is not a port number (0-65535)' },
] as const;

for (const { args, message } of negative) {
  test(`parseCommand(${args.join(" ")}) says what is allowed, not "argument is ambiguous"`, () => {
    assert.throws(() => parseCommand(args), (e) => e instanceof UsageError && e.message === message);
  });
}

test("parseCommand() still refuses a flag where a value should be", () => {
  assert.throws(() => parseCommand(["--port", "--timeout", "5"]), UsageError);
});

test("parseCommand() reads -h as --help", () => {
  assert.deepEqual(parseCommand(["-h"]), { kind: "help" });
});

test("--help says --port is UDP and TCP, and that --upstream-strategy orders the upstreams", () => {
  assert.match(USAGE, /^ {2}--port PORT {10}UDP and TCP port/m);
  assert.match(
    USAGE,
    /--upstream HOST\[:PORT\]\n\s+upstream resolver; repeatable; tried in the order that\n\s+--upstream-strategy sets/,
  );
  assert.doesNotMatch(USAGE, /tried in the order given/);
  assert.match(USAGE, /^ {2}-h, --help/m);
  assert.match(USAGE, /--host HOST\[:PORT\] +address to listen on, UDP and TCP; repeatable/);
});

const permissionErrors = [
  {
    message: 'Requires net access to "127.0.0.1:2053", run again with the --allow-net flag',
    want:
      'needs --allow-net: Requires net access to "127.0.0.1:2053" (deno run --allow-net ...; see docs/deployment.md)',
  },
  {
    message: 'Requires read access to "/etc/dnsd/home.hosts", run again with the --allow-read flag',
    want:
      'needs --allow-read: Requires read access to "/etc/dnsd/home.hosts" (deno run --allow-read ...; see docs/deployment.md)',
  },
] as const;

for (const { message, want } of permissionErrors) {
  test(`missingPermission() says which flag: ${message.slice(0, 30)}...`, () => {
    assert.equal(missingPermission(new Deno.errors.NotCapable(message)), want);
  });
}

test("missingPermission() is null for any other error", () => {
  assert.equal(missingPermission(new Deno.errors.NotFound("x")), null);
  assert.equal(missingPermission("text"), null);
});

// ---------------------------------------------------------------------------------------------
// main.ts in a subprocess

/** stderr has no stack trace: no "    at " line, no "error: Uncaught". */
function noStackTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, stderr);
  assert.doesNotMatch(stderr, /Uncaught/, stderr);
}

const runs = [
  {
    name: "dnsd -h prints the usage and exits 0",
    args: ["-h"],
    permissions: ["--allow-read"],
    code: 0,
    stderr: null,
  },
  {
    name: "dnsd --port -1 exits 2 saying what a port is",
    args: ["--port", "-1"],
    permissions: ["--allow-read"],
    code: 2,
    stderr: 'dnsd: --port: "-1" is not a port number (0-65535) (see --help)',
  },
  {
    name: "dnsd with a missing zone file exits 1 naming --zone",
    args: ["--zone", "/nonexistent/home.arpa.zone", "--port", "0"],
    permissions: ["--allow-read", "--allow-net", "--allow-ffi"],
    code: 1,
    stderr: "dnsd: --zone /nonexistent/home.arpa.zone: not found (no such file)",
  },
  {
    name: "dnsd with a missing hosts file exits 1 naming --hosts",
    args: ["--hosts", "/nonexistent/home.hosts", "--port", "0"],
    permissions: ["--allow-read", "--allow-net", "--allow-ffi"],
    code: 1,
    stderr: "dnsd: --hosts /nonexistent/home.hosts: not found (no such file)",
  },
  {
    name: "dnsd --check fails a --host name that /etc/hosts lacks, as starting would",
    args: ["--host", "no-such-name.invalid", "--check"],
    permissions: ["--allow-read", "--allow-net", "--allow-ffi"],
    code: 1,
    stderr: /^dnsd: --host no-such-name\.invalid: not an IP address, and \/etc\/hosts has no such name/,
  },
  {
    name: "dnsd --check fails --metrics on the port DNS over TCP listens on, as starting would",
    args: ["--port", "5399", "--metrics", "5399", "--check"],
    permissions: ["--allow-read", "--allow-net", "--allow-ffi"],
    code: 1,
    stderr: "dnsd: --metrics 127.0.0.1:5399: DNS over TCP listens on 127.0.0.1:5399",
  },
  {
    name: "dnsd --check fails a --query-log in a directory that does not exist, as starting would",
    args: ["--query-log", "/nonexistent/queries.log", "--check"],
    permissions: ["--allow-read", "--allow-net", "--allow-ffi"],
    code: 1,
    stderr: "dnsd: --query-log: cannot open /nonexistent/queries.log: no directory /nonexistent",
  },
  {
    // A directory where a file belongs: the flag and the reason, not Deno's "readfile '...'" call.
    name: "dnsd with a directory as its zone file exits 1 naming --zone and why",
    args: ["--zone", "/", "--port", "0"],
    permissions: ["--allow-read", "--allow-net", "--allow-ffi"],
    code: 1,
    stderr: /^dnsd: --zone \/: cannot read it: Is a directory \(os error 21\)$/,
  },
  {
    name: "dnsd without --allow-net exits 1 with one line naming --allow-net",
    args: ["--port", "0"],
    permissions: ["--allow-read"],
    code: 1,
    stderr:
      'dnsd: needs --allow-net: Requires net access to "127.0.0.1:0" (deno run --allow-net ...; see docs/deployment.md)',
  },
  {
    name: "dnsd without --allow-read exits 1 with one line naming --allow-read",
    args: ["--port", "0"],
    permissions: ["--allow-net"],
    code: 1,
    stderr:
      /^dnsd: needs --allow-read: Requires read access to ".*mappings\.ts" \(deno run --allow-read \.\.\.;/,
  },
  {
    name: "dnsd --host with a name /etc/hosts lacks exits 1 with one line",
    args: ["--host", "no-such-name.invalid", "--port", "0"],
    permissions: ["--allow-read", "--allow-net"],
    code: 1,
    stderr: "dnsd: --host no-such-name.invalid: not an IP address, and /etc/hosts has no such name " +
      "(names are not looked up in the DNS at start-up)",
  },
] as const;

for (const run of runs) {
  test(needsPermissions(["run", "read"], run.name), async () => {
    const { code, stdout, stderr } = await runDnsd(run.args, run.permissions);
    assert.equal(code, run.code, stderr);
    noStackTrace(stderr);
    if (run.stderr === null) {
      assert.match(stdout, /^Usage: dnsd \[options\]/);
      return;
    }
    const last = stderr.trimEnd().split("\n").at(-1)!;
    if (typeof run.stderr === "string") assert.equal(last, run.stderr, stderr);
    else assert.match(last, run.stderr, stderr);
  });
}

// ---------------------------------------------------------------------------------------------
// Never phoning home

const ROOT = new URL("../../", import.meta.url);

test(needsPermissions(["read"], "deno task start, test and compile set DENO_NO_UPDATE_CHECK=1"), async () => {
  const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks as Record<
    string,
    string
  >;
  for (const name of ["start", "test", "compile"]) {
    assert.ok(tasks[name]?.startsWith("DENO_NO_UPDATE_CHECK=1 deno "), `${name}: ${tasks[name]}`);
  }
});

test(
  needsPermissions(
    ["read"],
    "the deployment docs set DENO_NO_UPDATE_CHECK=1 on every deno run, and no example uses 5353",
  ),
  async () => {
    for (const file of ["docs/deployment.md", "README.md"]) {
      const text = await Deno.readTextFile(new URL(file, ROOT));
      const blocks = [...text.matchAll(/```(?:sh|ini)\n([\s\S]*?)```/g)].map((m) => m[1]!);
      for (const line of blocks.join("\n").split("\n")) {
        // `deno task ...` sets it in deno.json; a bare `deno run` or `deno compile` must set it itself.
        if (/^\s*(?:sudo )?deno (run|compile|test)\b/.test(line)) {
          assert.fail(`${file}: "${line.trim()}" runs deno without DENO_NO_UPDATE_CHECK=1`);
        }
        // 5353 is mDNS (RFC 6762): an example must not listen there.
        assert.doesNotMatch(line, /--port 5353|-p 5353/, `${file}: ${line}`);
      }
    }
  },
);
