/**
 * Signed zones made in the test with ldnsutils: keys from `ldns-keygen` (ECDSA P-256, a KSK and a
 * ZSK) and the zone from `ldns-signzone`, with NSEC, NSEC3 (salt and iterations) or NSEC3
 * opt-out. Every zone holds the same cases: apex SOA/NS/MX, `www` A+AAAA, a CNAME, a wildcard, an
 * empty non-terminal, a signed and an unsigned delegation, TXT, and a TXT too big to fit 1232
 * octets once signed.
 * @module
 */
import { findTool, runCommand } from "./_tools.ts";

/** How a zone proves that names and types do not exist. */
export type Denial = "nsec" | "nsec3" | "nsec3-optout";

/** A name server of the zone: a name below the origin (given glue) or an absolute name elsewhere. */
export interface ZoneServer {
  readonly name: string;
  readonly address?: string;
}

/** What {@link signZone} made. */
export interface SignedZone {
  readonly origin: string;
  readonly denial: Denial;
  /** The signed zone file. */
  readonly file: string;
  /** The zone's text before signing. */
  readonly unsigned: string;
  /** The KSK's DS record (SHA-256) in zone-file presentation, as a parent or trust anchor holds it. */
  readonly ds: string;
  /** The signed file's text. */
  readonly text: string;
}

/** NSEC3 parameters (RFC 5155 section 3): a salt and a few extra iterations, as the brief asks. */
export const NSEC3_SALT = "c0ffee";
export const NSEC3_ITERATIONS = 3;

/** 11 strings of 100 octets: over 1232 octets with its RRSIG, under it without (DO=0). */
const BIG_TXT = Array.from({ length: 11 }, (_, i) => `"${String(i).padStart(3, "0")}${"x".repeat(97)}"`)
  .join(" ");

/**
 * The zone's text before signing; `servers` are its NS (default ns1 and ns2 on TEST-NET-1), the
 * first one the SOA MNAME.
 */
export function zoneText(
  origin: string,
  servers: readonly ZoneServer[] = [{ name: "ns1", address: "192.0.2.1" }, {
    name: "ns2",
    address: "192.0.2.2",
  }],
): string {
  const ns = servers.map(({ name }) => `@         NS    ${name}`);
  const glue = servers.flatMap(({ name, address }) => address ? [`${name}  A  ${address}`] : []);
  return [
    `$ORIGIN ${origin}`,
    "$TTL 3600",
    `@         SOA   ${servers[0]?.name ?? "ns1"} hostmaster 2026010101 7200 3600 1209600 300`,
    ...ns,
    "@         MX    10 mail",
    ...glue,
    "mail      A     192.0.2.3",
    "www       A     192.0.2.80",
    "www       AAAA  2001:db8::80",
    "alias     CNAME www",
    "*.wild    A     192.0.2.99",
    "a.b.deep  A     192.0.2.7", // b.deep is an empty non-terminal
    "sub       NS    ns.sub",
    "ns.sub    A     192.0.2.53",
    "sub       DS    12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
    "unsigned  NS    ns.unsigned",
    "ns.unsigned A   192.0.2.54",
    'txt       TXT   "hello" "world"',
    `big       TXT   ${BIG_TXT}`,
    "",
  ].join("\n");
}

async function ldns(tool: string, args: readonly string[], cwd: string): Promise<string> {
  const path = findTool(tool);
  if (!path) throw new Error(`${tool} is not installed`);
  const done = await runCommand(path, args, { cwd: new URL(`file://${cwd}/`), ms: 20_000 });
  if (done.code !== 0) throw new Error(`${tool} ${args.join(" ")} exited ${done.code}: ${done.stderr}`);
  return done.stdout.trim();
}

/** `ldns-signzone`'s date form: seconds since 1970. */
function epoch(offsetSeconds: number): string {
  return String(Math.floor(Date.now() / 1000) + offsetSeconds);
}

/**
 * Writes `origin`'s zone (`text`, default {@link zoneText}) to `dir`, makes its keys and signs it
 * with `denial`. Signatures start an hour ago, so a validator's clock a little behind still
 * accepts them, and end in 30 days.
 */
export async function signZone(
  dir: string,
  origin: string,
  denial: Denial,
  text: string = zoneText(origin),
): Promise<SignedZone> {
  const base = origin.replace(/\.$/, "");
  const unsignedFile = `${dir}/${base}.zone`;
  await Deno.writeTextFile(unsignedFile, text);
  const ksk = await ldns("ldns-keygen", ["-a", "ECDSAP256SHA256", "-k", origin], dir);
  const zsk = await ldns("ldns-keygen", ["-a", "ECDSAP256SHA256", origin], dir);
  const file = `${dir}/${base}.signed`;
  const nsec3 = denial === "nsec"
    ? []
    : ["-n", "-s", NSEC3_SALT, "-t", String(NSEC3_ITERATIONS), ...(denial === "nsec3-optout" ? ["-p"] : [])];
  await ldns("ldns-signzone", [
    ...nsec3,
    ...["-i", epoch(-3600), "-e", epoch(30 * 86400), "-o", origin, "-f", file, unsignedFile, ksk, zsk],
  ], dir);
  const ds = (await Deno.readTextFile(`${dir}/${ksk}.ds`)).trim();
  return { origin, denial, file, unsigned: text, ds, text: await Deno.readTextFile(file) };
}
