/**
 * Deadlines on one timer (lib/deadlines.ts), on an injected clock and timers: which fire, in what
 * order, how many timers it takes, and that cancelled ones never fire and are swept.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal, ok } from "node:assert/strict";
import { Deadlines } from "../../lib/upstream/deadlines.ts";

/** A clock and timers under the test's hand: `advance()` runs what came due, in order. */
function fakeTime() {
  let time = 0;
  let nextHandle = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  let set = 0;
  return {
    now: () => time,
    setTimer(callback: () => void, ms: number) {
      timers.set(nextHandle, { at: time + ms, callback });
      set++;
      return nextHandle++;
    },
    clearTimer(handle: unknown) {
      timers.delete(handle as number);
    },
    advance(ms: number) {
      const until = time + ms;
      while (true) {
        const due = [...timers.entries()].filter(([, timer]) => timer.at <= until)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        time = due[1].at;
        due[1].callback();
      }
      time = until;
    },
    pending: () => timers.size,
    timersSet: () => set,
  };
}

test("Deadlines fire in deadline order, each once, whatever order they were set in", async (t) => {
  const cases: { name: string; set: [string, number][]; cancel: string[]; steps: [number, string[]][] }[] = [
    {
      name: "set in order",
      set: [["a", 10], ["b", 20], ["c", 30]],
      cancel: [],
      steps: [[5, []], [10, ["a"]], [20, ["b", "c"]]],
    },
    {
      name: "set out of order",
      set: [["c", 30], ["a", 10], ["b", 20]],
      cancel: [],
      steps: [[15, ["a"]], [100, ["b", "c"]]],
    },
    {
      name: "cancelled ones never fire",
      set: [["a", 10], ["b", 20], ["c", 30]],
      cancel: ["a", "c"],
      steps: [[100, ["b"]]],
    },
    {
      name: "equal deadlines fire together",
      set: [["a", 10], ["b", 10], ["c", 10]],
      cancel: ["b"],
      steps: [[9, []], [1, ["a", "c"]]],
    },
  ];
  for (const { name, set, cancel, steps } of cases) {
    await t.step(name, () => {
      const time = fakeTime();
      const deadlines = new Deadlines(time);
      const fired: string[] = [];
      const cancels = new Map(
        set.map(([label, ms]) => [label, deadlines.after(ms, () => fired.push(label))]),
      );
      for (const label of cancel) cancels.get(label)!();
      for (const [ms, expected] of steps) {
        fired.length = 0;
        time.advance(ms);
        deepEqual(fired.sort(), expected);
      }
      equal(time.pending(), 0); // nothing left waiting: the process may exit
      for (const cancelOf of cancels.values()) cancelOf(); // after firing: harmless
    });
  }
});

test("Deadlines take a timer only when the earliest deadline moves earlier", () => {
  const time = fakeTime();
  const deadlines = new Deadlines(time);
  // A thousand equal timeouts set one after another: one timer, not a thousand.
  const cancels = [];
  for (let i = 0; i < 1000; i++) {
    cancels.push(deadlines.after(2000, () => {}));
    time.advance(1);
  }
  equal(time.timersSet(), 1);
  for (const cancel of cancels) cancel();
  time.advance(5000);
  equal(time.pending(), 0);
});

test("Deadlines sweep cancelled entries once they outnumber the rest", () => {
  const time = fakeTime();
  const deadlines = new Deadlines(time);
  const fired: number[] = [];
  const keep = deadlines.after(60_000, () => fired.push(-1));
  for (let i = 0; i < 5000; i++) deadlines.after(10_000 + i, () => fired.push(i))();
  ok(deadlines.size < 2000, `${deadlines.size} deadlines kept after 5000 were cancelled`);
  time.advance(60_000);
  deepEqual(fired, [-1]);
  keep();
  equal(deadlines.size, 0);
});
