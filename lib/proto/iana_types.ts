/**
 * The mnemonics of IANA's "Resource Record (RR) TYPEs" registry (2024) that have no row in dnsd's
 * registry: types dnsd keeps as opaque RDATA (RFC 3597), named so that logs read as dig does and a
 * zone file that uses one is told to write its data in the generic form, rather than that the type
 * is unknown.
 * @module
 */

/** `NAME=CODE` pairs, as IANA lists them. */
const LIST = `
  MD=3 MF=4 MB=7 MG=8 MR=9 NULL=10 WKS=11 MINFO=14 X25=19 ISDN=20 RT=21 NSAP=22 NSAP-PTR=23 SIG=24
  KEY=25 PX=26 GPOS=27 NXT=30 EID=31 NIMLOC=32 ATMA=34 KX=36 CERT=37 A6=38 SINK=40 APL=42
  IPSECKEY=45 DHCID=49 HIP=55 NINFO=56 RKEY=57 TALINK=58 CSYNC=62 UINFO=100 UID=101 GID=102
  UNSPEC=103 NID=104 L32=105 L64=106 LP=107 EUI48=108 EUI64=109 TKEY=249 TSIG=250 MAILB=253
  MAILA=254 AVC=258 DOA=259 AMTRELAY=260 RESINFO=261 WALLET=262 TA=32768 DLV=32769
`;

/** Each mnemonic and its TYPE code. */
export const IANA_ONLY: readonly (readonly [string, number])[] = LIST.trim().split(/\s+/).map((pair) => {
  const [name, code] = pair.split("=");
  return [name!, Number(code)] as const;
});
