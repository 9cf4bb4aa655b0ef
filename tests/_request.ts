/**
 * Request contexts for tests that call stages and respond() directly, as a server would give them.
 * @module
 */
import type { Message } from "../lib/proto/mod.ts";
import type { QueryContext, Request } from "../lib/resolve/mod.ts";

/** A query's context: a UDP client on 127.0.0.1, arrived at time 0 (override any field). */
export function contextOf(overrides: Partial<QueryContext> = {}): QueryContext {
  return {
    client: { transport: "udp", hostname: "127.0.0.1", port: 53000 },
    transport: "udp",
    receivedAt: 0,
    size: 0,
    ...overrides,
  };
}

/** `message` as a stage receives it, with {@link contextOf}'s context. */
export function requestOf(message: Message, overrides: Partial<QueryContext> = {}): Request {
  return { ...contextOf(overrides), message };
}
