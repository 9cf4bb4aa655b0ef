/**
 * ThreadCpuClock: the time the calling thread ran or waited to run (the load signal of
 * `--workers-busy`) grows while it computes and not while it sleeps, and a worker's clock reads
 * its own thread, not the main thread's.
 * @module
 */
import { test } from "../_limit.ts";
import { ok } from "node:assert/strict";
import { ThreadCpuClock } from "../../lib/net/mod.ts";
import { needsFfi } from "../_batched.ts";

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* computing */ }
}

test(needsFfi("ThreadCpuClock: grows by the time spent computing, not by the time asleep"), async () => {
  const clock = new ThreadCpuClock();
  try {
    const before = clock.seconds();
    const started = performance.now();
    spin(200);
    const computed = clock.seconds() - before;
    const elapsed = (performance.now() - started) / 1000;
    ok(computed >= 0.18 && computed <= elapsed + 0.02, `${computed} s over ${elapsed} s computing`);
    const asleep = clock.seconds();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const slept = clock.seconds() - asleep;
    ok(slept < 0.1, `${slept} s over 0.3 s asleep`);
  } finally {
    clock.close();
  }
});

test(needsFfi("ThreadCpuClock: a worker thread's clock is its own"), async () => {
  const clock = new ThreadCpuClock();
  // The worker computes only once told to, after its module has loaded: the main thread then only waits.
  const source = `
    import { ThreadCpuClock } from ${
    JSON.stringify(new URL("../../lib/net/thread_cpu.ts", import.meta.url).href)
  };
    const clock = new ThreadCpuClock();
    self.onmessage = () => {
      const before = clock.seconds();
      const end = performance.now() + 300;
      while (performance.now() < end) {}
      self.postMessage(clock.seconds() - before);
      clock.close();
    };
    self.postMessage("ready");
  `;
  const url = URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module" });
  try {
    let before = 0;
    const workerSeconds = await new Promise<number>((resolve, reject) => {
      worker.onmessage = (event) => {
        if (event.data !== "ready") return resolve(event.data);
        before = clock.seconds();
        worker.postMessage("go");
      };
      worker.onerror = (event) => reject(new Error(event.message));
    });
    const mainSeconds = clock.seconds() - before;
    ok(workerSeconds >= 0.27, `the worker computed 0.3 s, its clock says ${workerSeconds}`);
    ok(mainSeconds < 0.15, `the main thread waited, its clock says ${mainSeconds}`);
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
    clock.close();
  }
});
