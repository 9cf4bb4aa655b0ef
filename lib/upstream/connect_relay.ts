/**
 * A CONNECT relay on loopback for a DoH upstream given with `#IP`: Deno's fetch can connect to a
 * name only by looking it up, and its `tcp` proxy transport sends requests in plain text. Through
 * an HTTP proxy it tunnels `https:` with CONNECT and still does TLS itself, end to end, with the
 * URL's name as SNI and as the name the certificate must carry. This relay is that proxy: it
 * accepts a CONNECT for the URL's authority only and joins it to the given address.
 * @module
 */
import { formatAddress } from "./udp_exchange.ts";

/** A running relay: the proxy URL to give `Deno.createHttpClient`, and how to stop it. */
export interface ConnectRelay {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Stops accepting and closes every tunnel. */
  close(): void;
}

/** The longest a CONNECT request may be, and the longest it may take to arrive. */
const HEAD_LIMIT = 2048;
const HEAD_MS = 5_000;

/** Reads a request head, up to the blank line; null when it is too long, too slow or cut short. */
async function readHead(conn: Deno.Conn): Promise<string | null> {
  const buffer = new Uint8Array(HEAD_LIMIT);
  let length = 0;
  const timer = setTimeout(() => conn.close(), HEAD_MS);
  try {
    while (length < HEAD_LIMIT) {
      const count = await conn.read(buffer.subarray(length));
      if (count === null) return null;
      length += count;
      const text = new TextDecoder().decode(buffer.subarray(0, length));
      // hyper writes the head and waits for the answer: nothing follows the blank line yet.
      if (text.endsWith("\r\n\r\n")) return text;
    }
    return null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts a relay on 127.0.0.1 (an ephemeral port) that joins a `CONNECT authority` to `target`.
 * Any other request is closed unanswered, so the relay reaches nowhere but that one server.
 */
export function connectRelay(authority: string, target: { hostname: string; port: number }): ConnectRelay {
  const listener = Deno.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const expected = `CONNECT ${authority} HTTP/1.1`.toLowerCase();
  const hold = (conn: Deno.Conn) => open.add(conn);
  const release = (conn: Deno.Conn) => {
    if (!open.delete(conn)) return;
    try {
      conn.close();
    } catch {
      // closed already
    }
  };

  async function tunnel(client: Deno.Conn): Promise<void> {
    hold(client);
    let server: Deno.Conn | undefined;
    try {
      const head = await readHead(client);
      if (head === null || head.split("\r\n", 1)[0]!.toLowerCase() !== expected) return;
      server = await Deno.connect({ hostname: target.hostname, port: target.port });
      hold(server);
      await client.write(new TextEncoder().encode("HTTP/1.1 200 Connection established\r\n\r\n"));
      // Either side ending ends both.
      await Promise.race([
        client.readable.pipeTo(server.writable, { preventClose: true }),
        server.readable.pipeTo(client.writable, { preventClose: true }),
      ]);
    } catch {
      // A refused connection or a reset: the client's fetch fails, and says why.
    } finally {
      if (server) release(server);
      release(client);
    }
  }

  (async () => {
    try {
      for await (const conn of listener) void tunnel(conn);
    } catch {
      // closed
    }
  })();
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      try {
        listener.close();
      } catch {
        // closed already
      }
      for (const conn of [...open]) release(conn);
    },
  };
}

/** The authority of `url` as CONNECT names it: HOST:PORT, the port always given. */
export function connectAuthority(url: URL): string {
  const port = url.port === "" ? 443 : Number(url.port);
  return formatAddress({ hostname: url.hostname.replace(/^\[|\]$/g, ""), port });
}
