/**
 * Serving: `respond` (the one place errors become RCODEs), the opcode dispatcher, the UDP and TCP
 * listeners, and `startServer`, which wires them.
 * @module
 */
export { startServer } from "./app.ts";
export type { RunningServer, ServerCounters, ServerOptions } from "./app.ts";
export type { TcpServerOptions } from "./tcp_server.ts";
