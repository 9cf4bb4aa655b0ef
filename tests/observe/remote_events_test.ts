/**
 * The rate-limited log of events a remote party can cause.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { RemoteEvents } from "../../lib/observe/remote_events.ts";

function recorder() {
  const lines: [string, string, Record<string, unknown>][] = [];
  const logger = {
    info: (message: string, properties?: Record<string, unknown>) =>
      lines.push(["info", message, properties ?? {}]),
    warning: (message: string, properties?: Record<string, unknown>) =>
      lines.push(["warning", message, properties ?? {}]),
    error: (message: string, properties?: Record<string, unknown>) =>
      lines.push(["error", message, properties ?? {}]),
  };
  return { lines, logger };
}

test("RemoteEvents logs one line per kind per interval and counts every event", () => {
  let time = 0;
  const { lines, logger } = recorder();
  const events = new RemoteEvents(logger, { intervalMs: 10_000, now: () => time });
  for (let i = 0; i < 5_000; i++) {
    events.report("drop", "warning", "Dropped a datagram from {from}", { from: "x" });
  }
  events.report("frame", "info", "Bad frame");
  equal(lines.length, 2, "one line for each kind");
  equal(events.count("drop"), 5_000);
  equal(events.count("frame"), 1);
  deepEqual([...events.counts.keys()], ["drop", "frame"]);
  time = 9_999;
  equal(events.report("drop", "warning", "Dropped a datagram from {from}", { from: "y" }), false);
  time = 12_000;
  equal(events.report("drop", "warning", "Dropped a datagram from {from}", { from: "z" }), true);
  deepEqual(lines[2], [
    "warning",
    "Dropped a datagram from {from} (and {suppressed} more in the last {seconds} s)",
    { from: "z", suppressed: "5,000", seconds: 12 },
  ]);
  time = 30_000;
  events.report("drop", "warning", "Dropped a datagram from {from}", { from: "w" });
  deepEqual(
    lines[3],
    ["warning", "Dropped a datagram from {from}", { from: "w" }],
    "nothing held back this time",
  );
});
