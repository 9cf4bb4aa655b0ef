/**
 * The typed DNS message model: readonly data, named boolean flags, open enums.
 * Names are strings in presentation form without the trailing dot ("example.com"; the root is "").
 * @module
 */
import { IANA_ONLY } from "./iana_types.ts";

/** Response codes (RFC 1035 section 4.1.1, RFC 6891 section 9 for BADVERS). */
export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
  BADVERS: 16,
} as const;

/** Operation codes (RFC 1035 section 4.1.1, RFC 1996, RFC 2136). */
export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

/** Resource record types used by name in the code (IANA "Resource Record (RR) TYPEs"). */
export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  RP: 17,
  AFSDB: 18,
  AAAA: 28,
  LOC: 29,
  SRV: 33,
  NAPTR: 35,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  SSHFP: 44,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  SMIMEA: 53,
  CDS: 59,
  CDNSKEY: 60,
  OPENPGPKEY: 61,
  ZONEMD: 63,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
  URI: 256,
  CAA: 257,
} as const;

/** Classes (RFC 1035 section 3.2.4). */
export const RRClass = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

/** One entry of the question section. */
export interface Question {
  /** The queried domain name (QNAME, RFC 1035 section 4.1.2). */
  readonly name: string;
  /** The queried type code (QTYPE, RFC 1035 section 4.1.2); see {@link RRType}. */
  readonly type: number;
  /** The queried class code (QCLASS, RFC 1035 section 4.1.2); see {@link RRClass}. */
  readonly class: number;
}

/** The RDATA of TLSA (RFC 6698 section 2.1) and SMIMEA (RFC 8162 section 2), which share it. */
export interface CertificateAssociation {
  /** Certificate usage: 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (RFC 7218). */
  readonly usage: number;
  /** Selector: 0 the full certificate, 1 its SubjectPublicKeyInfo. */
  readonly selector: number;
  /** Matching type: 0 the data itself, 1 its SHA-256, 2 its SHA-512. */
  readonly matchingType: number;
  /** The certificate association data, as the matching type says. */
  readonly data: Uint8Array;
}

/** Record data. The record's TYPE code is derived from this, so the two cannot disagree. */
export type RData =
  | { readonly type: "A"; readonly address: string }
  | { readonly type: "AAAA"; readonly address: string }
  | { readonly type: "NS"; readonly host: string }
  | { readonly type: "CNAME"; readonly target: string }
  | { readonly type: "PTR"; readonly target: string }
  | { readonly type: "MX"; readonly preference: number; readonly exchange: string }
  | {
    readonly type: "SOA";
    readonly mname: string;
    readonly rname: string;
    readonly serial: number;
    readonly refresh: number;
    readonly retry: number;
    readonly expire: number;
    readonly minimum: number;
  }
  | { readonly type: "TXT"; readonly strings: readonly Uint8Array[] }
  | {
    readonly type: "SRV";
    readonly priority: number;
    readonly weight: number;
    readonly port: number;
    readonly target: string;
  }
  // RFC 8659: `tag` is ASCII letters and digits in presentation form; `value` is octets.
  | { readonly type: "CAA"; readonly flags: number; readonly tag: string; readonly value: Uint8Array }
  // RFC 9460: SvcParams keep their wire order (parsing sorts them by key); priority 0 is AliasMode.
  | {
    readonly type: "SVCB";
    readonly priority: number;
    readonly target: string;
    readonly params: readonly { readonly key: number; readonly value: Uint8Array }[];
  }
  | {
    readonly type: "HTTPS";
    readonly priority: number;
    readonly target: string;
    readonly params: readonly { readonly key: number; readonly value: Uint8Array }[];
  }
  | {
    readonly type: "DS";
    readonly keyTag: number;
    readonly algorithm: number;
    readonly digestType: number;
    readonly digest: Uint8Array;
  }
  | {
    readonly type: "DNSKEY";
    readonly flags: number;
    readonly protocol: number;
    readonly algorithm: number;
    readonly publicKey: Uint8Array;
  }
  | {
    readonly type: "RRSIG";
    /** The TYPE code of the RRset signed. */
    readonly typeCovered: number;
    readonly algorithm: number;
    readonly labels: number;
    readonly originalTtl: number;
    /** Seconds since the epoch, modulo 2^32 (RFC 4034 section 3.1.5). */
    readonly expiration: number;
    /** Seconds since the epoch, modulo 2^32. */
    readonly inception: number;
    readonly keyTag: number;
    readonly signerName: string;
    readonly signature: Uint8Array;
  }
  // RFC 4034 section 4.1.2: `types` are TYPE codes, ascending and without repeats.
  | { readonly type: "NSEC"; readonly nextDomainName: string; readonly types: readonly number[] }
  | {
    readonly type: "NSEC3";
    readonly hashAlgorithm: number;
    readonly flags: number;
    readonly iterations: number;
    readonly salt: Uint8Array;
    /** The raw hash: base32hex (RFC 4648 section 7) only in presentation form. */
    readonly nextHashedOwnerName: Uint8Array;
    readonly types: readonly number[];
  }
  | {
    readonly type: "NSEC3PARAM";
    readonly hashAlgorithm: number;
    readonly flags: number;
    readonly iterations: number;
    readonly salt: Uint8Array;
  }
  // RFC 1035 HINFO (two character-strings), RFC 1183 RP and AFSDB, RFC 3403 NAPTR, RFC 6672 DNAME.
  | { readonly type: "HINFO"; readonly cpu: Uint8Array; readonly os: Uint8Array }
  | { readonly type: "RP"; readonly mailbox: string; readonly text: string }
  | { readonly type: "AFSDB"; readonly subtype: number; readonly host: string }
  | {
    readonly type: "NAPTR";
    readonly order: number;
    readonly preference: number;
    readonly flags: Uint8Array;
    readonly services: Uint8Array;
    readonly regexp: Uint8Array;
    readonly replacement: string;
  }
  | { readonly type: "DNAME"; readonly target: string }
  // RFC 1876 LOC, in its wire values: see rdata_loc.ts.
  | {
    readonly type: "LOC";
    readonly version: number;
    /** Diameter of the sphere around the point: mantissa (high 4 bits) × 10^exponent (low 4) cm. */
    readonly size: number;
    readonly horizontalPrecision: number;
    readonly verticalPrecision: number;
    /** Thousandths of an arc second north of the equator, plus 2^31. */
    readonly latitude: number;
    /** Thousandths of an arc second east of the prime meridian, plus 2^31. */
    readonly longitude: number;
    /** Centimetres above a base 100,000 m below the WGS 84 reference spheroid. */
    readonly altitude: number;
  }
  // RFC 4255 SSHFP; RFC 6698 TLSA and RFC 8162 SMIMEA (one layout); RFC 7929 OPENPGPKEY.
  | {
    readonly type: "SSHFP";
    readonly algorithm: number;
    readonly fingerprintType: number;
    readonly fingerprint: Uint8Array;
  }
  | ({ readonly type: "TLSA" } & CertificateAssociation)
  | ({ readonly type: "SMIMEA" } & CertificateAssociation)
  | { readonly type: "OPENPGPKEY"; readonly key: Uint8Array }
  // RFC 7344 CDS and CDNSKEY: the child's DS and DNSKEY, laid out as those are.
  | {
    readonly type: "CDS";
    readonly keyTag: number;
    readonly algorithm: number;
    readonly digestType: number;
    readonly digest: Uint8Array;
  }
  | {
    readonly type: "CDNSKEY";
    readonly flags: number;
    readonly protocol: number;
    readonly algorithm: number;
    readonly publicKey: Uint8Array;
  }
  // RFC 8976 ZONEMD; RFC 7208 SPF (TXT's layout); RFC 7553 URI (the target fills the rest of the RDATA).
  | {
    readonly type: "ZONEMD";
    readonly serial: number;
    readonly scheme: number;
    readonly hashAlgorithm: number;
    readonly digest: Uint8Array;
  }
  | { readonly type: "SPF"; readonly strings: readonly Uint8Array[] }
  | { readonly type: "URI"; readonly priority: number; readonly weight: number; readonly target: Uint8Array }
  // RFC 3597: any type without a row in the registry travels as opaque bytes.
  | { readonly type: "unknown"; readonly code: number; readonly bytes: Uint8Array };

/** A resource record of the answer, authority or additional section (never OPT). */
export interface ResourceRecord {
  /** The owner name the record belongs to (NAME, RFC 1035 section 4.1.3). */
  readonly name: string;
  /** The record's class code (CLASS, RFC 1035 section 4.1.3); see {@link RRClass}. */
  readonly class: number;
  /** Seconds the record may be cached (TTL, RFC 1035 section 4.1.3). */
  readonly ttl: number;
  /** The typed record data (RDATA, RFC 1035 section 4.1.3), which also fixes its TYPE. */
  readonly data: RData;
}

/** One EDNS option (RFC 6891 section 6.1.2), kept opaque. */
export interface EdnsOption {
  /** The option code (OPTION-CODE, RFC 6891 section 6.1.2). */
  readonly code: number;
  /** The option's raw value (OPTION-DATA, RFC 6891 section 6.1.2). */
  readonly data: Uint8Array;
}

/** The OPT pseudo-record, lifted out of the additional section (RFC 6891 section 6.1). */
export interface Edns {
  /** The sender's UDP payload size, carried in the OPT CLASS field (RFC 6891 section 6.1.2). */
  readonly udpPayloadSize: number;
  /** The EDNS version (VERSION, RFC 6891 section 6.1.3); only 0 is defined. */
  readonly version: number;
  /** DNSSEC OK flag (DO, RFC 3225; RFC 6891 section 6.1.4). */
  readonly dnssecOk: boolean;
  /** The 15 flag bits after DO, which must be zero today; kept so they round-trip. */
  readonly flags: number;
  /** The options carried in the OPT record's RDATA (RFC 6891 section 6.1.2). */
  readonly options: readonly EdnsOption[];
}

/** A whole DNS message. Section counts are derived from the arrays when encoding. */
export interface Message {
  /** Query identifier, copied into the reply (ID, RFC 1035 section 4.1.1). */
  readonly id: number;
  /** Query/Response flag: true for a response (QR, RFC 1035 section 4.1.1). */
  readonly response: boolean;
  /** Kind of query (OPCODE, RFC 1035 section 4.1.1); see {@link Opcode}. */
  readonly opcode: number;
  /** Authoritative Answer flag (AA, RFC 1035 section 4.1.1). */
  readonly authoritative: boolean;
  /** TrunCation flag: the message was cut to fit the transport (TC, RFC 1035 section 4.1.1). */
  readonly truncated: boolean;
  /** Recursion Desired flag (RD, RFC 1035 section 4.1.1). */
  readonly recursionDesired: boolean;
  /** Recursion Available flag (RA, RFC 1035 section 4.1.1). */
  readonly recursionAvailable: boolean;
  /** The reserved Z bit (RFC 1035 section 4.1.1); must be zero. */
  readonly z: boolean;
  /** Authentic Data flag (AD, RFC 4035 section 3.2.3). */
  readonly authenticData: boolean;
  /** Checking Disabled flag (CD, RFC 4035 section 3.2.2). */
  readonly checkingDisabled: boolean;
  /** The full rcode: with EDNS, the upper 8 bits live in the OPT record (RFC 6891 section 6.1.3). */
  readonly rcode: number;
  /** The question section (RFC 1035 section 4.1.2). */
  readonly questions: readonly Question[];
  /** The answer section (RFC 1035 section 4.1.3). */
  readonly answers: readonly ResourceRecord[];
  /** The authority section (RFC 1035 section 4.1.3). */
  readonly authorities: readonly ResourceRecord[];
  /** The additional section, without the OPT record (RFC 1035 section 4.1.3). */
  readonly additionals: readonly ResourceRecord[];
  /** The OPT pseudo-record (RFC 6891 section 6.1), or null when the message has none. */
  readonly edns: Edns | null;
}

const typeNames = new Map<number, string>([
  ...Object.entries(RRType).map(([name, code]): [number, string] => [code, name]),
  ...IANA_ONLY.map(([name, code]): [number, string] => [code, name]),
]);

const typeCodes = new Map<string, number>(
  [...typeNames].map(([code, name]): [string, number] => [name, code]),
);

const rcodeNames = new Map<number, string>(Object.entries(Rcode).map(([name, code]) => [code, name]));

/** The mnemonic of an RCODE (`NXDOMAIN`), or `RCODE12` for one without a name here. */
export function rcodeName(code: number): string {
  return rcodeNames.get(code) ?? `RCODE${code}`;
}

/** The mnemonic of a TYPE code, or the RFC 3597 form (`TYPE65534`) for one without a name. */
export function typeName(code: number): string {
  return typeNames.get(code) ?? `TYPE${code}`;
}

/**
 * The TYPE code of a mnemonic (`MX`) or of the RFC 3597 form (`TYPE65534`), in any case; else null.
 * @example typeFromText("nsec3param") // 51
 */
export function typeFromText(text: string): number | null {
  const upper = text.toUpperCase();
  const known = typeCodes.get(upper);
  if (known !== undefined) return known;
  const generic = /^TYPE([0-9]{1,5})$/.exec(upper);
  return generic && Number(generic[1]) <= 0xffff ? Number(generic[1]) : null;
}
