/**
 * `--workers N` with `--workers-busy`: the main thread alone takes UDP queries until it is busy,
 * then one more event loop at a time (a worker started when first needed, its sockets last in the
 * ports' SO_REUSEPORT groups), and fewer again once the load falls (lib/workers/scale_policy.ts).
 * Each second it reads how long each loop taking queries ran or waited to run (its own thread's:
 * lib/net/thread_cpu.ts) and has the ports' steering program send the names to that many loops.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { FIRST_SCALE, nextScale, SCALE_POLICY, type ScalePolicy, type ScaleState } from "./scale_policy.ts";

const log = getLogger(["dnsd", "worker"]);

/** How long a worker has to say its time; one that cannot answer that soon counts as fully busy. */
const ASK_MS = 800;

/** What {@link WorkerScaling} reads and acts on. */
export interface ScalingOptions {
  /** Event loops there may be: the main thread and every worker. */
  readonly max: number;
  readonly policy?: ScalePolicy;
  /** How long the main thread has run or waited to run, in seconds (lib/net/thread_cpu.ts). */
  readonly mainCpu: () => number;
  /** The same for worker `worker` (1 and up); NaN when it did not answer within `timeoutMs`. */
  readonly workerCpu: (worker: number, timeoutMs: number) => Promise<number>;
  /** How many workers run (started, whether they take queries or not). */
  readonly running: () => number;
  /** Starts one more worker; settles once it serves. */
  readonly addWorker: () => Promise<void>;
  /** Has the first `count` loops take the queries; false when the kernel refused. */
  readonly steer: (count: number) => boolean;
  /** A monotonic clock, in ms. */
  readonly now: () => number;
}

/** How many loops take queries, changed a sample at a time; see the module documentation. */
export class WorkerScaling {
  readonly #options: ScalingOptions;
  readonly #policy: ScalePolicy;
  #max: number;
  #state: ScaleState = FIRST_SCALE;
  /** Each loop's time at the sample before, by its place in the groups (the main thread's 0). */
  readonly #last = new Map<number, { readonly cpu: number; readonly at: number }>();
  #sampling = false;

  constructor(options: ScalingOptions) {
    this.#options = options;
    this.#policy = options.policy ?? SCALE_POLICY;
    this.#max = options.max;
  }

  /** How many loops take queries now. */
  get active(): number {
    return this.#state.active;
  }

  /** Takes one sample and acts on it; a call while the one before is still going does nothing. */
  async sample(): Promise<void> {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      const busy = await this.#measure();
      const next = nextScale(this.#state, busy, this.#max, this.#policy);
      if (next.active === this.#state.active) this.#state = next;
      else await this.#change(next, Math.max(...busy));
    } catch (error) {
      // A sample that fails leaves the loops as they are; the next one tries again.
      log.error("Cannot measure the event loops' load: {error}", { error });
    } finally {
      this.#sampling = false;
    }
  }

  /** The busy share of each loop taking queries since the sample before (those measured twice). */
  async #measure(): Promise<number[]> {
    const { active } = this.#state;
    const { mainCpu, workerCpu, now } = this.#options;
    const readings = [{ cpu: mainCpu(), at: now() }];
    const workers = [];
    for (let worker = 1; worker < active; worker++) {
      workers.push(workerCpu(worker, ASK_MS).then((cpu) => ({ cpu, at: now() })));
    }
    readings.push(...await Promise.all(workers));
    const busy: number[] = [];
    readings.forEach((reading, loop) => {
      const before = this.#last.get(loop);
      if (Number.isNaN(reading.cpu)) {
        busy.push(1); // too busy to answer
        this.#last.delete(loop);
        return;
      }
      this.#last.set(loop, reading);
      if (before && reading.at > before.at) {
        busy.push(Math.min(1, Math.max(0, (reading.cpu - before.cpu) * 1000 / (reading.at - before.at))));
      }
    });
    return busy;
  }

  /** Moves to `next` (one loop more or fewer): starts a worker first when one more is needed. */
  async #change(next: ScaleState, busiest: number): Promise<void> {
    const { running, addWorker, steer } = this.#options;
    if (next.active - 1 > running()) {
      try {
        // The group may have no program yet: one first, so the new sockets get nothing until steered to.
        steer(this.#state.active);
        await addWorker();
      } catch (error) {
        // No more tries: the loops running now are all there will be.
        this.#max = running() + 1;
        log.error("Cannot start one more worker, staying at {count} event loops: {error}", {
          count: this.#state.active,
          error,
        });
        this.#state = { ...this.#state, hot: 0 };
        return;
      }
    }
    if (!steer(next.active)) {
      // A kernel without SO_ATTACH_REUSEPORT_CBPF (before Linux 4.5): said once, and no more changes.
      this.#max = this.#state.active;
      log.warning(
        "Cannot steer UDP by name (the kernel refused the program): the kernel picks among the {count} " +
          "loops started, and no more start",
        { count: running() + 1 },
      );
      this.#state = { ...this.#state, hot: 0, cool: 0 };
      return;
    }
    for (const loop of this.#last.keys()) if (loop >= next.active) this.#last.delete(loop);
    log.info("UDP queries now go to {count} of {max} event loops (the busiest was {percent}% busy)", {
      count: next.active,
      max: this.#options.max,
      percent: Math.round(busiest * 100),
    });
    this.#state = next;
  }
}
