/**
 * Authoritative answers through respond(): wildcards (the RFC 4592 section 2.2.1 examples, a
 * wildcard CNAME, an empty non-terminal wildcard), referrals at zone cuts with glue, DS at the
 * parent side of a cut, ANY, and target addresses in the additional section.
 * @module
 */
import { Rcode } from "../../lib/proto/types.ts";
import { type Row, testRows } from "../_zone_fixture.ts";

const EXAMPLE_SOA = "example 3600 SOA ns.example.com. hostmaster.example.com. 1 7200 900 1209600 3600";
const WILD_SOA = "wild.test 600 SOA ns.wild.test. hostmaster.wild.test. 7 7200 900 1209600 600";
const HOST1 = "host1.example 3600 A 192.0.2.1";

const SUBDEL_NS = [
  "subdel.dnsd.test 3600 NS ns.subdel.dnsd.test.",
  "subdel.dnsd.test 3600 NS ns.elsewhere.net.",
];
const SUBDEL_GLUE = ["ns.subdel.dnsd.test 3600 A 192.0.2.54"];
const MAIL = ["mail.dnsd.test 3600 A 192.0.2.25", "mail.dnsd.test 3600 AAAA 2001:db8::25"];

const rows: readonly Row[] = [
  // RFC 4592 section 2.2.1: "The following responses would be synthesized from one of the wildcards".
  {
    name: "synthesizes from a wildcard with the asked name as owner (host3.example MX)",
    question: "host3.example MX",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["host3.example 3600 MX 10 host1.example."],
    additional: [HOST1],
  },
  {
    name: "answers NODATA for a type the wildcard lacks (host3.example A)",
    question: "host3.example A",
    rcode: Rcode.NOERROR,
    aa: true,
    authority: [EXAMPLE_SOA],
  },
  {
    name: "synthesizes from a wildcard two labels down (foo.bar.example TXT)",
    question: "foo.bar.example TXT",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ['foo.bar.example 3600 TXT "this is a wildcard"'],
  },
  // RFC 4592 section 2.2.1: "The following responses would not be synthesized from any of the wildcards".
  {
    name: "does not apply a wildcard to a name that exists (host1.example MX)",
    question: "host1.example MX",
    rcode: Rcode.NOERROR,
    aa: true,
    authority: [EXAMPLE_SOA],
  },
  {
    name: "does not apply a wildcard below a wildcard's own subdomain (sub.*.example MX)",
    question: "sub.*.example MX",
    rcode: Rcode.NOERROR,
    aa: true,
    authority: [EXAMPLE_SOA],
  },
  {
    name: "answers NXDOMAIN when the closest encloser has no wildcard (_telnet._tcp.host1.example SRV)",
    question: "_telnet._tcp.host1.example SRV",
    rcode: Rcode.NXDOMAIN,
    aa: true,
    authority: [EXAMPLE_SOA],
  },
  {
    name: "refers rather than synthesizes below a zone cut (host.subdel.example A)",
    question: "host.subdel.example A",
    rcode: Rcode.NOERROR,
    aa: false,
    authority: ["subdel.example 3600 NS ns.example.com.", "subdel.example 3600 NS ns.example.net."],
  },
  {
    name: "answers NXDOMAIN when the wildcard itself is the closest encloser (ghost.*.example MX)",
    question: "ghost.*.example MX",
    rcode: Rcode.NXDOMAIN,
    aa: true,
    authority: [EXAMPLE_SOA],
  },
  {
    name: "answers a question for the wildcard name itself as an exact match",
    question: "*.example TXT",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ['*.example 3600 TXT "this is a wildcard"'],
  },
  {
    name: "follows a wildcard CNAME with the asked name as its owner",
    question: "Foo.cn.wild.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["Foo.cn.wild.test 600 CNAME host1.example.", HOST1],
  },
  {
    name: "answers NODATA for a name an empty non-terminal wildcard matches (RFC 4592 section 4.2)",
    question: "foo.ent.wild.test A",
    rcode: Rcode.NOERROR,
    aa: true,
    authority: [WILD_SOA],
  },
  {
    name: "answers ANY for a name an empty non-terminal wildcard matches with NODATA",
    question: "foo.ent.wild.test ANY",
    rcode: Rcode.NOERROR,
    aa: true,
    authority: [WILD_SOA],
  },
  {
    name: "refers a question for the zone cut itself, with glue",
    question: "subdel.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: false,
    authority: SUBDEL_NS,
    additional: SUBDEL_GLUE,
  },
  {
    name: "refers an NS question at the zone cut",
    question: "subdel.dnsd.test NS",
    rcode: Rcode.NOERROR,
    aa: false,
    authority: SUBDEL_NS,
    additional: SUBDEL_GLUE,
  },
  {
    name: "refers a question for a name below the zone cut",
    question: "deep.host.subdel.dnsd.test AAAA",
    rcode: Rcode.NOERROR,
    aa: false,
    authority: SUBDEL_NS,
    additional: SUBDEL_GLUE,
  },
  {
    name: "refers a question for the glue name rather than answering it",
    question: "ns.subdel.dnsd.test A",
    rcode: Rcode.NOERROR,
    aa: false,
    authority: SUBDEL_NS,
    additional: SUBDEL_GLUE,
  },
  {
    name: "answers DS at a zone cut from the parent with AA=1 (RFC 4035 section 3.1.4.1)",
    question: "subdel.dnsd.test DS",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["subdel.dnsd.test 3600 DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"],
  },
  {
    name: "refers DS for a name below the zone cut",
    question: "x.subdel.dnsd.test DS",
    rcode: Rcode.NOERROR,
    aa: false,
    authority: SUBDEL_NS,
    additional: SUBDEL_GLUE,
  },
  {
    name: "answers ANY over TCP with every RRset of the name",
    question: "mail.dnsd.test ANY",
    transport: "tcp",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: MAIL,
  },
  {
    name: "answers ANY over TCP at the apex with every RRset and the NS and MX target addresses",
    question: "dnsd.test ANY",
    transport: "tcp",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [
      "dnsd.test 3600 SOA ns1.dnsd.test. hostmaster.dnsd.test. 2024010101 7200 900 1209600 300",
      "dnsd.test 3600 NS ns1.dnsd.test.",
      "dnsd.test 3600 MX 10 mail.dnsd.test.",
    ],
    additional: ["ns1.dnsd.test 3600 A 192.0.2.53", ...MAIL],
  },
  {
    name: "answers ANY over UDP with the name's first RRset only (RFC 8482)",
    question: "mail.dnsd.test ANY",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: MAIL.slice(0, 1),
  },
  {
    name: "answers ANY over UDP at the apex with its SOA only and no additional records (RFC 8482)",
    question: "dnsd.test ANY",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["dnsd.test 3600 SOA ns1.dnsd.test. hostmaster.dnsd.test. 2024010101 7200 900 1209600 300"],
  },
  {
    name: "answers ANY for a CNAME with the CNAME, not chased",
    question: "alias.dnsd.test ANY",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["alias.dnsd.test 3600 CNAME www.dnsd.test."],
  },
  {
    name: "answers MX with the exchange's A and AAAA in the additional section",
    question: "dnsd.test MX",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["dnsd.test 3600 MX 10 mail.dnsd.test."],
    additional: MAIL,
  },
  {
    name: "answers NS at the apex with the name server's address in the additional section",
    question: "dnsd.test NS",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["dnsd.test 3600 NS ns1.dnsd.test."],
    additional: ["ns1.dnsd.test 3600 A 192.0.2.53"],
  },
  {
    name: "answers SRV with the target's address in the additional section",
    question: "_sip._udp.dnsd.test SRV",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["_sip._udp.dnsd.test 3600 SRV 0 5 5060 sip.dnsd.test."],
    additional: ["sip.dnsd.test 3600 A 192.0.2.60"],
  },
  {
    name: "answers SRV below an empty non-terminal with the target address in the additional section",
    question: "_ssh._tcp.host1.example SRV",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["_ssh._tcp.host1.example 3600 SRV 0 0 22 host1.example."],
    additional: [HOST1],
  },
];

testRows(rows);
