/**
 * DNAME (RFC 6672) through the real query -> response path: the CNAME synthesized for a name below
 * the owner (owner as asked, TTL of the DNAME), followed inside local data or forwarded; the owner
 * itself answered as any name; a CNAME asked for; YXDOMAIN when the substitute would be over 255
 * octets; ANY over UDP keeping the redirection. A zone with names below a DNAME is refused
 * (tests/zone/_broken_zones.ts); the same answers are checked against NSD's in
 * tests/interop/record_types_test.ts.
 * @module
 */
import { Rcode } from "../../lib/proto/types.ts";
import { type Row, testRows, UPSTREAM_ADDRESS } from "../_zone_fixture.ts";

const DNSD_SOA = "dnsd.test 300 SOA ns1.dnsd.test. hostmaster.dnsd.test. 2024010101 7200 900 1209600 300";
const OTHER_SOA = "other.test 60 SOA ns.other.test. hostmaster.other.test. 1 7200 900 1209600 600";
const REDIRECT = "redirect.dnsd.test 3600 DNAME other.test.";
/** host.redirect.dnsd.test: the DNAME, the CNAME made from it, and the target's A in other.test. */
const HOST_CHAIN = [
  REDIRECT,
  "host.redirect.dnsd.test 3600 CNAME host.other.test.",
  "host.other.test 120 A 192.0.2.77",
];
const LONG_TARGET = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.dnsd.test.`;

const rows: readonly Row[] = [
  {
    name: "synthesizes a CNAME below a DNAME and follows it into another zone (RFC 6672 section 3.2)",
    question: "host.redirect.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: HOST_CHAIN,
  },
  {
    name:
      "writes the synthesized CNAME's owner and prefix as asked (the DNAME's owner is compressed against the question)",
    question: "HoSt.ReDirect.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [
      "ReDirect.dnsd.test 3600 DNAME other.test.",
      "HoSt.ReDirect.dnsd.test 3600 CNAME HoSt.other.test.",
      "HoSt.other.test 120 A 192.0.2.77",
    ],
  },
  {
    name: "answers the rcode of the substitute's lookup: NXDOMAIN in the target zone (RFC 6604)",
    question: "nope.redirect.dnsd.test A",
    rcode: Rcode.NXDOMAIN,
    aa: true,
    answer: [REDIRECT, "nope.redirect.dnsd.test 3600 CNAME nope.other.test."],
    authority: [OTHER_SOA],
  },
  {
    name: "answers the DNAME's owner as any name: NODATA for A",
    question: "redirect.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    authority: [DNSD_SOA],
  },
  {
    name: "answers the DNAME's owner as any name: the DNAME for DNAME",
    question: "redirect.dnsd.test DNAME",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [REDIRECT],
  },
  {
    name: "stops at the synthesized CNAME when CNAME is asked",
    question: "host.redirect.dnsd.test CNAME",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [REDIRECT, "host.redirect.dnsd.test 3600 CNAME host.other.test."],
  },
  {
    name: "follows a DNAME to its own zone's apex",
    question: "www.inside.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [
      "inside.dnsd.test 3600 DNAME dnsd.test.",
      "www.inside.dnsd.test 3600 CNAME www.dnsd.test.",
      "www.dnsd.test 3600 A 192.0.2.80",
    ],
  },
  {
    name: "forwards the substitute when it leaves local data (RD=1), with AA cleared",
    question: "x.out.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: false,
    answer: [
      "out.dnsd.test 3600 DNAME upstream.net.",
      "x.out.dnsd.test 3600 CNAME x.upstream.net.",
      `x.upstream.net 30 A ${UPSTREAM_ADDRESS}`,
    ],
    upstream: ["x.upstream.net A 1"],
  },
  {
    name: "answers YXDOMAIN with the DNAME when the substitute would be over 255 octets (section 2.2)",
    question: `${"x".repeat(60)}.${"y".repeat(50)}.long.dnsd.test A`,
    rcode: Rcode.YXDOMAIN,
    aa: true,
    answer: [`long.dnsd.test 3600 DNAME ${LONG_TARGET}`],
  },
  {
    name: "keeps the DNAME and its CNAME in a minimal ANY answer over UDP (RFC 8482)",
    question: "host.redirect.dnsd.test ANY",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: HOST_CHAIN,
  },
];

testRows(rows);
