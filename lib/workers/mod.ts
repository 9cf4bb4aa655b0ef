/**
 * `--workers N`: up to N event loops answering UDP on the same ports (SO_REUSEPORT), the main
 * thread and N - 1 Deno workers, over one copy of the local data and lists in shared memory; how
 * many take queries follows the load (`--workers-busy`, scaling.ts).
 * @module
 */
export { seededDraws } from "./cookie_draws.ts";
export {
  type PublishedState,
  WorkerPool,
  type WorkerPoolOptions,
  type WorkerSetup,
  WorkerStartError,
} from "./pool.ts";
export { workersWanted } from "./count.ts";
export { type ScalingOptions, WorkerScaling } from "./scaling.ts";
export { FIRST_SCALE, nextScale, SCALE_POLICY, type ScalePolicy, type ScaleState } from "./scale_policy.ts";
