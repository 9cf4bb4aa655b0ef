/**
 * watchFiles() on real files in a temporary folder: a file written in pieces is acted on once,
 * only after it has stayed unchanged for the settle time, and files it does not watch are ignored.
 * @module
 */
import { test } from "../_limit.ts";
import { equal, ok } from "node:assert/strict";
import { watchFiles } from "../../lib/zone/watch.ts";
import { needsPermissions } from "../_tools.ts";

const SETTLE_MS = 400;
const PIECE_EVERY_MS = 150;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn` with a fresh temporary folder; always removes it. */
async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dnsd_watch_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

test({
  ...needsPermissions(["read", "write"], "watchFiles() waits until a file written in pieces has settled"),
  timeoutMs: 10_000,
}, async () => {
  await withDir(async (dir) => {
    const file = `${dir}/a.zone`;
    await Deno.writeTextFile(file, "old\n");
    const calls: number[] = [];
    const watch = watchFiles([file], () => calls.push(performance.now()), SETTLE_MS);
    try {
      await sleep(100); // the watch is in place
      const handle = await Deno.open(file, { write: true, truncate: true });
      let lastWrite = 0;
      try {
        // Six pieces, 150 ms apart: each gap is shorter than the settle time, the whole write longer.
        for (let i = 0; i < 6; i++) {
          await handle.write(new TextEncoder().encode(`piece ${i}\n`));
          lastWrite = performance.now();
          await sleep(PIECE_EVERY_MS);
        }
      } finally {
        handle.close();
      }
      equal(calls.length, 0, "acted on before the write ended");
      await sleep(SETTLE_MS + 600);
      equal(calls.length, 1);
      ok(
        calls[0]! - lastWrite >= SETTLE_MS - 20,
        `acted on ${calls[0]! - lastWrite} ms after the last write`,
      );
    } finally {
      watch.close();
    }
  });
});

test({
  ...needsPermissions(
    ["read", "write"],
    "watchFiles() ignores other files in the folder, and stops on close()",
  ),
  timeoutMs: 10_000,
}, async () => {
  await withDir(async (dir) => {
    const file = `${dir}/hosts`;
    await Deno.writeTextFile(file, "192.0.2.1 a.lan\n");
    let calls = 0;
    const watch = watchFiles([file], () => calls++, 100);
    try {
      await sleep(100);
      await Deno.writeTextFile(`${dir}/other`, "x\n");
      await sleep(400);
      equal(calls, 0);
      await Deno.writeTextFile(file, "192.0.2.2 a.lan\n");
      watch.close(); // before the settle time is up: nothing is called
      await sleep(400);
      equal(calls, 0);
    } finally {
      watch.close();
    }
  });
});
