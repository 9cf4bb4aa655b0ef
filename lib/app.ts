/**
 * Wires the pieces into a running server: the stage chain, the forwarder and the listening
 * socket, around local data loaded elsewhere. The CLI and tests both start dnsd through here.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { createForwardCounters, forward, type ForwardCounters } from "./forward.ts";
import { authoritative } from "./authority.ts";
import type { LocalData } from "./local_data.ts";
import { chain, logQueries, requireRecursion, type Resolve } from "./resolver.ts";
import { serveUdp } from "./server.ts";
import { type DropReason, formatAddress, udpExchange, type Upstream } from "./udp_exchange.ts";

const log = getLogger(["dnsd", "forward"]);

/** Everything needed to start a server. */
export interface ServerOptions {
  /** The address to listen on for DNS queries over UDP. */
  readonly host: string;
  /** The UDP port to listen on (53 for DNS; 0 picks a free one). */
  readonly port: number;
  /** The recursive resolvers to forward to, tried in order. */
  readonly upstreams: readonly Upstream[];
  /** The deadline for a forwarded query, over every upstream, in milliseconds. */
  readonly timeoutMs: number;
  /** The local data to answer from, read again for every query (so a reload can swap it). */
  readonly localData: () => LocalData;
}

/** Counters a running server keeps. */
export interface ServerCounters extends ForwardCounters {
  /** Upstream datagrams ignored: wrong source, ID or question. */
  dropped: number;
}

/** A server that is listening. */
export interface RunningServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: Deno.NetAddr;
  /** Live counts of forwarded queries, their outcomes and dropped upstream datagrams. */
  readonly counters: Readonly<ServerCounters>;
  /** Closes the socket; `finished` settles once the receive loop has ended. */
  close(): void;
  /** Settles once the receive loop has ended. */
  readonly finished: Promise<void>;
}

/** Builds the resolver chain: local data first, then forwarding for RD=1 queries only. */
export function buildResolver(options: ServerOptions, counters: ServerCounters): Resolve {
  const onDrop = (reason: DropReason, from: string) => {
    counters.dropped++;
    log.warning("Dropped upstream reply from {from}: {reason}", { from, reason });
  };
  const upstreams = options.upstreams.map((upstream) => ({
    name: formatAddress(upstream),
    exchange: udpExchange(upstream, { onDrop }),
  }));
  return chain([
    logQueries(),
    authoritative(options.localData),
    requireRecursion(),
    forward(upstreams, { timeoutMs: options.timeoutMs, counters }),
  ]);
}

/**
 * Binds the UDP socket and starts serving.
 * @throws {Deno.errors.AddrInUse} when the address is taken
 */
export function startServer(options: ServerOptions): RunningServer {
  const counters: ServerCounters = { ...createForwardCounters(), dropped: 0 };
  const resolve = buildResolver(options, counters);
  const conn = Deno.listenDatagram({ transport: "udp", hostname: options.host, port: options.port });
  const address = conn.addr as Deno.NetAddr;
  let closed = false;
  return {
    address,
    counters,
    close() {
      if (closed) return;
      closed = true;
      conn.close();
    },
    finished: serveUdp(conn, resolve),
  };
}
