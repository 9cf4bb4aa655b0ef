/**
 * `--dnssec` and `--trust-anchor FILE`: what the command line records, what is read at start-up,
 * and the one line a bad anchor file gets (file:line, exit status 1), from the process itself.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, match, throws } from "node:assert/strict";
import { ConfigFileError, dnssecSettings, loadTrustAnchors, parseCommand } from "../../lib/config/mod.ts";
import { ROOT_ANCHORS } from "../../lib/dnssec/mod.ts";
import { runDnsd } from "../_dnsd_process.ts";
import { needsPermissions } from "../_tools.ts";

const FILES: Readonly<Record<string, string>> = {
  "good.anchors": [
    "; a DS and a DNSKEY, as unbound's trust-anchor-file",
    "example.  3600 IN DS 31589 8 2 cde0d742d6998aa554a92d890f8184c698cfac8a26fa59875a990c03e576343c",
    "example.  IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==",
  ].join("\n"),
  "bad.anchors": "example. IN DS 31589 8 2 cde0\nexample. IN A 192.0.2.1\n",
  "empty.anchors": "; nothing here\n",
};

const read = (path: string) => {
  const text = FILES[path];
  if (text === undefined) throw new Deno.errors.NotFound(path);
  return text;
};

test("--dnssec and --trust-anchor: off by default, the root's anchors alone, a file's instead", () => {
  const serve = (args: string[]) => {
    const command = parseCommand(args);
    if (command.kind !== "serve") throw new Error("not a serve command");
    return command.validation;
  };
  equal(serve([]), null);
  deepEqual(serve(["--dnssec"]), { anchorFiles: [] });
  deepEqual(serve(["--trust-anchor", "a", "--trust-anchor", "b"]), { anchorFiles: ["a", "b"] });
  equal(loadTrustAnchors(dnssecSettings(true, [])!, read), ROOT_ANCHORS);
  deepEqual(
    loadTrustAnchors({ anchorFiles: ["good.anchors"] }, read).map(({ name, data }) => `${name} ${data.type}`),
    ["example DS", "example DNSKEY"],
  );
});

test("loadTrustAnchors() refuses a bad file with one line naming it", () => {
  const cases: [string, RegExp][] = [
    ["bad.anchors", /^bad\.anchors:2:\d+: /],
    ["empty.anchors", /^--trust-anchor empty\.anchors: no DS or DNSKEY record$/],
    ["missing.anchors", /^--trust-anchor missing\.anchors: no such file$/],
  ];
  for (const [file, message] of cases) {
    throws(() => loadTrustAnchors({ anchorFiles: [file] }, read), (error: unknown) => {
      return error instanceof ConfigFileError && message.test(error.message) && !error.message.includes("\n");
    }, file);
  }
});

test(
  needsPermissions(
    ["run", "write"],
    "dnsd --trust-anchor with a bad file stops at start-up: one line, status 1",
  ),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "dnsd_anchor_" });
    try {
      const file = `${dir}/bad.anchors`;
      await Deno.writeTextFile(file, FILES["bad.anchors"]!);
      const { code, stderr } = await runDnsd(["--port", "0", "--trust-anchor", file]);
      equal(code, 1);
      const lines = stderr.trim().split("\n");
      match(lines.at(-1)!, new RegExp(`^dnsd: ${file.replaceAll("/", "\\/")}:2:\\d+: `));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
