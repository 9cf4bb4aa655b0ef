/**
 * The clock the forwarding path reads once per turn.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { turnClock } from "../../lib/upstream/turn_clock.ts";

test("turnClock() reads once until the microtasks queued so far have run", async () => {
  let time = 100;
  let reads = 0;
  const now = turnClock(() => (reads++, time));
  equal(now(), 100);
  time = 105;
  equal(now(), 100, "the same turn: the kept value");
  equal(reads, 1);
  await Promise.resolve(); // the microtasks queued before this one have run: a new read
  equal(now(), 105);
  time = 110;
  await new Promise((resolve) => setTimeout(resolve, 0)); // a new task: a new read
  deepEqual([now(), reads], [110, 3]);
});
