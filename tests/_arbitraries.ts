/**
 * fast-check arbitraries for valid typed DNS values, in the canonical form the decoder returns
 * (so encode -> decode gives back the same value), plus byte mutations for fuzzing the decoder.
 * The expected text forms (label escapes, RFC 5952 IPv6) are written here independently of lib/.
 * @module
 */
import fc from "fast-check";
import { decodeRData } from "../lib/proto/rdata.ts";
import { nameKey } from "../lib/proto/name.ts";
import type { Edns, EdnsOption, Message, Question, RData, ResourceRecord } from "../lib/proto/types.ts";
import { Reader } from "../lib/proto/wire.ts";

/** fc.record() with plain objects, as the decoder builds them (deepStrictEqual compares prototypes). */
function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

// ---- Names ----

/** Octets written `\X` in presentation form (RFC 1035 section 5.1, as dig does). */
const SPECIALS = [0x22, 0x24, 0x28, 0x29, 0x2e, 0x3b, 0x40, 0x5c];
const codes = (chars: string) => Array.from(chars, (char) => char.charCodeAt(0));
const LOWER = codes("abcdefghijklmnopqrstuvwxyz");
const UPPER = codes("ABCDEFGHIJKLMNOPQRSTUVWXYZ");
const DIGITS = codes("0123456789");
const isUpper = (octet: number) => octet >= 0x41 && octet <= 0x5a;

/** The canonical presentation text of one label's octets: what the decoder returns. */
export function labelText(octets: readonly number[]): string {
  return octets.map((octet) => {
    if (SPECIALS.includes(octet)) return "\\" + String.fromCharCode(octet);
    if (octet > 0x20 && octet < 0x7f) return String.fromCharCode(octet);
    return "\\" + String(octet).padStart(3, "0");
  }).join("");
}

/** Options for {@link name}. */
export interface NameOptions {
  /** Allow upper-case letters: then names can only be compared through nameKey(). */
  readonly mixedCase?: boolean;
}

function labelOctet(mixedCase: boolean): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...LOWER, ...(mixedCase ? UPPER : [])) },
    { weight: 3, arbitrary: fc.constantFrom(...DIGITS) },
    { weight: 2, arbitrary: fc.constantFrom(0x2d, 0x5f) }, // '-', '_'
    { weight: 1, arbitrary: fc.constantFrom(...SPECIALS) }, // `\.` and friends
    // anything else, written `\DDD` (`\032` for a space); upper-case letters only when allowed
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }).filter((o) => mixedCase || !isUpper(o)) },
  );
}

function label(mixedCase: boolean, long: boolean): fc.Arbitrary<number[]> {
  return long
    ? fc.array(labelOctet(mixedCase), { minLength: 40, maxLength: 63, size: "max" })
    : fc.array(labelOctet(mixedCase), { minLength: 1, maxLength: 12 });
}

/** Keeps the leading labels that fit in 255 wire octets (RFC 1035 section 3.1). */
function fitName(labels: readonly number[][]): string {
  const kept: string[] = [];
  let wire = 1;
  for (const octets of labels) {
    if (wire + octets.length + 1 > 255) break;
    wire += octets.length + 1;
    kept.push(labelText(octets));
  }
  return kept.join(".");
}

/**
 * A domain name in canonical presentation form (no trailing dot; the root is ""): labels of 1 to
 * 63 octets, at most 255 octets on the wire. Names are mostly short; some reach the limits.
 */
export function name(options: NameOptions = {}): fc.Arbitrary<string> {
  const mixedCase = options.mixedCase ?? false;
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant("") },
    { weight: 12, arbitrary: fc.array(label(mixedCase, false), { minLength: 1, maxLength: 4 }).map(fitName) },
    {
      weight: 2,
      arbitrary: fc.array(fc.oneof(label(mixedCase, true), label(mixedCase, false)), {
        minLength: 3,
        maxLength: 10,
        size: "max",
      }).map(fitName),
    },
  );
}

// ---- Field values ----

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

/** Octets, mostly few, sometimes up to `max`. */
function octets(max: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: Math.min(16, max) }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: max, size: "max" }) },
  );
}

/** A TYPE code, biased towards the low codes in use. */
const typeCode = fc.oneof(fc.integer({ min: 0, max: 300 }), u16);

/** IPv4 text as the decoder writes it: dotted decimal without leading zeros. */
export const ipv4: fc.Arbitrary<string> = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) =>
  b.join(".")
);

/** RFC 5952 text for eight 16-bit groups: lower case, the first longest run of 2+ zero groups as `::`. */
export function ipv6Text(groups: readonly number[]): string {
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi, lo] = [groups[6]!, groups[7]!];
    return `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`; // RFC 5952 section 5
  }
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = Math.max(i, j);
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(":");
  return `${hex.slice(0, best.start).join(":")}::${hex.slice(best.start + best.length).join(":")}`;
}

/** IPv6 text in RFC 5952 form, with zero runs and IPv4-mapped addresses well represented. */
export const ipv6: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.oneof(fc.constant(0), u16), { minLength: 8, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.tuple(u16, u16).map(([hi, lo]) => [0, 0, 0, 0, 0, 0xffff, hi, lo]) },
).map(ipv6Text);

/** SvcParams with unique keys in ascending order (RFC 9460 section 2.2). */
const svcParams = fc.uniqueArray(
  record({ key: fc.oneof(fc.integer({ min: 0, max: 8 }), u16), value: octets(64) }),
  {
    selector: (param) => param.key,
    maxLength: 5,
  },
).map((params) => params.sort((a, b) => a.key - b.key));

/** TYPE codes for an NSEC or NSEC3 bit map: ascending, without repeats. */
const typeList = fc.uniqueArray(typeCode, { maxLength: 20 }).map((types) => types.sort((a, b) => a - b));

/** A CAA tag: mostly RFC 8659 letters and digits, sometimes any octets (decode keeps them as chars). */
const caaTag = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9]{1,15}$/) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }).map((b) => String.fromCharCode(...b)) },
);

/** TYPE codes the registry decodes into a typed arm, found by asking it; plus OPT (41). */
const registered: ReadonlySet<number> = (() => {
  const found = new Set<number>([41]);
  for (let code = 0; code <= 0xffff; code++) {
    try {
      if (decodeRData(new Reader(new Uint8Array()), code, 0).type !== "unknown") found.add(code);
    } catch {
      found.add(code); // a registered row that needs some RDATA
    }
  }
  return found;
})();

type Arm<T extends RData["type"]> = Extract<RData, { type: T }>;

/** One arbitrary per RData arm; the mapped type makes a missing arm a compile error. */
function rdataArms(n: fc.Arbitrary<string>): { readonly [T in RData["type"]]: fc.Arbitrary<Arm<T>> } {
  const service = <T extends "SVCB" | "HTTPS">(type: T) =>
    fc.oneof(
      record({ type: fc.constant(type), priority: fc.constant(0), target: n, params: fc.constant([]) }),
      record({
        type: fc.constant(type),
        priority: fc.integer({ min: 1, max: 0xffff }),
        target: n,
        params: svcParams,
      }),
    ) as fc.Arbitrary<Arm<T>>;
  const association = <T extends "TLSA" | "SMIMEA">(type: T) =>
    record({
      type: fc.constant(type),
      usage: u8,
      selector: u8,
      matchingType: u8,
      data: octets(64),
    }) as fc.Arbitrary<
      Arm<T>
    >;
  return {
    A: record({ type: fc.constant("A"), address: ipv4 }),
    AAAA: record({ type: fc.constant("AAAA"), address: ipv6 }),
    NS: record({ type: fc.constant("NS"), host: n }),
    CNAME: record({ type: fc.constant("CNAME"), target: n }),
    PTR: record({ type: fc.constant("PTR"), target: n }),
    MX: record({ type: fc.constant("MX"), preference: u16, exchange: n }),
    SOA: record({
      type: fc.constant("SOA"),
      mname: n,
      rname: n,
      serial: u32,
      refresh: u32,
      retry: u32,
      expire: u32,
      minimum: u32,
    }),
    TXT: record({ type: fc.constant("TXT"), strings: fc.array(octets(255), { maxLength: 4 }) }),
    SRV: record({ type: fc.constant("SRV"), priority: u16, weight: u16, port: u16, target: n }),
    CAA: record({ type: fc.constant("CAA"), flags: u8, tag: caaTag, value: octets(300) }),
    SVCB: service("SVCB"),
    HTTPS: service("HTTPS"),
    DS: record({ type: fc.constant("DS"), keyTag: u16, algorithm: u8, digestType: u8, digest: octets(64) }),
    DNSKEY: record({
      type: fc.constant("DNSKEY"),
      flags: u16,
      protocol: u8,
      algorithm: u8,
      publicKey: octets(300),
    }),
    RRSIG: record({
      type: fc.constant("RRSIG"),
      typeCovered: typeCode,
      algorithm: u8,
      labels: u8,
      originalTtl: u32,
      expiration: u32,
      inception: u32,
      keyTag: u16,
      signerName: n,
      signature: octets(300),
    }),
    NSEC: record({ type: fc.constant("NSEC"), nextDomainName: n, types: typeList }),
    NSEC3: record({
      type: fc.constant("NSEC3"),
      hashAlgorithm: u8,
      flags: u8,
      iterations: u16,
      salt: octets(255),
      nextHashedOwnerName: fc.uint8Array({ minLength: 1, maxLength: 255 }),
      types: typeList,
    }),
    NSEC3PARAM: record({
      type: fc.constant("NSEC3PARAM"),
      hashAlgorithm: u8,
      flags: u8,
      iterations: u16,
      salt: octets(255),
    }),
    HINFO: record({ type: fc.constant("HINFO"), cpu: octets(255), os: octets(255) }),
    RP: record({ type: fc.constant("RP"), mailbox: n, text: n }),
    AFSDB: record({ type: fc.constant("AFSDB"), subtype: u16, host: n }),
    NAPTR: record({
      type: fc.constant("NAPTR"),
      order: u16,
      preference: u16,
      flags: octets(255),
      services: octets(255),
      regexp: octets(255),
      replacement: n,
    }),
    DNAME: record({ type: fc.constant("DNAME"), target: n }),
    SSHFP: record({
      type: fc.constant("SSHFP"),
      algorithm: u8,
      fingerprintType: u8,
      fingerprint: octets(64),
    }),
    TLSA: association("TLSA"),
    SMIMEA: association("SMIMEA"),
    CDS: record({ type: fc.constant("CDS"), keyTag: u16, algorithm: u8, digestType: u8, digest: octets(64) }),
    CDNSKEY: record({
      type: fc.constant("CDNSKEY"),
      flags: u16,
      protocol: u8,
      algorithm: u8,
      publicKey: octets(300),
    }),
    OPENPGPKEY: record({ type: fc.constant("OPENPGPKEY"), key: octets(300) }),
    // Mostly what RFC 1876's text can say; sometimes any octets, which go out in the \# form.
    LOC: fc.oneof(
      {
        weight: 3,
        arbitrary: record({
          type: fc.constant("LOC"),
          version: fc.constant(0),
          size: fc.integer({ min: 1, max: 9 }).chain((m) =>
            fc.integer({ min: 0, max: 9 }).map((e) => (m << 4) | e)
          ),
          horizontalPrecision: fc.constantFrom(0x00, 0x16, 0x99),
          verticalPrecision: fc.constantFrom(0x00, 0x13, 0x25),
          latitude: fc.integer({ min: 2 ** 31 - 90 * 3_600_000, max: 2 ** 31 + 90 * 3_600_000 }),
          longitude: fc.integer({ min: 2 ** 31 - 180 * 3_600_000, max: 2 ** 31 + 180 * 3_600_000 }),
          altitude: u32,
        }),
      },
      {
        weight: 1,
        arbitrary: record({
          type: fc.constant("LOC"),
          version: u8,
          size: u8,
          horizontalPrecision: u8,
          verticalPrecision: u8,
          latitude: u32,
          longitude: u32,
          altitude: u32,
        }),
      },
    ),
    ZONEMD: record({
      type: fc.constant("ZONEMD"),
      serial: u32,
      scheme: u8,
      hashAlgorithm: u8,
      digest: octets(64),
    }),
    SPF: record({ type: fc.constant("SPF"), strings: fc.array(octets(255), { minLength: 1, maxLength: 4 }) }),
    URI: record({ type: fc.constant("URI"), priority: u16, weight: u16, target: octets(300) }),
    unknown: record({
      type: fc.constant("unknown"),
      code: u16.filter((code) => !registered.has(code)),
      bytes: octets(300),
    }),
  };
}

/** Record data of every arm, equally likely. */
export function rdata(options: NameOptions = {}): fc.Arbitrary<RData> {
  return fc.oneof(...Object.values(rdataArms(name(options))) as fc.Arbitrary<RData>[]);
}

/** A resource record (class mostly IN). */
export function resourceRecord(options: NameOptions = {}): fc.Arbitrary<ResourceRecord> {
  return record({
    name: name(options),
    class: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: u16 }),
    ttl: u32,
    data: rdata(options),
  });
}

/** A question of any type and class. */
export function question(options: NameOptions = {}): fc.Arbitrary<Question> {
  return record({ name: name(options), type: typeCode, class: fc.oneof(fc.constant(1), u16) });
}

/** An EDNS option with opaque data. */
export const ednsOption: fc.Arbitrary<EdnsOption> = record({ code: u16, data: octets(64) });

/** An OPT pseudo-record's contents, with options. */
export const edns: fc.Arbitrary<Edns> = record({
  udpPayloadSize: u16,
  version: u8,
  dnssecOk: fc.boolean(),
  flags: fc.integer({ min: 0, max: 0x7fff }),
  options: fc.array(ednsOption, { maxLength: 4 }),
});

/** Options for {@link message}. */
export interface MessageOptions extends NameOptions {
  /** The most entries in each section (default 4). */
  readonly maxSection?: number;
}

/** A whole message; the rcode has 12 bits only when EDNS is present (RFC 6891 section 6.1.3). */
export function message(options: MessageOptions = {}): fc.Arbitrary<Message> {
  const maxLength = options.maxSection ?? 4;
  const records = fc.array(resourceRecord(options), { maxLength });
  return fc.option(edns, { nil: null, freq: 2 }).chain((edns) =>
    record({
      id: u16,
      response: fc.boolean(),
      opcode: fc.integer({ min: 0, max: 15 }),
      authoritative: fc.boolean(),
      truncated: fc.boolean(),
      recursionDesired: fc.boolean(),
      recursionAvailable: fc.boolean(),
      z: fc.boolean(),
      authenticData: fc.boolean(),
      checkingDisabled: fc.boolean(),
      rcode: fc.integer({ min: 0, max: edns ? 0xfff : 0xf }),
      questions: fc.array(question(options), { maxLength: Math.min(maxLength, 3) }),
      answers: records,
      authorities: records,
      additionals: records,
      edns: fc.constant(edns),
    })
  );
}

/**
 * A query-like message for a server: mostly one question for a name the server holds (or a
 * name it must forward), with random flags, opcode and section counts.
 */
export function query(localNames: readonly string[]): fc.Arbitrary<Message> {
  const qname = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...localNames) }, {
    weight: 1,
    arbitrary: name(),
  });
  const q = record({
    name: qname,
    type: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(1, 28, 15, 16, 255) }, {
      weight: 1,
      arbitrary: typeCode,
    }),
    class: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: u16 }),
  });
  return record({
    id: u16,
    response: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, {
      weight: 1,
      arbitrary: fc.constant(true),
    }),
    opcode: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, {
      weight: 1,
      arbitrary: fc.integer({ min: 0, max: 15 }),
    }),
    authoritative: fc.boolean(),
    truncated: fc.boolean(),
    recursionDesired: fc.boolean(),
    recursionAvailable: fc.boolean(),
    z: fc.boolean(),
    authenticData: fc.boolean(),
    checkingDisabled: fc.boolean(),
    rcode: fc.integer({ min: 0, max: 15 }),
    questions: fc.oneof({ weight: 8, arbitrary: q.map((x) => [x]) }, {
      weight: 1,
      arbitrary: fc.array(q, { maxLength: 3 }),
    }),
    answers: fc.oneof({ weight: 8, arbitrary: fc.constant([]) }, {
      weight: 1,
      arbitrary: fc.array(resourceRecord(), { maxLength: 2 }),
    }),
    authorities: fc.constant([]),
    additionals: fc.oneof({ weight: 8, arbitrary: fc.constant([]) }, {
      weight: 1,
      arbitrary: fc.array(resourceRecord(), { maxLength: 2 }),
    }),
    edns: fc.option(edns, { nil: null }),
  });
}

// ---- Comparing names ----

/** The same message with every name, in every section and inside RDATA, replaced by its nameKey(). */
export function foldNames(message: Message): Message {
  const fold = (record: ResourceRecord): ResourceRecord => ({
    ...record,
    name: nameKey(record.name),
    data: foldData(record.data),
  });
  return {
    ...message,
    questions: message.questions.map((q) => ({ ...q, name: nameKey(q.name) })),
    answers: message.answers.map(fold),
    authorities: message.authorities.map(fold),
    additionals: message.additionals.map(fold),
  };
}

function foldData(data: RData): RData {
  switch (data.type) {
    case "NS":
      return { ...data, host: nameKey(data.host) };
    case "CNAME":
    case "PTR":
    case "SRV":
    case "SVCB":
    case "HTTPS":
      return { ...data, target: nameKey(data.target) };
    case "MX":
      return { ...data, exchange: nameKey(data.exchange) };
    case "SOA":
      return { ...data, mname: nameKey(data.mname), rname: nameKey(data.rname) };
    case "RRSIG":
      return { ...data, signerName: nameKey(data.signerName) };
    case "NSEC":
      return { ...data, nextDomainName: nameKey(data.nextDomainName) };
    case "DNAME":
      return { ...data, target: nameKey(data.target) };
    case "RP":
      return { ...data, mailbox: nameKey(data.mailbox), text: nameKey(data.text) };
    case "AFSDB":
      return { ...data, host: nameKey(data.host) };
    case "NAPTR":
      return { ...data, replacement: nameKey(data.replacement) };
    case "HINFO":
    case "LOC":
    case "SSHFP":
    case "TLSA":
    case "SMIMEA":
    case "CDS":
    case "CDNSKEY":
    case "OPENPGPKEY":
    case "ZONEMD":
    case "SPF":
    case "URI":
    case "A":
    case "AAAA":
    case "TXT":
    case "CAA":
    case "DS":
    case "DNSKEY":
    case "NSEC3":
    case "NSEC3PARAM":
    case "unknown":
      return data;
    default:
      return data satisfies never;
  }
}

// ---- Mutating bytes ----

/** One edit of a byte string; positions are taken modulo the length. */
export type Mutation =
  | { readonly kind: "flip"; readonly at: number; readonly bit: number }
  | { readonly kind: "overwrite"; readonly at: number; readonly value: number }
  | { readonly kind: "insert"; readonly at: number; readonly value: number }
  | { readonly kind: "delete"; readonly at: number }
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "duplicate"; readonly at: number; readonly length: number };

/** A mutation, with counts and compression pointers (0xc0..) over-represented among new values. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  record({ kind: fc.constant("flip"), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  record({
    kind: fc.constant("overwrite"),
    at: fc.nat(),
    value: fc.oneof(u8, fc.constantFrom(0, 1, 0x3f, 0x40, 0xc0, 0xff)),
  }),
  record({ kind: fc.constant("insert"), at: fc.nat(), value: u8 }),
  record({ kind: fc.constant("delete"), at: fc.nat() }),
  record({ kind: fc.constant("truncate"), at: fc.nat() }),
  record({ kind: fc.constant("duplicate"), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }) }),
);

/** Applies mutations to a copy of `bytes`. */
export function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let out = Array.from(bytes);
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    switch (m.kind) {
      case "flip":
        if (out.length > 0) out[at] = out[at]! ^ (1 << m.bit);
        break;
      case "overwrite":
        if (out.length > 0) out[at] = m.value;
        break;
      case "insert":
        out.splice(at, 0, m.value);
        break;
      case "delete":
        out.splice(at, 1);
        break;
      case "truncate":
        out = out.slice(0, at);
        break;
      case "duplicate":
        out.splice(at, 0, ...out.slice(at, at + m.length));
        break;
    }
  }
  return Uint8Array.from(out);
}

/** Mutated copies of one of `samples`: one to eight edits. */
export function mutated(samples: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.constantFrom(...samples), fc.array(mutation, { minLength: 1, maxLength: 8 }))
    .map(([bytes, mutations]) => mutate(bytes, mutations));
}

/** A header with small section counts followed by random octets: gets past the header often. */
export const headerThenJunk: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.uint8Array({ minLength: 4, maxLength: 4 }),
  fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 4, maxLength: 4 }),
  fc.uint8Array({ maxLength: 200 }),
).map(([head, counts, body]) => {
  const out = new Uint8Array(12 + body.length);
  out.set(head);
  counts.forEach((count, i) => out[5 + 2 * i] = count);
  out.set(body, 12);
  return out;
});
