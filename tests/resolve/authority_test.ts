/**
 * Authoritative answers through the real query -> response path (RFC 1034 section 4.3.2,
 * RFC 2308, RFC 6604, RFC 8020): exact matches, negative answers, CNAME chains, forwarding of
 * what leaves local data, and the precedence of zones over hosts files over mappings. Wildcards,
 * delegations, ANY and additional data are in authority_wildcard_test.ts.
 * @module
 */
import { MAX_CNAME_CHAIN } from "../../lib/resolve/authority.ts";
import { reverseName } from "../../lib/zone/hosts.ts";
import { Rcode, RRClass } from "../../lib/proto/types.ts";
import { type Row, testRows, UPSTREAM_ADDRESS } from "../_zone_fixture.ts";

/** dnsd.test's SOA in a negative answer: TTL min(3600, MINIMUM 300) = 300 (RFC 2308 section 3). */
const DNSD_SOA = "dnsd.test 300 SOA ns1.dnsd.test. hostmaster.dnsd.test. 2024010101 7200 900 1209600 300";
/** other.test's SOA in a negative answer: TTL min(60, MINIMUM 600) = 60. */
const OTHER_SOA = "other.test 60 SOA ns.other.test. hostmaster.other.test. 1 7200 900 1209600 600";

const WWW = "www.dnsd.test 3600 A 192.0.2.80";

/** The CNAMEs of `prefix1` .. `prefix{count}` in dnsd.test, each to the next. */
function chainLinks(prefix: string, count: number): string[] {
  return Array.from(
    { length: count },
    (_, i) => `${prefix}${i + 1}.dnsd.test 3600 CNAME ${prefix}${i + 2}.dnsd.test.`,
  );
}

const rows: readonly Row[] = [
  {
    name: "answers an exact match from the zone with AA=1, over hosts and mappings of that name",
    question: "www.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [WWW],
  },
  {
    name: "answers QCLASS ANY from the zone with AA=0: no server holds every class (as NSD answers)",
    question: `www.dnsd.test A ${RRClass.ANY}`,
    rcode: Rcode.NOERROR,
    aa: false,
    answer: [WWW],
  },
  {
    name: "matches a name case-insensitively and answers with the case asked",
    question: "WwW.DnSd.TeSt A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["WwW.DnSd.TeSt 3600 A 192.0.2.80"],
  },
  {
    name: "answers NODATA with the SOA at its MINIMUM when MINIMUM is below the SOA TTL",
    question: "www.dnsd.test AAAA",
    rcode: Rcode.NOERROR,
    aa: true,
    authority: [DNSD_SOA],
  },
  {
    name: "answers NODATA with the SOA at its TTL when the TTL is below MINIMUM",
    question: "host.other.test AAAA",
    rcode: Rcode.NOERROR,
    aa: true,
    authority: [OTHER_SOA],
  },
  {
    name: "answers NXDOMAIN with the SOA for a name the zone lacks",
    question: "nope.dnsd.test A",
    rcode: Rcode.NXDOMAIN,
    aa: true,
    authority: [DNSD_SOA],
  },
  {
    name: "answers NXDOMAIN with the SOA TTL capped by the SOA's own TTL",
    question: "deep.nope.other.test TXT",
    rcode: Rcode.NXDOMAIN,
    aa: true,
    authority: [OTHER_SOA],
  },
  {
    name: "answers NODATA, not NXDOMAIN, for an empty non-terminal (RFC 8020)",
    question: "b.c.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    authority: [DNSD_SOA],
  },
  {
    name: "answers NODATA for an empty non-terminal two labels above the data",
    question: "C.dnsd.test TXT",
    rcode: Rcode.NOERROR,
    aa: true,
    authority: [DNSD_SOA],
  },
  {
    name: "follows a CNAME inside the zone",
    question: "alias.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["alias.dnsd.test 3600 CNAME www.dnsd.test.", WWW],
  },
  {
    name: "keeps the case asked on the CNAME and the target's case on the data",
    question: "ALIAS.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["ALIAS.dnsd.test 3600 CNAME www.dnsd.test.", WWW],
  },
  {
    name: "follows a chain of two CNAMEs",
    question: "alias2.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [
      "alias2.dnsd.test 3600 CNAME alias.dnsd.test.",
      "alias.dnsd.test 3600 CNAME www.dnsd.test.",
      WWW,
    ],
  },
  {
    name: "follows a CNAME into another local zone",
    question: "cross.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["cross.dnsd.test 3600 CNAME host.other.test.", "host.other.test 120 A 192.0.2.77"],
  },
  {
    name: "follows a CNAME to a hosts-file name",
    question: "tohosts.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["tohosts.dnsd.test 3600 CNAME inzone.dnsd.test.", "inzone.dnsd.test 300 A 192.0.2.101"],
  },
  {
    name: "answers a CNAME to a name without the type with the CNAME and the SOA",
    question: "alias.dnsd.test AAAA",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["alias.dnsd.test 3600 CNAME www.dnsd.test."],
    authority: [DNSD_SOA],
  },
  {
    name: "stops a CNAME loop with both CNAMEs and NOERROR",
    question: "loop1.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["loop1.dnsd.test 3600 CNAME loop2.dnsd.test.", "loop2.dnsd.test 3600 CNAME loop1.dnsd.test."],
  },
  {
    name: `follows a chain of exactly MAX_CNAME_CHAIN (${MAX_CNAME_CHAIN}) CNAMEs to its data`,
    question: "long1.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [
      ...chainLinks("long", MAX_CNAME_CHAIN),
      `long${MAX_CNAME_CHAIN + 1}.dnsd.test 3600 A 192.0.2.99`,
    ],
  },
  {
    name: "stops a chain longer than MAX_CNAME_CHAIN after following that many CNAMEs",
    question: "over1.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: chainLinks("over", MAX_CNAME_CHAIN + 1),
  },
  {
    name: "answers NXDOMAIN with the CNAME for a CNAME to a name the zone lacks (RFC 6604)",
    question: "dangling.dnsd.test A",
    rcode: Rcode.NXDOMAIN,
    aa: true,
    answer: ["dangling.dnsd.test 3600 CNAME nowhere.dnsd.test."],
    authority: [DNSD_SOA],
  },
  {
    name: "forwards the target of a CNAME that leaves local data (RD=1) and clears AA",
    question: "external.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: false,
    answer: ["external.dnsd.test 3600 CNAME cdn.upstream.net.", `cdn.upstream.net 30 A ${UPSTREAM_ADDRESS}`],
    upstream: ["cdn.upstream.net A 1"],
  },
  {
    name: "answers only the CNAME that leaves local data when RD=0, asking no upstream",
    question: "external.dnsd.test A",
    rd: false,
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["external.dnsd.test 3600 CNAME cdn.upstream.net."],
  },
  {
    name: "forwards the target of a CNAME into a delegated subzone (RD=1)",
    question: "intocut.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: false,
    answer: [
      "intocut.dnsd.test 3600 CNAME host.subdel.dnsd.test.",
      `host.subdel.dnsd.test 30 A ${UPSTREAM_ADDRESS}`,
    ],
    upstream: ["host.subdel.dnsd.test A 1"],
  },
  {
    name: "answers a CNAME question with the CNAME itself, not chased",
    question: "alias2.dnsd.test CNAME",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["alias2.dnsd.test 3600 CNAME alias.dnsd.test."],
  },
  {
    name: "answers a hosts-file name inside a zone that the zone lacks from the hosts file",
    question: "inzone.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["inzone.dnsd.test 300 A 192.0.2.101"],
  },
  {
    name: "answers NODATA with the zone's SOA for another type of a hosts-file name inside the zone",
    question: "inzone.dnsd.test TXT",
    rcode: Rcode.NOERROR,
    aa: true,
    authority: [DNSD_SOA],
  },
  {
    name: "answers NODATA, not NXDOMAIN, for a name in a zone that only a hosts-file name below makes exist",
    question: "under.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    authority: [DNSD_SOA],
  },
  {
    name: "still answers NXDOMAIN beside that name",
    question: "other.under.dnsd.test A",
    rcode: Rcode.NXDOMAIN,
    aa: true,
    authority: [DNSD_SOA],
  },
  {
    name: "answers a name in hosts and mappings from the hosts file",
    question: "shared.lan A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["shared.lan 300 A 192.0.2.103"],
  },
  {
    name: "answers NODATA for a type only the hidden mapping has (hosts hide a mapping entirely)",
    question: "shared.lan TXT",
    rcode: Rcode.NOERROR,
    aa: true,
  },
  {
    name: "answers a mapped name with AA=1",
    question: "MAPPED.lan A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["MAPPED.lan 300 A 198.51.100.3"],
  },
  {
    name: "answers PTR under in-addr.arpa from a hosts file",
    question: "100.2.0.192.in-addr.arpa PTR",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["100.2.0.192.in-addr.arpa 300 PTR printer.lan."],
  },
  {
    name: "answers PTR under ip6.arpa from a hosts file",
    question: `${reverseName("2001:db8::5")} PTR`,
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [`${reverseName("2001:db8::5")} 300 PTR nas6.lan.`],
  },
  {
    name: "forwards a name outside local data when RD=1",
    question: "elsewhere.net A",
    rcode: Rcode.NOERROR,
    aa: false,
    answer: [`elsewhere.net 30 A ${UPSTREAM_ADDRESS}`],
    upstream: ["elsewhere.net A 1"],
  },
  {
    name: "refuses a name outside local data when RD=0",
    question: "elsewhere.net A",
    rd: false,
    rcode: Rcode.REFUSED,
    aa: false,
  },
  {
    name: "refuses a class CH question for a local name when RD=0",
    question: `www.dnsd.test TXT ${RRClass.CH}`,
    rd: false,
    rcode: Rcode.REFUSED,
    aa: false,
  },
  {
    name: "forwards a class CH question for a local name when RD=1",
    question: `www.dnsd.test TXT ${RRClass.CH}`,
    rcode: Rcode.NOERROR,
    aa: false,
    upstream: [`www.dnsd.test TXT ${RRClass.CH}`],
  },
];

testRows(rows);
