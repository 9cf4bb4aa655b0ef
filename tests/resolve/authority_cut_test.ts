/**
 * Authoritative answers where zones meet, through the real query -> response path: DS for a child
 * zone dnsd also serves (RFC 4035 section 3.1.4.1), a CNAME into a delegation (RFC 1034 section
 * 4.3.2 step 3b), a CNAME out of local data for a client that may not recurse, and what DO=1 keeps
 * in a minimal ANY (RFC 8482, RFC 4035 section 3.1.1) and in a referral's additional section. The
 * RRSIGs are stand-ins: only which records an answer holds is checked, not whether they verify.
 * @module
 */
import { buildLocalData, type LocalData } from "../../lib/zone/local_data.ts";
import { buildZone } from "../../lib/zone/zone.ts";
import { parseZoneFile } from "../../lib/zone/zone_parser.ts";
import { Rcode } from "../../lib/proto/types.ts";
import { memoryRead, type Row, testRows } from "../_zone_fixture.ts";

/** An RRSIG over `type` at a name of `labels` labels in p.test, with a 3-octet stand-in signature. */
function sig(type: string, labels: number): string {
  return `RRSIG ${type} 13 ${labels} 3600 20300101000000 20200101000000 1 p.test. AAAA`;
}

/**
 * A signed parent with a child it also serves (c), two delegations away (u, whose NS is zone data,
 * and g, with glue), a CNAME into u, one out of local data, and a DNAME.
 */
const P_TEST = `$ORIGIN p.test.
$TTL 3600
@      SOA   ns hostmaster 1 7200 900 1209600 300
@      ${sig("SOA", 2)}
@      NS    ns
@      ${sig("NS", 2)}
ns     A     192.0.2.1
ns     ${sig("A", 3)}
www    A     192.0.2.2
www    ${sig("A", 3)}
www    TXT   "text"
www    ${sig("TXT", 3)}
c      NS    ns.c
c      DS    1 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
c      ${sig("DS", 3)}
ns.c   A     192.0.2.3
u      NS    ns
g      NS    ns.g
ns.g   A     192.0.2.4
into   CNAME x.u
into   ${sig("CNAME", 3)}
ext    CNAME elsewhere.example.
dn     DNAME other.example.
dn     ${sig("DNAME", 3)}
`;

const C_P_TEST = `$ORIGIN c.p.test.
$TTL 600
@      SOA   ns hostmaster 7 7200 900 1209600 300
@      NS    ns
ns     A     192.0.2.3
`;

const FILES: Readonly<Record<string, string>> = { "/zones/p.test": P_TEST, "/zones/c.p.test": C_P_TEST };

async function cutData(): Promise<LocalData> {
  const read = memoryRead(FILES);
  const zones = await Promise.all(
    Object.keys(FILES).map(async (path) => buildZone(await parseZoneFile(path, { read }), path)),
  );
  return buildLocalData({ zones, hosts: [], mappings: [] });
}

const P_NEGATIVE_SOA = "p.test 300 SOA ns.p.test. hostmaster.p.test. 1 7200 900 1209600 300";
const C_DS = "c.p.test 3600 DS 1 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF";

const rows: readonly Row[] = [
  {
    name: "answers DS at a child zone's apex from the parent zone when it serves both",
    question: "c.p.test DS",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [C_DS],
  },
  {
    name: "answers DS at a child zone's apex from the parent zone, with the parent's RRSIG when DO=1",
    question: "c.p.test DS",
    dnssecOk: true,
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [C_DS, `c.p.test 3600 ${sig("DS", 3)}`],
  },
  {
    name: "answers every other type at a child zone's apex from the child zone",
    question: "c.p.test SOA",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["c.p.test 600 SOA ns.c.p.test. hostmaster.c.p.test. 7 7200 900 1209600 300"],
  },
  {
    name: "answers DS below a cut it does not serve from the parent's NODATA, not as a referral",
    question: "u.p.test DS",
    rcode: Rcode.NOERROR,
    aa: true,
    authority: [P_NEGATIVE_SOA],
  },
  {
    name: "answers a CNAME into a delegation with the referral beside it when RD=0 (as NSD and Knot)",
    question: "into.p.test A",
    rd: false,
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["into.p.test 3600 CNAME x.u.p.test."],
    authority: ["u.p.test 3600 NS ns.p.test."],
    additional: ["ns.p.test 3600 A 192.0.2.1"],
  },
  {
    name: "gives a client that may not recurse the CNAME out of local data, not REFUSED (RD=1)",
    question: "ext.p.test A",
    mayRecurse: false,
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["ext.p.test 3600 CNAME elsewhere.example."],
  },
  {
    name: "gives a client that may not recurse the CNAME into a delegation and its referral (RD=1)",
    question: "into.p.test A",
    mayRecurse: false,
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["into.p.test 3600 CNAME x.u.p.test."],
    authority: ["u.p.test 3600 NS ns.p.test."],
    additional: ["ns.p.test 3600 A 192.0.2.1"],
  },
  {
    name: "still forwards the rest of a CNAME out of local data for a client that may recurse",
    question: "ext.p.test A",
    rcode: Rcode.NOERROR,
    aa: false,
    answer: ["ext.p.test 3600 CNAME elsewhere.example.", "elsewhere.example 30 A 203.0.113.1"],
    upstream: ["elsewhere.example A 1"],
  },
  {
    name: "adds the RRSIGs of a referral's NS address held as zone data (not glue) when DO=1",
    question: "x.u.p.test A",
    rd: false,
    dnssecOk: true,
    rcode: Rcode.NOERROR,
    aa: false,
    authority: ["u.p.test 3600 NS ns.p.test."],
    additional: ["ns.p.test 3600 A 192.0.2.1", `ns.p.test 3600 ${sig("A", 3)}`],
  },
  {
    name: "adds no RRSIG to a referral's glue, which a signer leaves unsigned, when DO=1",
    question: "x.g.p.test A",
    rd: false,
    dnssecOk: true,
    rcode: Rcode.NOERROR,
    aa: false,
    authority: ["g.p.test 3600 NS ns.g.p.test."],
    additional: ["ns.g.p.test 3600 A 192.0.2.4"],
  },
  {
    name: "keeps the RRSIG of the one RRset a minimal ANY over UDP gives when DO=1",
    question: "www.p.test ANY",
    dnssecOk: true,
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["www.p.test 3600 A 192.0.2.2", `www.p.test 3600 ${sig("A", 3)}`],
  },
  {
    name: "gives no RRSIG in a minimal ANY over UDP when DO=0",
    question: "www.p.test ANY",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["www.p.test 3600 A 192.0.2.2"],
  },
  {
    name: "answers ANY over UDP at a DNAME's own name with the DNAME alone (RFC 8482)",
    question: "dn.p.test ANY",
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["dn.p.test 3600 DNAME other.example."],
  },
  {
    name: "answers ANY over UDP at a DNAME's own name with the DNAME and its RRSIG when DO=1",
    question: "dn.p.test ANY",
    dnssecOk: true,
    rcode: Rcode.NOERROR,
    aa: true,
    answer: ["dn.p.test 3600 DNAME other.example.", `dn.p.test 3600 ${sig("DNAME", 3)}`],
  },
];

testRows(rows, cutData);
