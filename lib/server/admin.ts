/**
 * The HTTP endpoints of explain and the admin API, as plain handlers over web `Request` and
 * `Response`, to be mounted on the metrics port (`--metrics`): `GET /explain`, `POST /cache/flush`
 * and `POST /reload`. No server of their own: whoever serves HTTP passes each request and the
 * client's address. With `--admin-token` the POST endpoints need `Authorization: Bearer TOKEN`;
 * without one they are served to loopback clients only. A refused attempt is counted and logged
 * at most once per 10 s (a remote party must not fill the log).
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { checkName, parseIPv4, parseIPv6, typeFromText } from "../proto/mod.ts";
import { isLoopback } from "../net/mod.ts";
import { RemoteEvents } from "../observe/mod.ts";
import type { ExplainQuestion, Explanation } from "./explain.ts";

const log = getLogger(["dnsd", "admin"]);

/** What `POST /reload` says: the new configuration is in force, or the running one stayed and why. */
export type ReloadReport =
  | { readonly reloaded: true; readonly records: number; readonly changed: readonly string[] }
  | { readonly reloaded: false; readonly errors: readonly string[] };

/** What the handlers act on. */
export interface AdminOptions {
  /** `--admin-token` in force: the bearer token the POST endpoints need; null: loopback clients only. */
  readonly token: () => string | null;
  /** Explains a question (see lib/server/explain.ts). */
  readonly explain: (question: ExplainQuestion) => Promise<Explanation>;
  /** Drops cached answers, all or those at or below `name`; returns how many. */
  readonly flush: (name?: string) => number | Promise<number>;
  /** The SIGHUP transaction: reloads, and says what changed or why it was refused. */
  readonly reload: () => Promise<ReloadReport>;
  /** Milliseconds on a monotonic clock, for the log's rate (default `performance.now()`). */
  readonly now?: () => number;
}

/** A handler: the request and the client's address (the HTTP server knows it). */
export type AdminHandler = (request: Request, client: { readonly hostname: string }) => Promise<Response>;

/** The handlers, by path; {@link adminRoute} picks one. */
export interface AdminHandlers {
  /** `GET /explain?name=NAME&type=TYPE[&client=IP][&do=1]`. */
  readonly explain: AdminHandler;
  /** `POST /cache/flush[?name=NAME]`. */
  readonly flush: AdminHandler;
  /** `POST /reload`. */
  readonly reload: AdminHandler;
}

/** A JSON response. */
function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(`${JSON.stringify(body, null, 2)}\n`, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

/** Compares two strings in time that depends only on their lengths (a token must not leak by timing). */
function sameText(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let differ = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) differ |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return differ === 0;
}

/**
 * The question of an explain request, or why it is not one.
 * @returns the question, or the message for a 400
 */
export function explainQuestion(params: URLSearchParams): ExplainQuestion | string {
  const name = params.get("name");
  if (name === null || name === "") return "name is needed: /explain?name=NAME&type=TYPE";
  try {
    checkName(name);
  } catch (error) {
    return `name "${name}" is not a domain name (${error instanceof Error ? error.message : error})`;
  }
  const typeText = params.get("type") ?? "A";
  const type = typeFromText(typeText);
  if (type === null) return `type "${typeText}" is not a record type`;
  const client = params.get("client") ?? "127.0.0.1";
  if (!parseIPv4(client) && !parseIPv6(client)) return `client "${client}" is not an IP address`;
  const flag = params.get("do");
  if (flag !== null && flag !== "0" && flag !== "1") return `do "${flag}" is not 0 or 1`;
  return { name, type, client, dnssecOk: flag === "1" };
}

/**
 * Makes the handlers.
 * @example
 * ```ts
 * const admin = adminHandlers({ token: () => null, explain, flush, reload });
 * Deno.serve((request, info) => adminRoute(admin, request, info.remoteAddr) ?? new Response(null, { status: 404 }));
 * ```
 */
export function adminHandlers(options: AdminOptions): AdminHandlers {
  const events = new RemoteEvents(log, options.now ? { now: options.now } : {});

  /** Null when the client may POST; else the refusal. */
  function refusal(request: Request, client: { readonly hostname: string }): Response | null {
    if (request.method !== "POST") return json(405, { error: "use POST" }, { allow: "POST" });
    const token = options.token();
    if (token === null) {
      if (isLoopback(client.hostname)) return null;
      events.report("admin-not-loopback", "warning", "Admin API refused to {client}: no --admin-token set", {
        client: client.hostname,
      });
      return json(403, { error: "without --admin-token the admin API is served to loopback clients only" });
    }
    const header = request.headers.get("authorization") ?? "";
    const given = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? "";
    if (sameText(given, token)) return null;
    events.report("admin-bad-token", "warning", "Admin API refused to {client}: wrong or missing token", {
      client: client.hostname,
    });
    return json(401, { error: "Authorization: Bearer TOKEN is needed" }, { "www-authenticate": "Bearer" });
  }

  return {
    async explain(request) {
      if (request.method !== "GET") return json(405, { error: "use GET" }, { allow: "GET" });
      const question = explainQuestion(new URL(request.url).searchParams);
      if (typeof question === "string") return json(400, { error: question });
      return json(200, await options.explain(question));
    },
    async flush(request, client) {
      const refused = refusal(request, client);
      if (refused) return refused;
      const name = new URL(request.url).searchParams.get("name");
      if (name !== null) {
        try {
          checkName(name);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          return json(400, { error: `name "${name}" is not a domain name (${reason})` });
        }
      }
      const flushed = await options.flush(name ?? undefined);
      log.info("Cache flushed through the admin API ({which}): {flushed} entries", {
        which: name ?? "everything",
        flushed,
      });
      return json(200, { flushed, name });
    },
    async reload(request, client) {
      const refused = refusal(request, client);
      if (refused) return refused;
      const report = await options.reload();
      return json(report.reloaded ? 200 : 409, report);
    },
  };
}

/**
 * The handler for a request's path and its answer; null for a path that is none of these (the
 * caller serves its own, or 404).
 */
export function adminRoute(
  handlers: AdminHandlers,
  request: Request,
  client: { readonly hostname: string },
): Promise<Response> | null {
  const path = new URL(request.url).pathname;
  if (path === "/explain") return handlers.explain(request, client);
  if (path === "/cache/flush") return handlers.flush(request, client);
  if (path === "/reload") return handlers.reload(request, client);
  return null;
}
