/**
 * The built-in local names. Data only; dnsd validates it at startup and refuses to start on a
 * bad entry. Records are class IN with TTL 300 unless a record set gives its own `ttl`, and are
 * answered with AA=1.
 *
 * A value is one of:
 * ```ts
 * const forms: Mappings = {
 *   "nas.lan": "192.168.1.5", // an IPv4 address: one A record
 *   "v6.lan": "2001:db8::5", // an IPv6 address: one AAAA record
 *   "dual.lan": ["192.168.1.6", "2001:db8::6"], // several addresses, IPv4 and IPv6 mixed
 *   "lan": { // a record set: type mnemonic -> one value or a list
 *     A: ["192.168.1.1", "192.168.1.2"],
 *     AAAA: "2001:db8::1",
 *     MX: ["10 mail.lan", "20 backup.lan"], // zone-file RDATA text; names are absolute
 *     TXT: ["v=spf1 mx -all", "text is literal UTF-8"], // one TXT record per string
 *     ttl: 60, // seconds, 0 to 2147483647
 *   },
 *   "_sip._udp.lan": { SRV: "0 5 5060 sip.lan" },
 *   "www.lan": { CNAME: "lan" }, // a CNAME stands alone (RFC 1034 section 3.6.2)
 * };
 * ```
 * @module
 */
import type { Mappings } from "./lib/zone/mod.ts";

/** Name -> address. Matching is case-insensitive; a trailing dot is optional. */
const mappings: Mappings = {
  "example.com": "8.8.8.8",
  "test.com": "8.8.4.4",
  "helloworld.com": "1.1.1.1",
  "random.org": "1.0.0.1",
};

export default mappings;
