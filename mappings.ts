/**
 * The built-in local names: each answers with one A (IPv4) or AAAA (IPv6) record, TTL 300, AA=1.
 * Data only; dnsd validates it at startup and refuses to start on a bad entry.
 * @module
 */
import type { Mappings } from "./lib/static_map.ts";

/** Name -> address. Matching is case-insensitive; a trailing dot is optional. */
const mappings: Mappings = {
  "example.com": "8.8.8.8",
  "test.com": "8.8.4.4",
  "helloworld.com": "1.1.1.1",
  "random.org": "1.0.0.1",
};

export default mappings;
