/**
 * How many workers to run: `--workers N` as given, `--workers 0` one per CPU the process may use,
 * and one whenever the ports cannot be shared: the workers' sockets join a SO_REUSEPORT group,
 * which only the batched (FFI) UDP sockets can set (Deno's own cannot).
 * @module
 */

/** The CPUs this process may run on (its affinity mask and cgroup quota, as Rust's `available_parallelism` reads them). */
export function availableCpus(): number {
  return Math.max(1, navigator.hardwareConcurrency || 1);
}

/** The number of workers, and why it is one when more were asked for. */
export function workersWanted(
  requested: number,
  udpIo: "deno" | "batched",
  cpus: number = availableCpus(),
): { readonly count: number; readonly why?: string } {
  const wanted = requested === 0 ? cpus : requested;
  if (wanted <= 1) return { count: 1 };
  if (udpIo !== "batched") {
    return {
      count: 1,
      why: "workers share their UDP ports through SO_REUSEPORT, which only batched UDP sockets set " +
        "(--udp-io batched: Linux with glibc, --allow-ffi)",
    };
  }
  return { count: wanted };
}
