/**
 * A private signed DNS tree on loopback, for DNSSEC validation tests: keys made with
 * `ldns-keygen`, zones signed with `ldns-signzone`, all served by ONE NSD on a free port. A
 * forwarder pointed at that NSD (RD=1, DO=1) gets every zone's data, and the DS of a child from
 * its parent: NSD answers a DS question from the parent zone when it serves both (RFC 4035 section
 * 3.1.4.1; tests/interop/signed_tree_test.ts checks it).
 *
 * The tree (every zone's NS is `ns.test.`, 127.0.0.1):
 *
 * ```
 * .                      algorithm 13, NSEC; its DS is the trust anchor ({@link SignedTree.anchorFile})
 * └── test.              algorithm 8, NSEC3 (no salt, 0 iterations, no opt-out)
 *     ├── alg8.test.         8 RSASHA256, NSEC            secure
 *     ├── alg10.test.        10 RSASHA512, NSEC           secure
 *     ├── alg13.test.        13 ECDSAP256SHA256, NSEC3    secure
 *     ├── alg14.test.        14 ECDSAP384SHA384, NSEC     secure (its DS has digest type 4, SHA-384)
 *     ├── alg15.test.        15 ED25519, NSEC             secure
 *     ├── nsec3optout.test.  13, NSEC3 opt-out            secure, but NXDOMAIN and wildcard insecure;
 *     │                                                   below it the unsigned delegation
 *     │   └── unsigned.nsec3optout.test.  unsigned        insecure (no DS, proven by the opt-out NSEC3)
 *     ├── insecure.test.     unsigned, no DS in test.     insecure (proven by test.'s NSEC3)
 *     ├── unsupported.test.  13, but its DS in test. names algorithm 253 (PRIVATEDNS) only: no
 *     │                      validator implements it, so insecure (RFC 4035 section 5.2), not bogus
 *     ├── badsig.test.       13; one byte of www's A RRSIG flipped            www A bogus (EDE 6)
 *     ├── expired.test.      13; signed with -i and -e in the past            bogus (EDE 7)
 *     ├── future.test.       13; signed with -i and -e in the future          bogus (EDE 8)
 *     ├── nokey.test.        13; DNSKEY RRset removed after signing           bogus (EDE 9)
 *     ├── nosig.test.        13; www's A RRSIG removed                        www A bogus (EDE 10)
 *     ├── nonsec.test.       13; NSEC records (and their RRSIGs) removed     denials bogus (EDE 12),
 *     │                                                       wildcard bogus (EDE 6)
 *     └── wrongds.test.      13; its DS in test. is of a key the zone lacks  bogus (EDE 9)
 * ```
 *
 * Every child zone holds `www` A, a wildcard `*.wild` A and `txt` with only a TXT record; the
 * cases ask each for `www` A (positive), `txt` A (NODATA), `nothere` A (NXDOMAIN) and `x.wild` A
 * (wildcard). Each zone has one key with the SEP flag (257), used for every RRset; RSA keys are
 * 1024 bits, so the whole tree builds in well under a second of CPU.
 * @module
 */
import { Rcode, RRType } from "../lib/proto/mod.ts";
import { type Nsd, type NsdZone, startNsd } from "./_nsd.ts";
import { findTool, runCommand } from "./_tools.ts";

/** What a validator must conclude about an answer (RFC 4035 section 4.3). */
export type Security = "secure" | "insecure" | "bogus";

/** The kinds of question asked of each zone. */
export type QueryKind = "positive" | "nodata" | "nxdomain" | "wildcard";

/** The RFC 8914 INFO-CODEs a validator gives for bogus answers (issue 16). */
export const DnssecEde = {
  DNSSEC_BOGUS: 6,
  SIGNATURE_EXPIRED: 7,
  SIGNATURE_NOT_YET_VALID: 8,
  DNSKEY_MISSING: 9,
  RRSIGS_MISSING: 10,
  NSEC_MISSING: 12,
} as const;

/** One question to the tree and what a validating resolver must answer. */
export interface TreeCase {
  /** The zone the question falls in, `alg8.test.`. */
  readonly zone: string;
  readonly kind: QueryKind;
  readonly name: string;
  readonly type: number;
  readonly security: Security;
  /** The RCODE a validating resolver gives: SERVFAIL when bogus, else {@link TreeCase.dataRcode}. */
  readonly rcode: number;
  /** The AD bit a validating resolver sets (asked with DO=1): secure answers only. */
  readonly ad: boolean;
  /** The RCODE the zone itself gives, which a resolver passes on under CD=1. */
  readonly dataRcode: number;
  /** Whether the zone's answer has an A record (positive and wildcard questions). */
  readonly hasAddress: boolean;
  /** The Extended DNS Error for a bogus answer, null otherwise. */
  readonly ede: number | null;
}

/** A running signed tree. */
export interface SignedTree {
  /** NSD's port on 127.0.0.1. */
  readonly port: number;
  /** The root's DS record, as unbound's `trust-anchor-file`. */
  readonly anchorFile: string;
  /** The temporary folder with keys, zones and NSD's files; removed by `stop()`. */
  readonly dir: string;
  readonly cases: readonly TreeCase[];
  /** Stops NSD by PID and removes {@link SignedTree.dir}. */
  stop(): Promise<void>;
}

type Denial = "nsec" | "nsec3" | "nsec3-optout";
type Outcome = { readonly security: Security; readonly ede: number | null };
type Breakage = "badsig" | "expired" | "future" | "nokey" | "nosig" | "nonsec" | "wrongds" | "unsupported";

interface ChildSpec {
  readonly label: string;
  /** The signing algorithm, or null for an unsigned zone with no DS. */
  readonly algorithm: number | null;
  readonly denial: Denial;
  readonly breakage?: Breakage;
  readonly outcome: (kind: QueryKind) => Outcome;
}

const SECURE: Outcome = { security: "secure", ede: null };
const INSECURE: Outcome = { security: "insecure", ede: null };
const bogus = (ede: number): Outcome => ({ security: "bogus", ede });
const always = (outcome: Outcome) => (): Outcome => outcome;
/** `outcome` for the kinds listed, secure for the others. */
const onlyFor = (kinds: readonly QueryKind[], outcome: Outcome) => (kind: QueryKind): Outcome =>
  kinds.includes(kind) ? outcome : SECURE;

const ALGORITHM_NAMES: Readonly<Record<number, string>> = {
  8: "RSASHA256",
  10: "RSASHA512",
  13: "ECDSAP256SHA256",
  14: "ECDSAP384SHA384",
  15: "ED25519",
};

/**
 * PRIVATEDNS (RFC 4034 appendix A.1): a DS naming it has no key any validator can check. Not 5 or
 * 7 (RSASHA1): unbound 1.17 still validates those, so the zone would be secure there.
 */
const UNSUPPORTED_ALGORITHM = 253;

const CHILDREN: readonly ChildSpec[] = [
  { label: "alg8", algorithm: 8, denial: "nsec", outcome: always(SECURE) },
  { label: "alg10", algorithm: 10, denial: "nsec", outcome: always(SECURE) },
  { label: "alg13", algorithm: 13, denial: "nsec3", outcome: always(SECURE) },
  { label: "alg14", algorithm: 14, denial: "nsec", outcome: always(SECURE) },
  { label: "alg15", algorithm: 15, denial: "nsec", outcome: always(SECURE) },
  {
    label: "nsec3optout",
    algorithm: 13,
    denial: "nsec3-optout",
    // Every NSEC3 has the opt-out flag, and an opt-out span proves only that no *signed* name
    // exists (RFC 5155 section 6): a denial resting on one covering the next closer name (NXDOMAIN,
    // and a wildcard answer's proof of no closer match) is insecure, as unbound and BIND say.
    outcome: (kind) => kind === "nxdomain" || kind === "wildcard" ? INSECURE : SECURE,
  },
  { label: "insecure", algorithm: null, denial: "nsec", outcome: always(INSECURE) },
  {
    label: "unsupported",
    algorithm: 13,
    denial: "nsec",
    breakage: "unsupported",
    outcome: always(INSECURE),
  },
  {
    label: "badsig",
    algorithm: 13,
    denial: "nsec",
    breakage: "badsig",
    outcome: onlyFor(["positive"], bogus(DnssecEde.DNSSEC_BOGUS)),
  },
  {
    label: "expired",
    algorithm: 13,
    denial: "nsec",
    breakage: "expired",
    outcome: always(bogus(DnssecEde.SIGNATURE_EXPIRED)),
  },
  {
    label: "future",
    algorithm: 13,
    denial: "nsec",
    breakage: "future",
    outcome: always(bogus(DnssecEde.SIGNATURE_NOT_YET_VALID)),
  },
  {
    label: "nokey",
    algorithm: 13,
    denial: "nsec",
    breakage: "nokey",
    outcome: always(bogus(DnssecEde.DNSKEY_MISSING)),
  },
  {
    label: "nosig",
    algorithm: 13,
    denial: "nsec",
    breakage: "nosig",
    outcome: onlyFor(["positive"], bogus(DnssecEde.RRSIGS_MISSING)),
  },
  {
    label: "nonsec",
    algorithm: 13,
    denial: "nsec",
    breakage: "nonsec",
    // A wildcard answer needs the NSEC proving that no closer name exists (RFC 4035 section 5.3.4);
    // without it the answer is bogus, but EDE 12 is for denials ("the requested data was missing",
    // RFC 8914 section 4.13), so plain DNSSEC Bogus, as unbound says.
    outcome: (kind) =>
      kind === "positive"
        ? SECURE
        : bogus(kind === "wildcard" ? DnssecEde.DNSSEC_BOGUS : DnssecEde.NSEC_MISSING),
  },
  {
    label: "wrongds",
    algorithm: 13,
    denial: "nsec",
    breakage: "wrongds",
    outcome: always(bogus(DnssecEde.DNSKEY_MISSING)),
  },
];

const QUESTIONS: readonly { kind: QueryKind; label: string }[] = [
  { kind: "positive", label: "www" },
  { kind: "nodata", label: "txt" },
  { kind: "nxdomain", label: "nothere" },
  { kind: "wildcard", label: "x.wild" },
];

const TOOL_MS = 10_000;
const DAY_S = 86_400;
const SOA = "@ SOA ns.test. hostmaster.test. 1 3600 900 86400 300\n@ NS ns.test.\n";

function treeCase(zone: string, kind: QueryKind, name: string, outcome: Outcome): TreeCase {
  const dataRcode = kind === "nxdomain" ? Rcode.NXDOMAIN : Rcode.NOERROR;
  return {
    zone,
    kind,
    name,
    type: RRType.A,
    security: outcome.security,
    rcode: outcome.security === "bogus" ? Rcode.SERVFAIL : dataRcode,
    ad: outcome.security === "secure",
    dataRcode,
    hasAddress: kind === "positive" || kind === "wildcard",
    ede: outcome.ede,
  };
}

/** Every question the tree answers, with what a validator must say. */
export function treeCases(): TreeCase[] {
  const cases = CHILDREN.flatMap(({ label, outcome }) =>
    QUESTIONS.map((q) => treeCase(`${label}.test.`, q.kind, `${q.label}.${label}.test.`, outcome(q.kind)))
  );
  return [
    treeCase(".", "nxdomain", "nothere.", SECURE),
    treeCase("test.", "nxdomain", "nothere.test.", SECURE),
    ...cases,
    treeCase("unsigned.nsec3optout.test.", "positive", "www.unsigned.nsec3optout.test.", INSECURE),
  ];
}

async function run(dir: string, tool: string, args: readonly string[]): Promise<string> {
  const { code, stdout, stderr } = await runCommand(findTool(tool) ?? tool, args, {
    cwd: new URL(`file://${dir}/`),
    ms: TOOL_MS,
  });
  if (code !== 0) throw new Error(`${tool} ${args.join(" ")} exited ${code}:\n${stdout}${stderr}`);
  return stdout;
}

/** A key with the SEP flag for `zone`; returns its base name (`Kalg8.test.+008+12345`). */
async function keygen(dir: string, zone: string, algorithm: number): Promise<string> {
  const size = algorithm === 8 || algorithm === 10 ? ["-b", "1024"] : [];
  return (await run(dir, "ldns-keygen", ["-a", ALGORITHM_NAMES[algorithm]!, ...size, "-k", zone])).trim();
}

/** The DS line ldns-keygen wrote beside the key (SHA-256, or SHA-384 for algorithm 14). */
async function dsOf(dir: string, key: string): Promise<string> {
  return (await Deno.readTextFile(`${dir}/${key}.ds`)).trim();
}

/** Signs `dir/file` with `key` into the returned text, one record a line. */
async function sign(
  dir: string,
  file: string,
  key: string,
  options: { denial: Denial; inception?: number; expiration?: number },
): Promise<string> {
  const nsec3 = options.denial === "nsec"
    ? []
    : ["-n", "-t", "0", ...(options.denial === "nsec3" ? [] : ["-p"])];
  const window = options.inception === undefined
    ? []
    : ["-i", String(options.inception), "-e", String(options.expiration)];
  await run(dir, "ldns-signzone", [...nsec3, ...window, "-f", `${file}.signed`, file, key]);
  return await Deno.readTextFile(`${dir}/${file}.signed`);
}

/** Owner, TYPE and (for an RRSIG) the type covered of a line of ldns-signzone's output. */
function fields(line: string): { owner: string; type: string; covered: string } {
  const [owner = "", , , type = "", covered = ""] = line.split(/\s+/);
  return { owner: owner.toLowerCase(), type, covered };
}

/** Flips the first signature byte of the record on `line` (an RRSIG), keeping the rest. */
function flipSignatureByte(line: string): string {
  const parts = line.trim().split(/\s+/);
  const signature = Uint8Array.from(atob(parts.at(-1)!), (c) => c.charCodeAt(0));
  signature[0] = signature[0]! ^ 0xff;
  return [...parts.slice(0, -1), btoa(String.fromCharCode(...signature))].join("\t");
}

/** The signed zone text after `breakage` (those that change the child's records). */
function breakZone(text: string, zone: string, breakage: Breakage | undefined): string {
  const www = `www.${zone}`;
  const isWwwSig = (line: string) => {
    const f = fields(line);
    return f.owner === www && f.type === "RRSIG" && f.covered === "A";
  };
  const lines = text.split("\n");
  const without = (type: string) =>
    lines.filter((line) => {
      const f = fields(line);
      return f.type !== type && !(f.type === "RRSIG" && f.covered === type);
    });
  let broken: string[];
  switch (breakage) {
    case "badsig":
      broken = lines.map((line) => isWwwSig(line) ? flipSignatureByte(line) : line);
      break;
    case "nosig":
      broken = lines.filter((line) => !isWwwSig(line));
      break;
    case "nokey":
      broken = without("DNSKEY");
      break;
    case "nonsec":
      broken = without("NSEC");
      break;
    default:
      return text;
  }
  // A change of ldns-signzone's output format must not leave a "broken" zone intact.
  const result = broken.join("\n");
  if (result === text) throw new Error(`Cannot break ${zone} (${breakage}): no such record in:\n${text}`);
  return result;
}

/** The signing window of a child: in the past for `expired`, in the future for `future`. */
function signingWindow(
  breakage: Breakage | undefined,
  now: number,
): { inception?: number; expiration?: number } {
  if (breakage === "expired") return { inception: now - 60 * DAY_S, expiration: now - 30 * DAY_S };
  if (breakage === "future") return { inception: now + 30 * DAY_S, expiration: now + 60 * DAY_S };
  return {};
}

/** Builds a child zone; returns the NSD zones it adds and the DS lines its parent must hold. */
async function buildChild(
  dir: string,
  spec: ChildSpec,
  now: number,
): Promise<{ zones: NsdZone[]; ds: string[] }> {
  const zone = `${spec.label}.test.`;
  const optOut = spec.denial === "nsec3-optout" ? "unsigned NS ns.test.\n" : "";
  const text = `$ORIGIN ${zone}\n$TTL 3600\n${SOA}www A 192.0.2.1\n*.wild A 192.0.2.2\n` +
    `txt TXT "only TXT here"\n${optOut}`;
  const file = `${spec.label}.zone`;
  await Deno.writeTextFile(`${dir}/${file}`, text);
  const zones: NsdZone[] = [];
  if (optOut) {
    const below = `unsigned.${zone}`;
    await Deno.writeTextFile(
      `${dir}/unsigned.${file}`,
      `$ORIGIN ${below}\n$TTL 3600\n${SOA}www A 192.0.2.3\n`,
    );
    zones.push({ name: below, file: `unsigned.${file}` });
  }
  if (spec.algorithm === null) return { zones: [...zones, { name: zone, file }], ds: [] };
  const key = await keygen(dir, zone, spec.algorithm);
  const signed = await sign(dir, file, key, { denial: spec.denial, ...signingWindow(spec.breakage, now) });
  await Deno.writeTextFile(`${dir}/${file}.db`, breakZone(signed, zone, spec.breakage));
  zones.push({ name: zone, file: `${file}.db` });
  if (spec.breakage === "wrongds") {
    return { zones, ds: [await dsOf(dir, await keygen(dir, zone, spec.algorithm))] };
  }
  const ds = await dsOf(dir, key);
  if (spec.breakage !== "unsupported") return { zones, ds: [ds] };
  // DS fields: owner class DS key-tag algorithm digest-type digest.
  const parts = ds.split(/\s+/);
  parts[4] = String(UNSUPPORTED_ALGORITHM);
  return { zones, ds: [parts.join("\t")] };
}

/** Builds and signs a parent zone (`test.` or `.`) whose `body` holds its delegations and DS lines. */
async function buildParent(
  dir: string,
  parent: { zone: string; file: string; algorithm: number; denial: Denial; body: string },
): Promise<{ zone: NsdZone; ds: string }> {
  await Deno.writeTextFile(
    `${dir}/${parent.file}`,
    `$ORIGIN ${parent.zone}\n$TTL 3600\n${SOA}${parent.body}`,
  );
  const key = await keygen(dir, parent.zone, parent.algorithm);
  await Deno.writeTextFile(`${dir}/${parent.file}.db`, await sign(dir, parent.file, key, parent));
  return { zone: { name: parent.zone, file: `${parent.file}.db` }, ds: await dsOf(dir, key) };
}

/**
 * Generates the keys, signs the tree described at the top of this file in a fresh temporary
 * folder and serves it with one NSD; the caller must `stop()` it.
 */
export async function startSignedTree(): Promise<SignedTree> {
  const dir = await Deno.makeTempDir({ prefix: "dnsd_tree_" });
  try {
    const now = Math.floor(Date.now() / 1000);
    const children = await Promise.all(CHILDREN.map((spec) => buildChild(dir, spec, now)));
    const delegations = CHILDREN.map(({ label }) => `${label} NS ns.test.\n`).join("") +
      children.flatMap(({ ds }) => ds).join("\n");
    const test = await buildParent(dir, {
      zone: "test.",
      file: "test.zone",
      algorithm: 8,
      denial: "nsec3",
      body: `ns A 127.0.0.1\n${delegations}\n`,
    });
    const root = await buildParent(dir, {
      zone: ".",
      file: "root.zone",
      algorithm: 13,
      denial: "nsec",
      body: `test. NS ns.test.\nns.test. A 127.0.0.1\n${test.ds}\n`,
    });
    const anchorFile = `${dir}/root.anchor`;
    await Deno.writeTextFile(anchorFile, `${root.ds}\n`);
    const zones = [root.zone, test.zone, ...children.flatMap((child) => child.zones)];
    const nsd: Nsd = await startNsd(dir, dir, { zones });
    return {
      port: nsd.port,
      anchorFile,
      dir,
      cases: treeCases(),
      async stop() {
        try {
          await nsd.stop();
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      },
    };
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}
