/**
 * The cheap log-level check of the query path.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import type { LogLevel } from "@logtape/logtape";
import { levelGate } from "../../lib/observe/log_gate.ts";

test("levelGate() asks the logger once per 1,024 calls and sees a change within them", () => {
  let on = false;
  const asked: LogLevel[] = [];
  const gate = levelGate({ isEnabledFor: (level) => (asked.push(level), on) }, "debug");
  equal(gate(), false);
  on = true;
  let calls = 1;
  while (!gate()) calls++;
  equal(calls, 1024); // the 1,025th call looks again
  deepEqual(asked, ["debug", "debug"]);
  for (let i = 0; i < 1023; i++) equal(gate(), true);
  equal(asked.length, 2);
});
