/**
 * The encrypted listeners, DNS over TLS and DNS over HTTPS, on each address the server listens on,
 * and their certificate: read at start (a bad one stops the start), read again on demand (SIGHUP,
 * a changed file), checked, and swapped in only when good; a bad one keeps the old and says why.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import type { Resolve } from "../resolve/mod.ts";
import { formatAddress } from "../upstream/mod.ts";
import { TcpSockets } from "../net/mod.ts";
import { type DohServer, serveDoh } from "./doh_server.ts";
import type { ServeOptions } from "./serving.ts";
import { serveTcp, type TcpServer, type TcpServerOptions } from "./tcp_server.ts";
import { ListenError } from "./listen_error.ts";
import { checkCertifiedKey, readCertifiedKey, TlsListener } from "./tls_listener.ts";

const log = getLogger(["dnsd", "tls"]);

/** `--tls-port`, `--https-port`, `--tls-cert`, `--tls-key`: what is served encrypted. */
export interface EncryptedServing {
  /** DoT's port (853 is the usual); null: DoT is not served. */
  readonly tlsPort: number | null;
  /** DoH's port (443 is the usual); null: DoH is not served. */
  readonly httpsPort: number | null;
  /** The certificate chain's PEM file, leaf first. */
  readonly certFile: string | null;
  /** The private key's PEM file. */
  readonly keyFile: string | null;
}

/** The DoT and DoH servers of a running server. */
export interface EncryptedListeners {
  /** Where DoT is served. */
  readonly tls: readonly Deno.NetAddr[];
  /** Where DoH is served. */
  readonly https: readonly Deno.NetAddr[];
  /** Open DoT connections. */
  connections(): number;
  /**
   * Reads the certificate and key again and, when they are good, serves with them: new
   * connections get them, open ones keep theirs. A bad pair keeps the old and logs why.
   * @returns whether the new pair is in use
   */
  reloadCertificates(): Promise<boolean>;
  /** Stops accepting, lets queries in progress finish (up to `graceMs`), then closes. */
  stop(graceMs: number): Promise<void>;
  /** Settles once every listener has stopped. */
  readonly finished: Promise<void>;
}

/**
 * Opens DoT and DoH, as `settings` asks, on each of `hostnames`: TLS with the TCP limits of
 * `options`. Whatever is already open is closed again when one fails.
 * @throws {CertificateError} when the certificate or key cannot be read or used
 * @throws {ListenError} when a port cannot be had
 */
export function startEncrypted(
  settings: EncryptedServing,
  hostnames: readonly string[],
  serving: { readonly resolve: Resolve; readonly options: ServeOptions & TcpServerOptions },
): EncryptedListeners {
  const { tlsPort, httpsPort, certFile, keyFile } = settings;
  if ((tlsPort === null && httpsPort === null) || certFile === null || keyFile === null) {
    return {
      tls: [],
      https: [],
      connections: () => 0,
      reloadCertificates: () => Promise.resolve(false),
      stop: () => Promise.resolve(),
      finished: Promise.resolve(),
    };
  }
  const files = { certFile, keyFile };
  const what = `--tls-cert ${certFile} and --tls-key ${keyFile}`;
  const pem = readCertifiedKey(files);
  checkCertifiedKey(pem, hostnames[0] ?? "127.0.0.1", what);
  const listeners: TlsListener[] = [];
  // A TLS connection closed mid-handshake keeps its socket unless it is cut (lib/net/sever.ts).
  // TLS connections Deno keeps open are cut through FFI (lib/net/tcp_sockets.ts): a DoT client
  // stalled mid-handshake at its idle close, and DoH connections, which Deno.serve never times out.
  const tcpSockets = TcpSockets.open();
  const sever = tcpSockets
    ? (local: Deno.NetAddr, remote: Deno.NetAddr) => void tcpSockets.sever(local, remote)
    : null;
  const dot: TcpServer[] = [];
  const doh: DohServer[] = [];
  let address = { hostname: "", port: 0 };
  try {
    for (const hostname of hostnames) {
      if (tlsPort !== null) {
        address = { hostname, port: tlsPort };
        const listener = new TlsListener(address, pem);
        listeners.push(listener);
        dot.push(serveTcp(listener, serving.resolve, { ...serving.options, transport: "tls", sever }));
      }
      if (httpsPort !== null) {
        address = { hostname, port: httpsPort };
        doh.push(serveDoh({ ...address, pem }, serving.resolve, serving.options));
      }
    }
  } catch (error) {
    for (const server of [...dot, ...doh]) void server.stop(0);
    throw new ListenError(address, error);
  }
  let reloading = Promise.resolve(true);
  let current = pem;
  async function reload(): Promise<boolean> {
    let next;
    try {
      next = readCertifiedKey(files);
      // A SIGHUP and the watch both see one renewal: the second has nothing to do. A swap
      // resets connections still in the accept queue, so none is made without cause.
      if (next.cert === current.cert && next.key === current.key) return true;
      checkCertifiedKey(next, hostnames[0] ?? "127.0.0.1", what);
    } catch (error) {
      log.error("{reason}; keeping the certificate in use", {
        reason: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
    let swapped = true;
    for (const listener of listeners) {
      try {
        await listener.swap(next);
      } catch (error) {
        swapped = false;
        log.error("Cannot serve DoT with the new certificate on {address}: {error}", {
          address: formatAddress(listener.addr),
          error,
        });
      }
    }
    for (const server of doh) {
      try {
        await server.swap(next);
      } catch (error) {
        swapped = false;
        log.error("Cannot serve DoH with the new certificate on {address}: {error}", {
          address: formatAddress(server.addr),
          error,
        });
      }
    }
    if (swapped) {
      current = next;
      log.info("Serving DoT and DoH with the certificate in {file}", { file: certFile });
    }
    return swapped;
  }
  const servers = [...dot, ...doh];
  const sweeping = tcpSockets && doh.length > 0 ? sweepDoh(tcpSockets, doh, serving.options) : null;
  return {
    tls: listeners.map((listener) => listener.addr),
    https: doh.map((server) => server.addr),
    connections: () => dot.reduce((sum, server) => sum + server.connections, 0),
    // One reload at a time: a SIGHUP during a file change's reload waits for it.
    reloadCertificates: () => (reloading = reloading.then(reload, reload)),
    stop(graceMs) {
      if (sweeping !== null) clearInterval(sweeping);
      return Promise.all(servers.map((server) => server.stop(graceMs))).then(() => {});
    },
    finished: Promise.all(servers.map((server) => server.finished)).then(() => {}),
  };
}

/**
 * Every half idle timeout, shuts down DoH connections idle for `--tcp-idle-timeout` (stalled
 * handshakes included) and the idlest past `--tcp-max-connections` per address: the limits DoT
 * has from the TCP server, which `Deno.serve` does not offer.
 */
function sweepDoh(
  sockets: TcpSockets,
  doh: readonly DohServer[],
  options: TcpServerOptions,
): ReturnType<typeof setInterval> {
  const { idleTimeoutMs = 10_000, maxConnections = 150 } = options;
  const timer = setInterval(() => {
    for (const server of doh) {
      const { closed } = sockets.sweep(server.addr, idleTimeoutMs, maxConnections);
      if (closed > 0 && log.isEnabledFor("debug")) {
        log.debug("Closed {count} idle DoH connections on {address}", {
          count: closed,
          address: formatAddress(server.addr),
        });
      }
    }
  }, Math.max(500, idleTimeoutMs / 2));
  Deno.unrefTimer(timer);
  return timer;
}
