import { rejects } from "node:assert/strict";
import { test, withLimit } from "./_limit.ts";

test("withLimit() fails a test that hangs, naming it", async () => {
  const hangs = withLimit("a hanging test", 50, () => new Promise<void>(() => {}));
  await rejects(hangs({} as Deno.TestContext), /"a hanging test" did not finish within 50 ms/);
});

test("withLimit() passes a test that finishes in time, and its failure through", async () => {
  await withLimit("quick", 1_000, async () => {})({} as Deno.TestContext);
  await rejects(
    withLimit("fails", 1_000, () => Promise.reject(new Error("its own failure")))({} as Deno.TestContext),
    /its own failure/,
  );
});
