/**
 * The typed DNS message model: readonly data, named boolean flags, open enums.
 * Names are strings in presentation form without the trailing dot ("example.com"; the root is "").
 * @module
 */

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
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  ANY: 255,
} as const;

/** Classes (RFC 1035 section 3.2.4). */
export const RRClass = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

/** One entry of the question section. */
export interface Question {
  readonly name: string;
  readonly type: number;
  readonly class: number;
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
  // RFC 3597: any type without a row in the registry travels as opaque bytes.
  | { readonly type: "unknown"; readonly code: number; readonly bytes: Uint8Array };

/** A resource record of the answer, authority or additional section (never OPT). */
export interface ResourceRecord {
  readonly name: string;
  readonly class: number;
  readonly ttl: number;
  readonly data: RData;
}

/** One EDNS option (RFC 6891 section 6.1.2), kept opaque. */
export interface EdnsOption {
  readonly code: number;
  readonly data: Uint8Array;
}

/** The OPT pseudo-record, lifted out of the additional section (RFC 6891 section 6.1). */
export interface Edns {
  readonly udpPayloadSize: number;
  readonly version: number;
  readonly dnssecOk: boolean;
  /** The 15 flag bits after DO, which must be zero today; kept so they round-trip. */
  readonly flags: number;
  readonly options: readonly EdnsOption[];
}

/** A whole DNS message. Section counts are derived from the arrays when encoding. */
export interface Message {
  readonly id: number;
  readonly response: boolean;
  readonly opcode: number;
  readonly authoritative: boolean;
  readonly truncated: boolean;
  readonly recursionDesired: boolean;
  readonly recursionAvailable: boolean;
  /** The reserved Z bit (RFC 1035 section 4.1.1); must be zero. */
  readonly z: boolean;
  readonly authenticData: boolean;
  readonly checkingDisabled: boolean;
  /** The full rcode: with EDNS, the upper 8 bits live in the OPT record (RFC 6891 section 6.1.3). */
  readonly rcode: number;
  readonly questions: readonly Question[];
  readonly answers: readonly ResourceRecord[];
  readonly authorities: readonly ResourceRecord[];
  readonly additionals: readonly ResourceRecord[];
  readonly edns: Edns | null;
}

const typeNames = new Map<number, string>([
  ...Object.entries(RRType).map(([name, code]): [number, string] => [code, name]),
  [252, "AXFR"],
  [251, "IXFR"],
]);

/** The mnemonic of a TYPE code, or the RFC 3597 form (`TYPE65534`) for one without a name. */
export function typeName(code: number): string {
  return typeNames.get(code) ?? `TYPE${code}`;
}
