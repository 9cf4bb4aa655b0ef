/**
 * Forwarding by domain (`--forward-zone DOMAIN=HOST[:PORT],...`; dnsmasq's `server=/lan/...`,
 * unbound's `forward-zone`): names at or below a forward zone's domain go to its upstreams, the
 * rest to the default ones. The router is pure data and lookups, so the config check's assertions
 * can ask where a name would go without sending anything.
 * @module
 */
import { nameKey, parentName } from "../proto/mod.ts";
import type { Stage } from "../resolve/mod.ts";
import type { Upstream } from "./udp_exchange.ts";

/** One forward zone: a domain and the upstreams its names go to, in order. */
export interface ForwardZone {
  /** The domain (any case, with or without the root dot); never the root. */
  readonly domain: string;
  /** Its upstreams, tried like the default ones. */
  readonly upstreams: readonly Upstream[];
}

/** Where a name goes. */
export interface ForwardRoute {
  /** The forward zone's domain as a key ({@link nameKey}); "" for the default upstreams. */
  readonly domain: string;
  /** The upstreams, in the order given. */
  readonly upstreams: readonly Upstream[];
  /** The forward zone's place in the list given, or -1 for the default upstreams. */
  readonly index: number;
}

/** Says which upstreams a name goes to: the longest matching forward zone's, else the defaults. */
export interface ForwardRouter {
  /** The route of `name` (any case, with or without the root dot). */
  route(name: string): ForwardRoute;
  /** The forward zones' domains, as keys, in the order given. */
  readonly domains: readonly string[];
}

/**
 * Makes the router. Each domain may appear once (the command line checks; here a later one would
 * simply never match).
 * @param defaults the upstreams of every name no forward zone covers
 * @param zones the forward zones
 */
export function forwardRouter(defaults: readonly Upstream[], zones: readonly ForwardZone[]): ForwardRouter {
  const fallback: ForwardRoute = { domain: "", upstreams: defaults, index: -1 };
  const routes = new Map<string, ForwardRoute>();
  zones.forEach((zone, index) => {
    const domain = nameKey(zone.domain);
    if (!routes.has(domain)) routes.set(domain, { domain, upstreams: zone.upstreams, index });
  });
  const domains = zones.map((zone) => nameKey(zone.domain));
  // The last labels of the domains: most names share none, and are routed by one Set lookup.
  const tails = new Set(domains.map((domain) => domain.slice(domain.lastIndexOf(".") + 1)));
  return {
    domains,
    route(name) {
      if (routes.size === 0) return fallback;
      // A prefilter on the last label as written (an escaped dot is settled by the walk below).
      const end = name.endsWith(".") ? name.length - 1 : name.length;
      if (!tails.has(name.slice(name.lastIndexOf(".", end - 1) + 1, end).toLowerCase())) return fallback;
      const key = nameKey(name);
      // Longest match first: from the name itself up towards the root.
      for (let at = key; at !== ""; at = parentName(at)) {
        const route = routes.get(at);
        if (route) return route;
      }
      return fallback;
    },
  };
}

/**
 * The forwarding stage by domain: each request goes to the stage of its route, `defaults` when no
 * forward zone covers its name, else `zones[route.index]` (one `forward()` per forward zone, over
 * its own upstream pools).
 */
export function routedForward(router: ForwardRouter, defaults: Stage, zones: readonly Stage[]): Stage {
  if (zones.length === 0) return defaults;
  return function routedForward(request, next) {
    const { index } = router.route(request.message.questions[0]?.name ?? "");
    return (index < 0 ? defaults : zones[index]!)(request, next);
  };
}
