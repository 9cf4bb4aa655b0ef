/**
 * The metrics port's HTTP server (Deno's built-in `Deno.serve`): a table of routes, "METHOD /path"
 * to handler, that the server start fills (`/metrics`, `/health`, `/ready` here; `/explain`,
 * `/cache/flush` and `/reload` are added the same way). Nothing else is served.
 * @module
 */

/** Answers one HTTP request. */
export type RouteHandler = (request: Request, client: Deno.NetAddr) => Response | Promise<Response>;

/** Handlers by "METHOD /path" (the path without its query string), e.g. `"GET /metrics"`. */
export type Routes = Record<string, RouteHandler>;

/** A metrics server that is listening. */
export interface HttpServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: Deno.NetAddr;
  /** Stops listening; resolves once it has. */
  shutdown(): Promise<void>;
}

/** Finds the handler for `request` in `routes`: 404 for an unknown path, 405 for a known path and another method. */
export function route(routes: Routes, request: Request, client: Deno.NetAddr): Response | Promise<Response> {
  const path = new URL(request.url).pathname;
  const handler = routes[`${request.method} ${path}`];
  if (handler) return handler(request, client);
  const known = Object.keys(routes).some((key) => key.slice(key.indexOf(" ") + 1) === path);
  return new Response(known ? "method not allowed\n" : "not found\n", { status: known ? 405 : 404 });
}

/**
 * Serves `routes` on `hostname`:`port` until shut down.
 * @throws {Deno.errors.AddrInUse} when the port is taken
 */
export function serveHttp(hostname: string, port: number, routes: Routes): HttpServer {
  const server = Deno.serve(
    { hostname, port, onListen: () => {} },
    (request, info) => route(routes, request, info.remoteAddr),
  );
  return { address: server.addr, shutdown: () => server.shutdown() };
}

/** Parses `--metrics`: `HOST:PORT`, `[V6]:PORT`, or a bare `PORT` (loopback). Null when malformed. */
export function parseHttpAddress(text: string): { hostname: string; port: number } | null {
  const port = (digits: string) =>
    /^[0-9]{1,5}$/.test(digits) && Number(digits) <= 65_535 ? Number(digits) : null;
  if (/^[0-9]+$/.test(text)) {
    const only = port(text);
    return only === null ? null : { hostname: "127.0.0.1", port: only };
  }
  const v6 = /^\[([0-9a-fA-F:.]+)\]:([0-9]+)$/.exec(text);
  const colon = text.lastIndexOf(":");
  const hostname = v6 ? v6[1]! : text.slice(0, colon);
  const number = port(v6 ? v6[2]! : text.slice(colon + 1));
  if (number === null || hostname === "" || (!v6 && (colon < 0 || hostname.includes(":")))) return null;
  return { hostname, port: number };
}
