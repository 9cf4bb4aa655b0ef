/**
 * `--workers-busy`: when one more event loop takes UDP queries and when one fewer (the policy, a
 * table of samples), and the controller that acts on it (fake clocks, pool and steering): it
 * starts a worker only when one more is needed and none is idle, steers to the new count only
 * once the worker serves, counts a worker that cannot answer as full, and stops adding when a
 * worker cannot start.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { FIRST_SCALE, nextScale, type ScaleState, WorkerScaling } from "../../lib/workers/mod.ts";

const POLICY = { busy: 0.7, upAfter: 2, downAfter: 3 };

/** Samples in order, each the busy shares of the loops taking queries, and the active count after each. */
const runs: readonly {
  name: string;
  max: number;
  samples: readonly (readonly number[])[];
  active: number[];
}[] = [
  {
    name: "one loop under the threshold stays one",
    max: 2,
    samples: [[0.5], [0.69], [0.6]],
    active: [1, 1, 1],
  },
  { name: "two samples at 70% add a loop", max: 2, samples: [[0.7], [0.9]], active: [1, 2] },
  { name: "a dip resets the count", max: 2, samples: [[0.8], [0.5], [0.8], [0.8]], active: [1, 1, 1, 2] },
  { name: "no loop beyond max", max: 1, samples: [[1], [1], [1]], active: [1, 1, 1] },
  {
    name: "up one at a time to max",
    max: 3,
    samples: [[0.9], [0.9], [0.8, 0.8], [0.8, 0.75], [0.9, 0.9, 0.9], [1, 1, 1]],
    active: [1, 2, 2, 3, 3, 3],
  },
  {
    name: "fewer once the rest would carry it at half the threshold",
    max: 2,
    samples: [[0.9], [0.9], [0.2, 0.15], [0.2, 0.15], [0.2, 0.15]],
    active: [1, 2, 2, 2, 1],
  },
  {
    name: "not fewer while one fewer would be over half the threshold",
    max: 2,
    samples: [[0.9], [0.9], [0.2, 0.2], [0.2, 0.2], [0.2, 0.2], [0.2, 0.2]],
    active: [1, 2, 2, 2, 2, 2],
  },
  {
    name: "not fewer on samples that missed a loop",
    max: 2,
    samples: [[0.9], [0.9], [0.1], [0.1], [0.1], [0.1]],
    active: [1, 2, 2, 2, 2, 2],
  },
  {
    name: "three to two: the total over two loops",
    max: 3,
    samples: [[0.9], [0.9], [0.9, 0.9], [0.9, 0.9], [0.3, 0.2, 0.2], [0.3, 0.2, 0.2], [0.3, 0.2, 0.2]],
    active: [1, 2, 2, 3, 3, 3, 2],
  },
  { name: "nothing measured changes nothing", max: 2, samples: [[0.9], [], [0.9]], active: [1, 1, 2] },
];

for (const run of runs) {
  test(`nextScale: ${run.name}`, () => {
    let state: ScaleState = FIRST_SCALE;
    const seen = run.samples.map((busy) => (state = nextScale(state, busy, run.max, POLICY)).active);
    assert.deepEqual(seen, run.active);
  });
}

/** A controller over fakes: the main thread's and each worker's time advance as `load` says. */
function fakeScaling(
  max: number,
  load: (loop: number) => number,
  options: { failStart?: boolean; silentWorkers?: boolean; refuseSteering?: boolean } = {},
) {
  let now = 0;
  const used = new Map<number, number>();
  const events: string[] = [];
  let running = 0;
  const timeOf = (loop: number) => used.get(loop) ?? 0;
  const scaling = new WorkerScaling({
    max,
    policy: POLICY,
    mainCpu: () => timeOf(0),
    workerCpu: (worker) =>
      Promise.resolve(worker <= running && !options.silentWorkers ? timeOf(worker) : NaN),
    running: () => running,
    addWorker: () => {
      events.push(`start ${running + 1}`);
      if (options.failStart) return Promise.reject(new Error("no module"));
      running++;
      return Promise.resolve();
    },
    steer: (count) => {
      events.push(`steer ${count}`);
      return !options.refuseSteering;
    },
    now: () => now,
  });
  /** One second passes, each loop busy as `load` says, then a sample. */
  const second = async () => {
    now += 1000;
    for (let loop = 0; loop < max; loop++) used.set(loop, timeOf(loop) + load(loop));
    await scaling.sample();
  };
  return { scaling, events, second };
}

test("WorkerScaling: a worker starts once the main thread is busy (its sockets steered to only once it serves)", async () => {
  let busy = [0.9, 0.9];
  const { scaling, events, second } = fakeScaling(2, (loop) => busy[loop]!);
  for (let i = 0; i < 3; i++) await second(); // the first sample has nothing to compare with
  assert.deepEqual(events, ["steer 1", "start 1", "steer 2"]);
  assert.equal(scaling.active, 2);
  // Light load: back to one loop after 3 samples; the worker stays started.
  busy = [0.1, 0.1];
  for (let i = 0; i < 4; i++) await second();
  assert.deepEqual(events, ["steer 1", "start 1", "steer 2", "steer 1"]);
  // Busy again: the worker started before takes queries again, none is started.
  busy = [0.95, 0.95];
  for (let i = 0; i < 3; i++) await second();
  assert.deepEqual(events, ["steer 1", "start 1", "steer 2", "steer 1", "steer 2"]);
});

test("WorkerScaling: a worker that cannot say its time counts as full", async () => {
  let busy = 0.9;
  const { scaling, events, second } = fakeScaling(2, () => busy, { silentWorkers: true });
  for (let i = 0; i < 3; i++) await second();
  assert.equal(scaling.active, 2);
  // The main thread idles, but the worker never answers: counted as fully busy, so never one fewer.
  busy = 0.01;
  for (let i = 0; i < 8; i++) await second();
  assert.deepEqual(events, ["steer 1", "start 1", "steer 2"]);
  assert.equal(scaling.active, 2);
});

test("WorkerScaling: a worker that cannot start is not tried again and nothing is steered to it", async () => {
  const { scaling, events, second } = fakeScaling(3, () => 0.95, { failStart: true });
  for (let i = 0; i < 8; i++) await second();
  assert.deepEqual(events, ["steer 1", "start 1"]);
  assert.equal(scaling.active, 1);
});

test("WorkerScaling: a kernel that refuses the program is asked once, and no more loops are added", async () => {
  const { scaling, events, second } = fakeScaling(3, () => 0.95, { refuseSteering: true });
  for (let i = 0; i < 10; i++) await second();
  assert.deepEqual(events, ["steer 1", "start 1", "steer 2"]);
  assert.equal(scaling.active, 1);
});
