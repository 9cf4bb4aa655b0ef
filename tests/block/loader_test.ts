/**
 * The list loader with injected files: blocklists and allowlists read into one policy, a missing
 * file reported naming its flag (and nothing loaded), unreadable lines logged once per file with
 * file:line, and an unchanged set of files giving back the same policy without parsing again.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { isBlocked, listLoader } from "../../lib/block/mod.ts";
import { logged } from "../_log_capture.ts";

function reader(files: Record<string, string>): (path: string) => Promise<string> {
  return (path) =>
    path in files ? Promise.resolve(files[path]!) : Promise.reject(new Deno.errors.NotFound(`no ${path}`));
}

test("listLoader() reads blocklists and allowlists into one policy", async () => {
  const load = listLoader({
    read: reader({
      "a.txt": "0.0.0.0 ads.example\n",
      "b.txt": "||tracker.example^\n",
      "ok.txt": "ok.ads.example\n",
    }),
  });
  const loaded = await load({ blocklists: ["a.txt", "b.txt"], allowlists: ["ok.txt"], mode: "nxdomain" });
  assert.deepEqual(loaded.errors, []);
  assert.deepEqual(loaded.files, ["a.txt", "b.txt", "ok.txt"]);
  assert.equal(loaded.policy.mode, "nxdomain");
  assert.equal(isBlocked(loaded.policy.lists, "www.ads.example"), true);
  assert.equal(isBlocked(loaded.policy.lists, "x.tracker.example"), true);
  assert.equal(isBlocked(loaded.policy.lists, "ok.ads.example"), false);
});

test("listLoader() reports a missing file with its flag, and loads nothing", async () => {
  const load = listLoader({ read: reader({ "a.txt": "ads.example\n" }) });
  const loaded = await load({ blocklists: ["a.txt"], allowlists: ["gone.txt"], mode: "null" });
  assert.deepEqual(loaded.errors.map((error) => error.message), ["--allowlist gone.txt: no such file"]);
  assert.equal(isBlocked(loaded.policy.lists, "ads.example"), false);
});

test("listLoader() logs a file's unreadable lines once, with file:line of the first three and the count", async () => {
  const text = ["ads.example", "@@||a^", "/re/", "b.example##x", "*.c", "ok.example"].join("\n");
  const load = listLoader({ read: reader({ "l.txt": text }) });
  const logs = await logged(async () => {
    await load({ blocklists: ["l.txt"], allowlists: [], mode: "null" });
  });
  const warnings = logs.filter((line) => line.includes("could not be read"));
  assert.equal(warnings.length, 1, logs.join("\n"));
  assert.match(warnings[0]!, /l\.txt: 4 lines could not be read/);
  assert.match(warnings[0]!, /l\.txt:2 .*l\.txt:3 .*l\.txt:4 /);
  assert.doesNotMatch(warnings[0]!, /l\.txt:5/);
});

test("listLoader() gives back the same policy while the files and mode are unchanged", async () => {
  const files = { "a.txt": "ads.example\n" };
  const load = listLoader({ read: reader(files) });
  const sources = { blocklists: ["a.txt"], allowlists: [], mode: "null" } as const;
  const first = await load(sources);
  assert.equal((await load(sources)).policy, first.policy);
  assert.notEqual((await load({ ...sources, mode: "refused" })).policy, first.policy);
  files["a.txt"] = "other.example\n";
  const changed = await load(sources);
  assert.equal(isBlocked(changed.policy.lists, "other.example"), true);
  assert.equal(isBlocked(changed.policy.lists, "ads.example"), false);
});
