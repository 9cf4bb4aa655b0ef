/**
 * The main thread's side of `--workers N`: starts up to N - 1 Deno workers (the main thread is
 * the first), all at once or one at a time as the load calls for them (scaling.ts), sends each
 * the local data, lists and settings in force and every change to them, and asks them for their
 * figures, their thread's time, a cache flush, a log reopen and a stop. Implements the server's
 * {@link Peers}, so `/metrics`, the statistics line and `POST /cache/flush` cover every worker.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { type BlockPolicy, shareBlockPolicy, type SharedBlockPolicy } from "../block/mod.ts";
import type { ServeCommand } from "../config/mod.ts";
import type { Message } from "../proto/mod.ts";
import type { Request } from "../resolve/mod.ts";
import type { Peers, ServerFigures } from "../server/mod.ts";
import { type LocalData, type SharedLocalData, shareLocalData } from "../zone/mod.ts";
import type { FromWorker, ToWorker, WorkerStart } from "./messages.ts";
import { replyOfError } from "./relay.ts";

const log = getLogger(["dnsd", "worker"]);

/** How long a worker may take to start (load its modules, bind its sockets). */
const START_TIMEOUT_MS = 30_000;
/** How long a question to a worker may wait (a scrape, a flush) before it is answered without it. */
const ASK_TIMEOUT_MS = 5_000;

/** A worker could not start: its reason, as it said it. */
export class WorkerStartError extends Error {
  /** The error class name. */
  override name = "WorkerStartError";
}

/** What the workers read, as the main thread has it now. */
export interface PublishedState {
  readonly command: ServeCommand;
  readonly data: LocalData;
  readonly blocking: BlockPolicy;
  /** Secondary zones with no copy to serve, by apex key. */
  readonly notReady: readonly string[];
}

/** What every worker starts with, beside the state. */
export type WorkerSetup = Omit<WorkerStart, "kind" | "worker" | "command" | "data" | "blocking" | "notReady">;

/** Options for {@link WorkerPool.start}. */
export interface WorkerPoolOptions {
  /** How many workers besides the main thread, at most. */
  readonly count: number;
  readonly setup: WorkerSetup;
  readonly state: PublishedState;
  /** The main thread's handlers for what lands on a worker but is the main thread's to answer. */
  readonly relayed: {
    /** NOTIFY. */
    readonly notify: (request: Request) => Promise<Message>;
    /** AXFR and IXFR over UDP (one message at most). */
    readonly transfer: (request: Request) => Promise<Message | null>;
  };
  /** The worker module (default lib/workers/worker_main.ts). */
  readonly url?: URL;
  /**
   * A worker that ended by an error once running: its sockets stay in their ports' groups and the
   * kernel goes on giving them queries no one reads, so the caller should stop dnsd (a supervisor
   * starts it again). Without it, the error ends the process as Deno ends it.
   */
  readonly onFailure?: (worker: number, message: string) => void;
}

/** One worker and its questions waiting for an answer. */
class Link {
  readonly worker: Worker;
  readonly #waiting = new Map<number, (message: Extract<FromWorker, { kind: "done" }> | null) => void>();
  #seq = 0;

  constructor(worker: Worker) {
    this.worker = worker;
  }

  /** Sends `make(seq)`; settles with the worker's answer, or null after `timeoutMs` without one. */
  ask(make: (seq: number) => ToWorker, timeoutMs = ASK_TIMEOUT_MS) {
    const seq = ++this.#seq;
    return new Promise<Extract<FromWorker, { kind: "done" }> | null>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(seq);
        resolve(null);
      }, timeoutMs);
      this.#waiting.set(seq, (message) => {
        clearTimeout(timer);
        this.#waiting.delete(seq);
        resolve(message);
      });
      this.worker.postMessage(make(seq));
    });
  }

  answered(message: Extract<FromWorker, { kind: "done" }>): void {
    this.#waiting.get(message.seq)?.(message);
  }
}

/** Answers a request a worker passed on, with the main thread's handler (or the error it threw). */
function answerRelayed(
  link: Link,
  message: Extract<FromWorker, { kind: "relay" }>,
  relayed: WorkerPoolOptions["relayed"],
): void {
  // Through a promise: a handler that throws at once still answers the worker.
  Promise.resolve(message.request as Request).then(relayed[message.handler]).then(
    (answer) =>
      link.worker.postMessage({ kind: "relayed", seq: message.seq, reply: { ok: true, message: answer } }),
    (error) => link.worker.postMessage({ kind: "relayed", seq: message.seq, reply: replyOfError(error) }),
  );
}

/**
 * Hears worker `worker` for as long as it runs: settles once it serves (or rejects with why it
 * could not start), then takes its answers, its relayed requests and its failures.
 */
function listen(link: Link, worker: number, options: WorkerPoolOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let running = false;
    const cannotStart = (why: string) => {
      clearTimeout(timer);
      reject(new WorkerStartError(`worker ${worker}: ${why}`));
    };
    const timer = setTimeout(
      () => reject(new WorkerStartError(`worker ${worker} did not start in ${START_TIMEOUT_MS / 1000} s`)),
      START_TIMEOUT_MS,
    );
    link.worker.onerror = (event: ErrorEvent) => {
      if (!running) {
        event.preventDefault();
        cannotStart(event.message);
      } else if (options.onFailure) {
        event.preventDefault();
        options.onFailure(worker, event.message);
      }
    };
    link.worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (message.kind === "started") {
        clearTimeout(timer);
        running = true;
        resolve();
      } else if (message.kind === "failed" && !running) {
        cannotStart(message.message);
      } else if (message.kind === "failed") {
        log.error("Worker {worker} failed: {why}", { worker, why: message.message });
      } else if (message.kind === "done") {
        link.answered(message);
      } else {
        answerRelayed(link, message, options.relayed);
      }
    };
  });
}

/** The workers: those running, and room for those not started yet. */
export class WorkerPool implements Peers {
  readonly #links: Link[] = [];
  readonly #options: WorkerPoolOptions;
  readonly #url: URL;
  #published: PublishedState;
  /** The published data and lists as posted (shared memory): made once, whatever the number of workers. */
  #sharedData: readonly [LocalData, SharedLocalData] | undefined;
  #sharedBlocking: readonly [BlockPolicy, SharedBlockPolicy] | undefined;

  private constructor(options: WorkerPoolOptions, url: URL) {
    this.#options = options;
    this.#url = url;
    this.#published = options.state;
  }

  /**
   * Starts `started` of the `count` workers (all by default) and waits until each is serving;
   * {@link add} starts the others, one at a time.
   * @throws {WorkerStartError} when one cannot start (every one started is stopped), or when the
   * worker module cannot be read
   */
  static async start(options: WorkerPoolOptions, started = options.count): Promise<WorkerPool> {
    const url = options.url ?? new URL("./worker_main.ts", import.meta.url);
    // A worker's module is read as a file (compiled, it is inside the binary): say so in one line.
    if (
      !Deno.build.standalone && Deno.permissions.querySync({ name: "read", path: url }).state !== "granted"
    ) {
      throw new WorkerStartError(
        `--workers needs read access to ${url.pathname} (deno run --allow-read ..., or one worker: --workers 1)`,
      );
    }
    const pool = new WorkerPool(options, url);
    const starting: Promise<void>[] = [];
    for (let i = 0; i < Math.min(started, options.count); i++) starting.push(pool.#startOne().started);
    try {
      await Promise.all(starting);
    } catch (error) {
      for (const link of pool.#links) link.worker.terminate();
      throw error;
    }
    return pool;
  }

  /** `state`'s data and lists as posted: shared once, whatever the number of workers they go to. */
  #share(state: PublishedState): { data: SharedLocalData; blocking: SharedBlockPolicy } {
    if (this.#sharedData?.[0] !== state.data) this.#sharedData = [state.data, shareLocalData(state.data)];
    if (this.#sharedBlocking?.[0] !== state.blocking) {
      this.#sharedBlocking = [state.blocking, shareBlockPolicy(state.blocking)];
    }
    return { data: this.#sharedData[1], blocking: this.#sharedBlocking[1] };
  }

  /** Starts worker number size + 1 with the state published last; settles once it serves. */
  #startOne(): { link: Link; started: Promise<void> } {
    const worker = this.#links.length + 1;
    const state = this.#published;
    const link = new Link(new Worker(this.#url, { type: "module", name: `dnsd-worker-${worker}` }));
    // In the list at once: a publish from now on reaches it too (after its start message).
    this.#links.push(link);
    const started = listen(link, worker, this.#options);
    link.worker.postMessage(
      {
        kind: "start",
        worker,
        ...this.#options.setup,
        command: state.command,
        ...this.#share(state),
        notReady: state.notReady,
      } satisfies ToWorker,
    );
    return { link, started };
  }

  /**
   * Starts one more worker (its sockets join the ports' groups last) and settles once it serves.
   * @throws {WorkerStartError} when it cannot start (it is stopped; the others go on), or all `count` run already
   */
  async add(): Promise<void> {
    if (this.#links.length >= this.#options.count) {
      throw new WorkerStartError(`all ${this.#options.count} workers run already`);
    }
    const { link, started } = this.#startOne();
    try {
      await started;
    } catch (error) {
      link.worker.terminate();
      this.#links.splice(this.#links.indexOf(link), 1);
      throw error;
    }
  }

  /**
   * How long worker `worker` (1 and up) has run or waited to run, in seconds (lib/net/thread_cpu.ts);
   * NaN when it did not answer within `timeoutMs` (an event loop that busy cannot answer) or cannot read it.
   */
  async cpuSeconds(worker: number, timeoutMs: number): Promise<number> {
    const link = this.#links[worker - 1];
    if (!link) return NaN;
    const answer = await link.ask((seq) => ({ kind: "cpu", seq }), timeoutMs);
    return answer?.cpu ?? NaN;
  }

  /** How many workers run besides the main thread. */
  get size(): number {
    return this.#links.length;
  }

  /**
   * Sends what changed since the last call (data, lists, settings, secondary zones served) to every
   * worker; settles once every worker has it in force.
   */
  async publish(state: PublishedState): Promise<void> {
    const was = this.#published;
    this.#published = state;
    const sameNotReady = was.notReady.length === state.notReady.length &&
      was.notReady.every((key, i) => state.notReady[i] === key);
    const update = {
      ...(state.command !== was.command ? { command: state.command } : {}),
      ...(state.data !== was.data ? { data: this.#share(state).data } : {}),
      ...(state.blocking !== was.blocking ? { blocking: this.#share(state).blocking } : {}),
      ...(sameNotReady ? {} : { notReady: state.notReady }),
    };
    if (Object.keys(update).length === 0) return;
    await Promise.all(this.#links.map((link) => link.ask((seq) => ({ kind: "update", seq, ...update }))));
  }

  async figures(): Promise<readonly ServerFigures[]> {
    const answers = await Promise.all(
      this.#links.map((link) => link.ask((seq) => ({ kind: "figures", seq }))),
    );
    return answers.flatMap((answer) => answer?.figures ? [answer.figures] : []);
  }

  async flush(name?: string): Promise<number> {
    const answers = await Promise.all(
      this.#links.map((link) =>
        link.ask((seq) => ({ kind: "flush", seq, ...(name !== undefined ? { name } : {}) }))
      ),
    );
    return answers.reduce((sum, answer) => sum + (answer?.count ?? 0), 0);
  }

  /** Has every worker open its query log again (SIGHUP). */
  async reopenLogs(): Promise<void> {
    await Promise.all(this.#links.map((link) => link.ask((seq) => ({ kind: "reopen-logs", seq }))));
  }

  /** Stops every worker's server (queries in progress get up to `graceMs`), then the workers. */
  async stop(graceMs: number): Promise<void> {
    await Promise.all(
      this.#links.map((link) =>
        link.ask((seq) => ({ kind: "stop", seq, graceMs }), graceMs + ASK_TIMEOUT_MS)
      ),
    );
    for (const link of this.#links) link.worker.terminate();
    log.debug("Workers stopped");
  }
}
