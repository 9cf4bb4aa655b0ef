/**
 * Shared by the batched UDP tests: whether they can run here, and dnsd on a batched socket with
 * the mapped names local and everything else forwarded.
 * @module
 */
import { type RunningServer, startServer } from "../lib/server/app.ts";
import { fixedData } from "../lib/zone/local_data.ts";
import { mappingRecords } from "../lib/zone/static_map.ts";
import mappings from "../mappings.ts";
import { needsPermissions } from "./_tools.ts";

const supported = Deno.build.os === "linux" &&
  (Deno.build.arch === "x86_64" || Deno.build.arch === "aarch64");

/** Test definition fields: skipped off Linux on 64-bit CPUs, or without --allow-ffi (and `more`). */
export function needsFfi(name: string, more: readonly "run"[] = []): { name: string; ignore: boolean } {
  if (!supported) return { name: `${name} [skipped: batched UDP is for Linux on 64-bit CPUs]`, ignore: true };
  return needsPermissions(["ffi", ...more], name);
}

/** dnsd with `udpIo: "batched"` on a free port of `host`, forwarding to `upstream`. */
export function startBatchedServer(
  upstream: Deno.NetAddr,
  timeoutMs: number,
  host = "127.0.0.1",
): RunningServer {
  return startServer({
    host,
    port: 0,
    upstreams: [upstream],
    timeoutMs,
    localData: fixedData({ mappings: mappingRecords(mappings) }),
    udpIo: "batched",
  });
}
