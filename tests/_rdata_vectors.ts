/**
 * The RDATA test vectors: one table, a row per type (and per SvcParam variation), each with its
 * typed value, its wire octets annotated by field, and its presentation text. Every wire vector
 * was cross-checked with dnspython 2.3
 * (`dns.rdata.from_text(IN, type, text, origin=example.com, relativize=False).to_wire()`).
 * @module
 */
import type { RData } from "../lib/proto/types.ts";
import { RRType } from "../lib/proto/types.ts";
import { hex, parseHex } from "./_hex.ts";

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Root KSK-2017 (key tag 20326), from /usr/share/dns/root.key (Debian dns-root-data 2024071801). */
const ROOT_KSK_BASE64 =
  "AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN" +
  "7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/" +
  "EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfd" +
  "RUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU=";
const ROOT_KSK_HEX = `
  03010001acffb409bcc939f831f7a1e5ec88f7a59255ec53040be432027390a4
  ce896d6f9086f3c5e177fbfe118163aaec7af1462c47945944c4e2c026be5e98
  bbcded25978272e1e3e079c5094d573f0e83c92f02b32d3513b1550b826929c8
  0dd0f92cac966d17769fd5867b647c3f38029abdc48152eb8f207159ecc5d232
  c7c1537c79f4b7ac28ff11682f21681bf6d6aba555032bf6f9f036beb2aaa5b3
  778d6eebfba6bf9ea191be4ab0caea759e2f773a1f9029c73ecb8d5735b9321d
  b085f1b8e2d8038fe2941992548cee0d67dd4547e11dd63af9c9fc1c5466fb68
  4cf009d7197c2cf79e792ab501e6a8a1ca519af2cb9b5f6367e94c0d47502451
  357be1b5`;
const ROOT_KSK_DIGEST = "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D";

/** The RFC 4034 section 3.3 example signature; its key tag 2642 is that of the section 2.3 DNSKEY. */
const RFC4034_SIG_BASE64 =
  "oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTrPYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6oB9wfuh3DTJXUAfI/" +
  "M0zmO/zz8bW0Rznl8O3tGNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkGJ5D6fwFm8nN+6pBzeDQfsS3Ap3o=";
const RFC4034_SIG_HEX = `
  a090755ba58d1affa576f4375831b4310920e481218d18a9f164eb3d81afd3b8
  75d3c75428631e0cf2a28d50875f70c329d7dbfafea807dc1fba1dc34c95d401
  f23f334ce63bfcf3f1b5b44739e5f0eded18d6b33f040a911376d173d757a9f0
  c1fa1798941bb0b36b2df9062790fa7f0166f2737eea907378341fb12dc0a77a`;

const FOO_EXAMPLE_COM = "03 666f6f 07 6578616d706c65 03 636f6d 00";
const FOO_EXAMPLE_ORG = "03 666f6f 07 6578616d706c65 03 6f7267 00";

/** One row: a type's RDATA as a typed value, as wire octets and as presentation text. */
export interface Vector {
  /** Where the value comes from. */
  readonly source: string;
  readonly data: RData;
  /** The RDATA alone, annotated by field. */
  readonly wire: Uint8Array;
  /** The presentation form, exactly as formatRData() writes it. */
  readonly text: string;
  /** Other spellings that parse to the same value (RFC text, split fields, mnemonics). */
  readonly alsoParses?: readonly string[];
}

/** The table: one row per type, and more for the SvcParam and NSEC3 variations. */
export const vectors: readonly Vector[] = [
  {
    source: "a.root-servers.net, /usr/share/dns/root.hints",
    data: { type: "A", address: "198.41.0.4" },
    wire: hex`c6290004 # 198.41.0.4`,
    text: "198.41.0.4",
  },
  {
    source: ". NS, /usr/share/dns/root.hints",
    data: { type: "NS", host: "a.root-servers.net" },
    wire: hex`01 61 0c 726f6f742d73657276657273 03 6e6574 00 # a.root-servers.net`,
    text: "a.root-servers.net.",
  },
  {
    source: "www.example.test, tests/testdata/nsd_example_test.zone",
    data: { type: "CNAME", target: "web.example.test" },
    wire: hex`03 776562 07 6578616d706c65 04 74657374 00 # web.example.test`,
    text: "web.example.test.",
  },
  {
    source: "the root zone's SOA timers (serial as in dns-root-data 2024071801)",
    data: {
      type: "SOA",
      mname: "a.root-servers.net",
      rname: "nstld.verisign-grs.com",
      serial: 2024071801,
      refresh: 1800,
      retry: 900,
      expire: 604800,
      minimum: 86400,
    },
    wire: hex`
      01 61 0c 726f6f742d73657276657273 03 6e6574 00   # MNAME a.root-servers.net
      05 6e73746c64 0c 766572697369676e2d677273 03 636f6d 00 # RNAME nstld.verisign-grs.com
      78a4e279 00000708 00000384 00093a80 00015180     # serial refresh retry expire minimum
    `,
    text: "a.root-servers.net. nstld.verisign-grs.com. 2024071801 1800 900 604800 86400",
    alsoParses: ["a.root-servers.net. nstld.verisign-grs.com. ( 2024071801 30m 15m 1w 1d )"],
  },
  {
    source: "localhost PTR (RFC 6761)",
    data: { type: "PTR", target: "localhost" },
    wire: hex`09 6c6f63616c686f7374 00 # localhost`,
    text: "localhost.",
  },
  {
    source: "example.test MX, tests/testdata/nsd_example_test.zone",
    data: { type: "MX", preference: 10, exchange: "mail.example.test" },
    wire: hex`000a # preference 10
      04 6d61696c 07 6578616d706c65 04 74657374 00   # mail.example.test`,
    text: "10 mail.example.test.",
  },
  {
    source: "several strings and escapes (RFC 1035 section 5.1)",
    data: { type: "TXT", strings: [utf8("v=spf1 -all"), utf8('say "hi" \\o/'), Uint8Array.of(0, 255)] },
    wire: hex`
      0b 763d73706631202d616c6c          # "v=spf1 -all"
      0c 7361792022686922205c6f2f        # say "hi" \o/
      02 00ff                            # \000\255
    `,
    text: '"v=spf1 -all" "say \\"hi\\" \\\\o/" "\\000\\255"',
    alsoParses: ['v=spf1\\032-all "say \\034hi\\034 \\092o/" \\000\\255'],
  },
  {
    source: "a.root-servers.net, /usr/share/dns/root.hints",
    data: { type: "AAAA", address: "2001:503:ba3e::2:30" },
    wire: hex`20010503ba3e00000000000000020030`,
    text: "2001:503:ba3e::2:30",
    alsoParses: ["2001:0503:BA3E:0000:0000:0000:0002:0030"],
  },
  {
    source: "_xmpp-server._tcp.gmail.com SRV",
    data: { type: "SRV", priority: 5, weight: 0, port: 5269, target: "xmpp-server.l.google.com" },
    wire: hex`0005 0000 1495                      # priority 5, weight 0, port 5269
      0b 786d70702d736572766572 01 6c 06 676f6f676c65 03 636f6d 00 # xmpp-server.l.google.com`,
    text: "5 0 5269 xmpp-server.l.google.com.",
  },
  {
    source: "letsencrypt.org CAA (RFC 8659 section 4.2 form)",
    data: { type: "CAA", flags: 0, tag: "issue", value: utf8("letsencrypt.org") },
    wire: hex`00 05 6973737565 # flags 0, tag "issue"
      6c657473656e63727970742e6f7267                 # value letsencrypt.org`,
    text: '0 issue "letsencrypt.org"',
    alsoParses: ["0 issue letsencrypt.org"],
  },
  {
    source: "RFC 9460 Appendix D.1, AliasMode",
    data: { type: "HTTPS", priority: 0, target: "foo.example.com", params: [] },
    wire: hex`0000 ${FOO_EXAMPLE_COM} # priority 0, target`,
    text: "0 foo.example.com.",
  },
  {
    source: "RFC 9460 Appendix D.2, the owner as target",
    data: { type: "SVCB", priority: 1, target: "", params: [] },
    wire: hex`0001 00 # priority 1, target "."`,
    text: "1 .",
  },
  {
    source: "RFC 9460 Appendix D.2, port",
    data: { type: "SVCB", priority: 16, target: "foo.example.com", params: [{ key: 3, value: hex`0035` }] },
    wire: hex`0010 ${FOO_EXAMPLE_COM} # priority 16, target
      0003 0002 0035                                # port=53`,
    text: "16 foo.example.com. port=53",
  },
  {
    source: "RFC 9460 Appendix D.2, a generic key with a decimal escape",
    data: {
      type: "SVCB",
      priority: 1,
      target: "foo.example.com",
      params: [{ key: 667, value: hex`68656c6c6fd2716f6f` }],
    },
    wire: hex`0001 ${FOO_EXAMPLE_COM}  # priority 1, target
      029b 0009 68656c6c6f d2 716f6f                 # key667 "hello\210qoo"`,
    text: "1 foo.example.com. key667=hello\\210qoo",
    alsoParses: ['1 foo.example.com. key667="hello\\210qoo"'],
  },
  {
    source: "RFC 9460 Appendix D.2, two IPv6 hints",
    data: {
      type: "SVCB",
      priority: 1,
      target: "foo.example.com",
      params: [{ key: 6, value: hex`20010db8000000000000000000000001 20010db8000000000000000000530001` }],
    },
    wire: hex`0001 ${FOO_EXAMPLE_COM} # priority 1, target
      0006 0020                                    # ipv6hint, 32 octets
      20010db8000000000000000000000001 20010db8000000000000000000530001`,
    text: "1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1",
    alsoParses: ['1 foo.example.com. ipv6hint="2001:db8::1,2001:db8::53:1"'],
  },
  {
    source: "RFC 9460 Appendix D.2, an IPv6 hint written with an IPv4 tail",
    data: {
      type: "SVCB",
      priority: 1,
      target: "example.com",
      params: [{ key: 6, value: hex`20010db801220344 00000000c0000221` }],
    },
    wire: hex`0001 07 6578616d706c65 03 636f6d 00 # priority 1, target
      0006 0010 20010db8012203440000 0000c0000221   # ipv6hint`,
    text: "1 example.com. ipv6hint=2001:db8:122:344::c000:221",
    alsoParses: ['1 example.com. ipv6hint="2001:db8:122:344::192.0.2.33"'],
  },
  {
    source: "RFC 9460 Appendix D.2, keys sorted and mandatory",
    data: {
      type: "SVCB",
      priority: 16,
      target: "foo.example.org",
      params: [
        { key: 0, value: hex`0001 0004` },
        { key: 1, value: hex`02 6832 05 68332d3139` },
        { key: 4, value: hex`c0000201` },
      ],
    },
    wire: hex`0010 ${FOO_EXAMPLE_ORG}  # priority 16, target
      0000 0004 0001 0004                           # mandatory=alpn,ipv4hint
      0001 0009 02 6832 05 68332d3139               # alpn=h2,h3-19
      0004 0004 c0000201                            # ipv4hint=192.0.2.1`,
    text: "16 foo.example.org. mandatory=alpn,ipv4hint alpn=h2,h3-19 ipv4hint=192.0.2.1",
    alsoParses: ["16 foo.example.org. (alpn=h2,h3-19 mandatory=ipv4hint,alpn\n ipv4hint=192.0.2.1)"],
  },
  {
    source: "RFC 9460 Appendix D.2, escapes in an ALPN list",
    data: {
      type: "SVCB",
      priority: 16,
      target: "foo.example.org",
      params: [{ key: 1, value: hex`08 665c6f6f2c626172 02 6832` }],
    },
    wire: hex`0010 ${FOO_EXAMPLE_ORG}  # priority 16, target
      0001 000c 08 665c6f6f2c626172 02 6832         # alpn: "f\\oo,bar", "h2"`,
    text: "16 foo.example.org. alpn=f\\\\\\\\oo\\\\,bar,h2",
    alsoParses: [
      '16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"',
      "16 foo.example.org. alpn=f\\\\\\092oo\\092,bar,h2",
    ],
  },
  {
    source: "ServiceMode with every named key but mandatory (synthetic ECH value)",
    data: {
      type: "HTTPS",
      priority: 1,
      target: "",
      params: [
        { key: 1, value: hex`02 6833 02 6832` },
        { key: 2, value: new Uint8Array() },
        { key: 3, value: hex`20fb` },
        { key: 4, value: hex`c0000201 c0000202` },
        { key: 5, value: hex`0004fe0d0000` },
        { key: 65000, value: new Uint8Array() },
      ],
    },
    wire: hex`0001 00                                # priority 1, target "."
      0001 0006 02 6833 02 6832                     # alpn=h3,h2
      0002 0000                                     # no-default-alpn
      0003 0002 20fb                                # port=8443
      0004 0008 c0000201 c0000202                   # ipv4hint=192.0.2.1,192.0.2.2
      0005 0006 0004fe0d0000                        # ech=AAT+DQAA
      fde8 0000                                     # key65000`,
    text: "1 . alpn=h3,h2 no-default-alpn port=8443 ipv4hint=192.0.2.1,192.0.2.2 ech=AAT+DQAA key65000",
    alsoParses: [
      '1 . key65000 ech="AAT+DQAA" port="8443" ipv4hint=192.0.2.1,192.0.2.2 no-default-alpn alpn=h3,h2',
    ],
  },
  {
    source: "root KSK-2017 DS, /usr/share/dns/root.ds (dnspython make_ds() of the DNSKEY below agrees)",
    data: { type: "DS", keyTag: 20326, algorithm: 8, digestType: 2, digest: parseHex(ROOT_KSK_DIGEST) },
    wire: hex`4f66 08 02 # key tag 20326, RSASHA256, SHA-256
      ${ROOT_KSK_DIGEST}`,
    text: `20326 8 2 ${ROOT_KSK_DIGEST}`,
    alsoParses: [
      `20326 RSASHA256 2 ( ${ROOT_KSK_DIGEST.slice(0, 24)}\n ${ROOT_KSK_DIGEST.slice(24).toLowerCase()} )`,
    ],
  },
  {
    source: "root KSK-2017 DNSKEY, /usr/share/dns/root.key (dnspython key_id() is 20326)",
    data: { type: "DNSKEY", flags: 257, protocol: 3, algorithm: 8, publicKey: parseHex(ROOT_KSK_HEX) },
    wire: hex`0101 03 08 # flags 257 (SEP, zone key), protocol 3, RSASHA256
      ${ROOT_KSK_HEX}`,
    text: `257 3 8 ${ROOT_KSK_BASE64}`,
    alsoParses: [`257 3 RSASHA256 ( ${ROOT_KSK_BASE64.slice(0, 100)}\n ${ROOT_KSK_BASE64.slice(100)} )`],
  },
  {
    source: "RFC 4034 section 3.3 example",
    data: {
      type: "RRSIG",
      typeCovered: RRType.A,
      algorithm: 5,
      labels: 3,
      originalTtl: 86400,
      expiration: 1048354263,
      inception: 1045762263,
      keyTag: 2642,
      signerName: "example.com",
      signature: parseHex(RFC4034_SIG_HEX),
    },
    wire: hex`0001 05 03 00015180                     # A, RSASHA1, 3 labels, original TTL 86400
      3e7c9dd7 3e5510d7 0a52                        # expiration, inception, key tag 2642
      07 6578616d706c65 03 636f6d 00                # signer example.com
      ${RFC4034_SIG_HEX}`,
    text: `A 5 3 86400 20030322173103 20030220173103 2642 example.com. ${RFC4034_SIG_BASE64}`,
    alsoParses: [
      `a RSASHA1 3 86400 1048354263 ( 1045762263 2642 example.com.\n ${RFC4034_SIG_BASE64.slice(0, 36)}\n ${
        RFC4034_SIG_BASE64.slice(36)
      } )`,
    ],
  },
  {
    source: "RFC 4034 section 4.3 example",
    data: { type: "NSEC", nextDomainName: "host.example.com", types: [1, 15, 46, 47, 1234] },
    wire: hex`04 686f7374 07 6578616d706c65 03 636f6d 00 # next host.example.com
      00 06 400100000003                            # window 0: A MX RRSIG NSEC
      04 1b 000000000000000000000000000000000000000000000000000020 # window 4: TYPE1234`,
    text: "host.example.com. A MX RRSIG NSEC TYPE1234",
    alsoParses: ["host TYPE1234 nsec rrsig MX TYPE1"],
  },
  {
    source: "RFC 5155 Appendix A, 0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example",
    data: {
      type: "NSEC3",
      hashAlgorithm: 1,
      flags: 1,
      iterations: 12,
      salt: hex`aabbccdd`,
      nextHashedOwnerName: hex`174eb2409fe28bcb4887a1836f957f0a8425e27b`,
      types: [2, 6, 15, 46, 48, 51],
    },
    wire: hex`01 01 000c                            # SHA-1, opt-out, 12 iterations
      04 aabbccdd                                   # salt
      14 174eb2409fe28bcb4887a1836f957f0a8425e27b   # next hashed owner
      00 07 22010000000290                          # NS SOA MX RRSIG DNSKEY NSEC3PARAM`,
    text: "1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr NS SOA MX RRSIG DNSKEY NSEC3PARAM",
    alsoParses: ["1 1 12 AABBCCDD ( 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR MX DNSKEY NS\n SOA NSEC3PARAM RRSIG )"],
  },
  {
    source: "an empty non-terminal: no salt, no types (RFC 5155 section 3.3)",
    data: {
      type: "NSEC3",
      hashAlgorithm: 1,
      flags: 0,
      iterations: 0,
      salt: new Uint8Array(),
      nextHashedOwnerName: hex`174eb2409fe28bcb4887a1836f957f0a8425e27b`,
      types: [],
    },
    wire: hex`01 00 0000 00 14 174eb2409fe28bcb4887a1836f957f0a8425e27b # SHA-1, 0 iterations, no salt`,
    text: "1 0 0 - 2t7b4g4vsa5smi47k61mv5bv1a22bojr",
  },
  {
    source: "RFC 5155 Appendix A",
    data: { type: "NSEC3PARAM", hashAlgorithm: 1, flags: 0, iterations: 12, salt: hex`aabbccdd` },
    wire: hex`01 00 000c 04 aabbccdd # SHA-1, no flags, 12 iterations, salt`,
    text: "1 0 12 aabbccdd",
  },
  {
    source: "RFC 3597 section 5",
    data: { type: "unknown", code: 65534, bytes: hex`abcdef` },
    wire: hex`abcdef`,
    text: "\\# 3 ABCDEF",
    alsoParses: ["\\# 3 abcdef", "\\# 3 ( ab cd\n ef )"],
  },
  {
    source: "RFC 3597 section 5, empty",
    data: { type: "unknown", code: 65534, bytes: new Uint8Array() },
    wire: new Uint8Array(),
    text: "\\# 0",
  },
  // Cross-checked with dnspython 2.3 as above (Debian python3-dnspython 2.3.0-1+deb12u1).
  {
    source: "RFC 1035 section 3.3.2 HINFO",
    data: { type: "HINFO", cpu: utf8("PC-Intel-700mhz"), os: utf8("Linux 2.4") },
    wire: hex`0f 50432d496e74656c2d3730306d687a # "PC-Intel-700mhz"
      09 4c696e757820322e34                     # "Linux 2.4"`,
    text: '"PC-Intel-700mhz" "Linux 2.4"',
  },
  {
    source: "RFC 1183 section 2.2 RP",
    data: { type: "RP", mailbox: "mbox.example.com", text: "txt.example.com" },
    wire: hex`04 6d626f78 07 6578616d706c65 03 636f6d 00 # mbox.example.com, not compressed
      03 747874 07 6578616d706c65 03 636f6d 00        # txt.example.com`,
    text: "mbox.example.com. txt.example.com.",
    alsoParses: ["mbox txt"],
  },
  {
    source: "RFC 1183 section 1 AFSDB",
    data: { type: "AFSDB", subtype: 1, host: "afs.example.com" },
    wire: hex`0001 03 616673 07 6578616d706c65 03 636f6d 00 # subtype 1, afs.example.com`,
    text: "1 afs.example.com.",
  },
  {
    source: "RFC 6116 section 3.2 NAPTR (E2U+sip)",
    data: {
      type: "NAPTR",
      order: 100,
      preference: 10,
      flags: utf8("u"),
      services: utf8("E2U+sip"),
      regexp: utf8("!^.*$!sip:info@example.com!"),
      replacement: "",
    },
    wire: hex`0064 000a 01 75 07 4532552b736970 # order 100, preference 10, "u", "E2U+sip"
      1b 215e2e2a24217369703a696e666f406578616d706c652e636f6d21 00 # the regexp, replacement "."`,
    text: '100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .',
  },
  {
    source: "RFC 6672 DNAME",
    data: { type: "DNAME", target: "target.example.net" },
    wire: hex`06 746172676574 07 6578616d706c65 03 6e6574 00 # target.example.net, not compressed`,
    text: "target.example.net.",
  },
  {
    source: "RFC 6594 SSHFP (Ed25519, SHA-256)",
    data: {
      type: "SSHFP",
      algorithm: 4,
      fingerprintType: 2,
      fingerprint: parseHex("123456789abcdef67890123456789abcdef67890123456789abcdef123456789"),
    },
    wire: hex`04 02 123456789abcdef67890123456789abcdef67890123456789abcdef123456789`,
    text: "4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789",
    alsoParses: ["4 2 123456789abcdef67890123456789a bcdef67890123456789abcdef123456789"],
  },
  {
    source: "RFC 7671 TLSA (DANE-EE, SPKI, SHA-256)",
    data: {
      type: "TLSA",
      usage: 3,
      selector: 1,
      matchingType: 1,
      data: parseHex("0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6"),
    },
    wire: hex`03 01 01 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6`,
    text: "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6",
  },
  {
    source: "RFC 8162 SMIMEA",
    data: {
      type: "SMIMEA",
      usage: 3,
      selector: 0,
      matchingType: 1,
      data: parseHex("0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6"),
    },
    wire: hex`03 00 01 0c72ac70b745ac19998811b131d662c9ac69dbdbe7cb23e5b514b56664c5d3d6`,
    text: "3 0 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6",
  },
  {
    source: "RFC 7929 OPENPGPKEY (a key's first octets)",
    data: {
      type: "OPENPGPKEY",
      key: parseHex("99010d0455479b9b010800d9814844e16e2e11c6781ebd5c04ac95544dcdefebc13d77cf04fca8545178b3"),
    },
    wire: hex`99010d0455479b9b010800d9814844e16e2e11c6781ebd5c04ac95544dcdefebc13d77cf04fca8545178b3`,
    text: "mQENBFVHm5sBCADZgUhE4W4uEcZ4Hr1cBKyVVE3N7+vBPXfPBPyoVFF4sw==",
  },
  {
    source: "RFC 8078 section 4 CDS (delete the DS)",
    data: { type: "CDS", keyTag: 0, algorithm: 0, digestType: 0, digest: parseHex("00") },
    wire: hex`0000 00 00 00 # key tag 0, algorithm 0, digest type 0, digest 00`,
    text: "0 0 0 00",
  },
  {
    source: "RFC 8078 section 4 CDNSKEY (delete the DS)",
    data: { type: "CDNSKEY", flags: 0, protocol: 3, algorithm: 0, publicKey: parseHex("00") },
    wire: hex`0000 03 00 00 # flags 0, protocol 3, algorithm 0, key 00`,
    text: "0 3 0 AA==",
  },
  {
    source: "RFC 8976 Appendix A.1 ZONEMD",
    data: {
      type: "ZONEMD",
      serial: 2018031500,
      scheme: 1,
      hashAlgorithm: 1,
      digest: parseHex(
        "febe3d4ce2ec2ffa4ba99d46cd69d6d29711e55217057bee7eb1a7b641a47ba7fed2dd5b97ae499fafa4f22c6bd647de",
      ),
    },
    wire: hex`7848b78c 01 01 # serial 2018031500, scheme 1 (SIMPLE), SHA-384
      febe3d4ce2ec2ffa4ba99d46cd69d6d29711e55217057bee7eb1a7b641a47ba7fed2dd5b97ae499fafa4f22c6bd647de`,
    text: "2018031500 1 1 " +
      "FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE7EB1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE",
  },
  {
    source: "RFC 7208 SPF",
    data: { type: "SPF", strings: [utf8("v=spf1 -all")] },
    wire: hex`0b 763d73706631202d616c6c # "v=spf1 -all"`,
    text: '"v=spf1 -all"',
  },
  {
    source: "RFC 7553 section 4.5 URI",
    data: { type: "URI", priority: 10, weight: 1, target: utf8("ftp://ftp1.example.com/public") },
    wire: hex`000a 0001 6674703a2f2f667470312e6578616d706c652e636f6d2f7075626c6963 # no length octet`,
    text: '10 1 "ftp://ftp1.example.com/public"',
  },
  {
    source: "RFC 1876 section 4 (cambridge-net.kei.com), cross-checked with dnspython",
    data: {
      type: "LOC",
      version: 0,
      size: 0x33,
      horizontalPrecision: 0x16,
      verticalPrecision: 0x13,
      latitude: 0x89172dd0,
      longitude: 0x70be15f0,
      altitude: 0x00988d20,
    },
    wire: hex`00 33 16 13 # version 0, size 30 m (3e3 cm), 10,000 m, 10 m
      89172dd0 70be15f0 00988d20 # 42 21 54 N, 71 6 18 W, -24 m`,
    text: "42 21 54.000 N 71 6 18.000 W -24.00m 30.00m 10000.00m 10.00m",
    alsoParses: ["42 21 54 N 71 06 18 W -24m 30m", "42 21 54 n 71 6 18.000 w -24.00 30 10000 10"],
  },
  {
    source: "LOC with the default size and precisions, written without them (as dnspython does)",
    data: {
      type: "LOC",
      version: 0,
      size: 0x12,
      horizontalPrecision: 0x16,
      verticalPrecision: 0x13,
      latitude: 0x7fc72f40,
      longitude: 0x80e06865,
      altitude: 0x00ab6d07,
    },
    wire: hex`00 12 16 13 7fc72f40 80e06865 00ab6d07 # 1 2 3.456 S, 4 5 6.789 E, 12345.67 m`,
    text: "1 2 3.456 S 4 5 6.789 E 12345.67m",
    alsoParses: ["1 2 3.456 S 4 5 6.789 E 12345.67m 1m 10000m 10m"],
  },
];
