/**
 * Wires the pieces into a running server: local data, the stage chain, the forwarder and the
 * listening socket. The CLI and tests both start dnsd through here.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { createForwardCounters, forward, type ForwardCounters } from "./forward.ts";
import { localAnswers } from "./local.ts";
import { chain, logQueries, requireRecursion, type Resolve } from "./resolver.ts";
import { serveUdp } from "./server.ts";
import { mappingRecords, type Mappings } from "./static_map.ts";
import { createStore, type RecordStore } from "./store.ts";
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
  /** Local names and the address each answers with (A or AAAA records). */
  readonly mappings: Mappings;
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
export function buildResolver(
  options: ServerOptions,
  store: () => RecordStore,
  counters: ServerCounters,
): Resolve {
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
    localAnswers(store),
    requireRecursion(),
    forward(upstreams, { timeoutMs: options.timeoutMs, counters }),
  ]);
}

/**
 * Validates local data, binds the UDP socket and starts serving.
 * @throws {DataError} when the mappings are invalid
 * @throws {Deno.errors.AddrInUse} when the address is taken
 */
export function startServer(options: ServerOptions): RunningServer {
  const store = createStore(mappingRecords(options.mappings));
  const counters: ServerCounters = { ...createForwardCounters(), dropped: 0 };
  const resolve = buildResolver(options, () => store, counters);
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
