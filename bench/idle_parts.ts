/**
 * The floor under a Deno DNS server built as dnsd is: what the parts every such server needs take
 * idle, with no code of dnsd's own. LogTape configured with a console sink (the logging library the
 * project uses), libc opened through FFI with one call made (batched UDP), and a UDP socket and a
 * TCP listener bound on 127.0.0.1. The memory benchmark (bench/memory.ts) reads its RSS beside
 * dnsd's idle RSS and the empty script's (bench/idle_floor.ts). Writes "ready" to stderr, then
 * waits until it is stopped.
 * @module
 */
import { configure, getConsoleSink, getLogger } from "@logtape/logtape";

await configure({
  sinks: { console: getConsoleSink() },
  loggers: [{ category: ["idle"], lowestLevel: "info", sinks: ["console"] }],
});
const libc = Deno.dlopen("libc.so.6", { getpid: { parameters: [], result: "i32" } });
const udp = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
const tcp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
getLogger(["idle"]).debug("pid {pid}, UDP {udp}, TCP {tcp}", {
  pid: libc.symbols.getpid(),
  udp: udp.addr,
  tcp: tcp.addr,
});
Deno.stderr.writeSync(new TextEncoder().encode("ready\n"));
// A promise that never settles would not keep Deno alive (the event loop ends); a timer does.
setInterval(() => {}, 2 ** 30);
