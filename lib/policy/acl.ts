/**
 * Access control (`--allow`, `--deny`) as an admission hook, and who may recurse
 * (`--allow-recursion`, `--no-recursion`): the rules unbound's `access-control`, BIND's
 * `allow-query` and `allow-recursion` and Knot Resolver's views give, on dnsd's request context.
 * Typed on the shapes it needs, since `policy/` sits beside `resolve/` and may not import it.
 * @module
 */
import { Refused } from "../proto/mod.ts";
import { type ClientAddress, parsePrefix, PrefixSet, prefixWithin } from "./acl_prefix.ts";

/** Who may ask at all: `--allow` and `--deny`, each a list of CIDRs. */
export interface AccessRules {
  /** Allowed prefixes; empty: every address not denied. */
  readonly allow: readonly string[];
  /** Denied prefixes: a client inside one is refused even where an `--allow` is more specific. */
  readonly deny: readonly string[];
}

/** The networks `--allow-recursion` allows when not given: loopback and the private ranges. */
export const DEFAULT_RECURSION_PREFIXES: readonly string[] = Object.freeze([
  "127.0.0.0/8",
  "::1",
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "fc00::/7",
]);

/** What a hook sees of a query's context (the shape of `QueryContext` in lib/resolve). */
export interface ClientContext {
  /** The client's address. */
  readonly client: ClientAddress;
}

/**
 * The access rules as a test of an address: denied when inside a `deny` prefix, or when `allow`
 * is given and the address lies in none of it. Each CIDR is parsed once, here.
 * @throws {PrefixError} when a CIDR cannot be read
 */
export function accessCheck(rules: AccessRules): ((client: ClientAddress) => boolean) | null {
  if (rules.allow.length === 0 && rules.deny.length === 0) return null;
  const allow = PrefixSet.parse(rules.allow);
  const deny = PrefixSet.parse(rules.deny);
  const open = rules.allow.length === 0;
  return function allowed(client) {
    return !deny.hasClient(client) && (open || allow.hasClient(client));
  };
}

/**
 * An access check (see {@link accessCheck}) as an admission hook (`QueryHook` of lib/resolve):
 * "refuse" for a denied client, which the server answers REFUSED with EDE 18 (Prohibited) when
 * the query has EDNS, over UDP and TCP, memo hits included.
 */
export function accessControl(
  allowed: (client: ClientAddress) => boolean,
): (wire: Uint8Array, context: ClientContext) => "answer" | "refuse" {
  return function accessControl(_wire, context) {
    return allowed(context.client) ? "answer" : "refuse";
  };
}

/** Who may recurse, and whether dnsd recurses at all. */
export interface RecursionRules {
  /** `--no-recursion`: authoritative only, for everyone. */
  readonly disabled: boolean;
  /** The prefixes allowed to recurse (`--allow-recursion`). */
  readonly allow: readonly string[];
}

/**
 * Whether a client may have answers from the cache and upstreams. With `disabled`, no one.
 * @throws {PrefixError} when a CIDR cannot be read
 */
export function recursionCheck(rules: RecursionRules): (client: ClientAddress) => boolean {
  if (rules.disabled) return () => false;
  const allow = PrefixSet.parse(rules.allow);
  return function mayRecurse(client) {
    return allow.hasClient(client);
  };
}

/**
 * The stage placed after the local stages and before the cache: a client that may not recurse
 * gets REFUSED (EDE 18 with EDNS) for anything local data did not answer, so neither the cache nor
 * an upstream ever answers it. Typed on its own request shape (it may not import lib/resolve).
 */
export function recursionGate<R extends ClientContext, M>(
  mayRecurse: (client: ClientAddress) => boolean,
): (request: R, next: (request: R) => Promise<M>) => Promise<M> {
  return function recursionGate(request, next) {
    if (mayRecurse(request.client)) return next(request);
    return Promise.reject(new Refused("recursion is not allowed"));
  };
}

/**
 * The `--allow-recursion` prefixes that reach beyond loopback and the private networks of
 * {@link DEFAULT_RECURSION_PREFIXES} (`0.0.0.0/0`, a public range): listening beyond loopback with
 * any of them makes dnsd an open resolver for those clients. Empty with `--no-recursion`.
 */
export function publicRecursion(rules: RecursionRules): string[] {
  if (rules.disabled) return [];
  const privateRanges = DEFAULT_RECURSION_PREFIXES.map(parsePrefix);
  return rules.allow.filter((text) => {
    const prefix = parsePrefix(text);
    return !privateRanges.some((range) => prefixWithin(prefix, range));
  });
}
