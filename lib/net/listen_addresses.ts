/**
 * The addresses dnsd listens on: listen items (`--host`, repeatable) turned into IP addresses, a
 * host name looked up in the text of /etc/hosts, and which of them reach past this machine. Pure:
 * the caller reads the file.
 *
 * Names are looked up in /etc/hosts only, never in the DNS: dnsd is often the system's own
 * resolver (`nameserver 127.0.0.1`), so at start-up a DNS lookup would ask the server that is
 * starting, and wait for its timeout. `Deno.resolveDns` cannot read /etc/hosts at all, and
 * `node:dns` `lookup()` goes through getaddrinfo(3), which falls back to the DNS for a name the
 * file does not have.
 * @module
 */
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "../proto/mod.ts";

/** An address to bind: an IP address (IPv6 without brackets) and a port. */
export interface BindAddress {
  readonly hostname: string;
  readonly port: number;
}

/** A listen item that names no address dnsd can bind. */
export class ListenAddressError extends Error {
  override name = "ListenAddressError";
}

/** RFC 6761 §6.3: `localhost` is the loopback address, even where /etc/hosts does not say so. */
const LOCALHOST = ["127.0.0.1", "::1"];

/** An IP address in one spelling (`::0001` and `::1` are one address), or null for a name. */
function canonicalIP(text: string): string | null {
  const v4 = parseIPv4(text);
  if (v4) return formatIPv4(v4);
  const v6 = parseIPv6(text);
  return v6 ? formatIPv6(v6) : null;
}

/**
 * The addresses of each name in hosts(5) text, in the file's order: the first field of a line is
 * an address, the others its names (case-insensitive); `#` starts a comment. Lines whose first
 * field is not an IP address are skipped.
 */
export function hostsAddresses(text: string): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const [address, ...aliases] = line.replace(/#.*/, "").trim().split(/\s+/);
    const ip = address ? canonicalIP(address) : null;
    if (!ip) continue;
    for (const alias of aliases) {
      const key = alias.toLowerCase().replace(/\.$/, "");
      const list = names.get(key) ?? [];
      if (!list.includes(ip)) list.push(ip);
      names.set(key, list);
    }
  }
  return names;
}

/**
 * Each listen item as the addresses to bind: an IP address as it is, a host name as every
 * address `hostsText` (the text of /etc/hosts, or null when it cannot be read) gives it, in the
 * file's order; `localhost` without an entry is 127.0.0.1 and ::1. An address given twice with
 * one port is bound once.
 * @throws {ListenAddressError} for a name the file does not have
 * @example resolveListen([{ hostname: "localhost", port: 53 }], "127.0.0.1 localhost\n::1 localhost\n")
 * // [{ hostname: "127.0.0.1", port: 53 }, { hostname: "::1", port: 53 }]
 */
export function resolveListen(items: readonly BindAddress[], hostsText: string | null): BindAddress[] {
  const hosts = hostsText === null ? new Map<string, string[]>() : hostsAddresses(hostsText);
  const bound: BindAddress[] = [];
  for (const item of items) {
    const ip = canonicalIP(item.hostname);
    const name = item.hostname.toLowerCase().replace(/\.$/, "");
    const addresses = ip ? [ip] : hosts.get(name) ?? (name === "localhost" ? LOCALHOST : null);
    if (!addresses) {
      throw new ListenAddressError(
        `--host ${item.hostname}: not an IP address, and /etc/hosts has no such name ` +
          "(names are not looked up in the DNS at start-up)",
      );
    }
    for (const hostname of addresses) {
      if (!bound.some((b) => b.hostname === hostname && b.port === item.port)) {
        bound.push({ hostname, port: item.port });
      }
    }
  }
  return bound;
}

/**
 * `addresses` with each 0.0.0.0:P left out where [::]:P is there too, for a system whose IPv6
 * wildcard sockets take IPv4 as well (Linux's default, `net.ipv6.bindv6only = 0`): there the two
 * cannot both be bound (the second fails with `address already in use`), and [::]:P alone serves
 * both families, IPv4 clients as ::ffff:a.b.c.d. Also returns the ports of the ones left out.
 */
export function mergeDualStack(
  addresses: readonly BindAddress[],
): { addresses: BindAddress[]; merged: number[] } {
  const v6Ports = new Set(addresses.filter((a) => a.hostname === "::").map((a) => a.port));
  const covered = (a: BindAddress) => a.hostname === "0.0.0.0" && v6Ports.has(a.port);
  return {
    addresses: addresses.filter((a) => !covered(a)),
    merged: addresses.filter(covered).map((a) => a.port),
  };
}

/**
 * Whether `hostname` (an IP address) can be reached only from this machine: 127.0.0.0/8, ::1 and
 * ::ffff:127.0.0.0/104. The unspecified addresses (0.0.0.0, ::) mean every interface: not loopback.
 */
export function isLoopback(hostname: string): boolean {
  const v4 = parseIPv4(hostname);
  if (v4) return v4[0] === 127;
  const v6 = parseIPv6(hostname);
  if (!v6) return false;
  const zeros = (from: number, to: number) => v6.subarray(from, to).every((octet) => octet === 0);
  if (zeros(0, 15) && v6[15] === 1) return true; // ::1
  return zeros(0, 10) && v6[10] === 0xff && v6[11] === 0xff && v6[12] === 127; // ::ffff:127.x.y.z
}

/**
 * The warning for listening beyond loopback while clients beyond loopback and the private networks
 * may recurse (`publicRecursion`: the `--allow-recursion` prefixes that reach them), naming both;
 * null when every address is loopback or no such prefix is allowed. An open resolver answers
 * anyone's recursive queries: it is used to amplify denial-of-service attacks (RFC 5358).
 */
export function openResolverWarning(
  addresses: readonly BindAddress[],
  publicRecursion: readonly string[],
): string | null {
  const exposed = addresses.filter((address) => !isLoopback(address.hostname)).map((a) => a.hostname);
  if (exposed.length === 0 || publicRecursion.length === 0) return null;
  return `Listening on ${exposed.join(", ")}, beyond loopback, and --allow-recursion lets ` +
    `${publicRecursion.join(", ")} recurse: this is an open resolver for them, which attackers use to ` +
    "amplify floods (RFC 5358). Keep --allow-recursion to your own networks (see docs/access-control.md)";
}
