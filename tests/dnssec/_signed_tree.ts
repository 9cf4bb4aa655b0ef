/**
 * A signed test tree on loopback for the validator: a private root and child zones signed in the test
 * with ldns-keygen and ldns-signzone (each algorithm dnsd validates, NSEC and NSEC3, an opt-out zone
 * with an unsigned delegation, a zone whose DS names no key, a zone signed only with algorithm 5),
 * served by one NSD, asked with DO=1 and CD=1.
 * @module
 */
import { decodeMessage, encodeMessage, type Message, query } from "../../lib/proto/mod.ts";
import { runCommand } from "../_tools.ts";
import { findTool } from "../_tools.ts";
import { type NsdZone, withNsd } from "../_nsd.ts";
import { udpAsk } from "../_udp_client.ts";

/** A signed child of the root: its name, its algorithm (ldns-keygen's name), NSEC3 and opt-out. */
interface Child {
  readonly zone: string;
  readonly algorithm: string;
  readonly nsec3?: boolean;
  readonly optOut?: boolean;
  /** NSEC3 iterations (ldns-signzone's default is 1). */
  readonly iterations?: number;
  /** Extra zone-file lines. */
  readonly extra?: string;
  /** The DS the root publishes is another key's. */
  readonly wrongDs?: boolean;
}

/** The signed zones under the root. */
export const CHILDREN: readonly Child[] = [
  { zone: "a8", algorithm: "RSASHA256", extra: "out CNAME nx.a13.\nout2 CNAME www.unsigned.\n" },
  { zone: "a10", algorithm: "RSASHA512", extra: "moved DNAME a14.\nrp RP mbox.a10. txt.a10.\n" },
  { zone: "a13", algorithm: "ECDSAP256SHA256", nsec3: true },
  { zone: "a14", algorithm: "ECDSAP384SHA384" },
  {
    zone: "a15",
    algorithm: "ED25519",
    nsec3: true,
    optOut: true,
    extra: "island NS ns.island\nns.island A 127.0.0.1\n",
  },
  { zone: "badds", algorithm: "ECDSAP256SHA256", wrongDs: true },
  { zone: "unsup", algorithm: "RSASHA1" },
  { zone: "many", algorithm: "ECDSAP256SHA256", nsec3: true, iterations: 151 },
];

function childText(zone: string, extra = ""): string {
  return `$ORIGIN ${zone}.
$TTL 300
@ SOA ns h 1 3600 600 86400 300
@ NS ns
ns A 127.0.0.1
www A 192.0.2.1
alias CNAME www
*.wild TXT "w"
deep.ent A 192.0.2.2
${extra}`;
}

/** The running tree: the root's DS (trust-anchor text) and a fetch that asks NSD. */
export interface SignedTree {
  readonly rootAnchor: string;
  /** Asks NSD `name`/`type` with DO=1 and CD=1. */
  ask(name: string, type: number): Promise<Message>;
}

async function run(dir: string, tool: string, args: readonly string[]): Promise<string> {
  const { code, stdout, stderr } = await runCommand(findTool(tool) ?? tool, args, {
    cwd: new URL(`file://${dir}/`),
    ms: 30_000,
  });
  if (code !== 0) throw new Error(`${tool} ${args.join(" ")} exited ${code}: ${stderr}`);
  return stdout.trim();
}

async function keygen(dir: string, algorithm: string, zone: string): Promise<string> {
  const bits = algorithm.startsWith("RSA") ? ["-b", "1024"] : [];
  return await run(dir, "ldns-keygen", ["-a", algorithm, ...bits, "-k", `${zone}.`]);
}

async function sign(dir: string, file: string, origin: string, key: string, flags: readonly string[] = []) {
  await run(dir, "ldns-signzone", [...flags, "-o", `${origin}.`, "-f", `${file}.signed`, file, key]);
}

/** Builds the tree in a temporary folder, serves it with NSD and runs `fn`; removes it all after. */
export async function withSignedTree(fn: (tree: SignedTree) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dnsd_dnssec_" });
  try {
    const zones: NsdZone[] = [];
    let root = `$ORIGIN .
$TTL 300
. SOA ns.root. h.root. 1 3600 600 86400 300
. NS ns.root.
ns.root. A 127.0.0.1
unsigned. NS ns.unsigned.
ns.unsigned. A 127.0.0.1
`;
    for (const child of CHILDREN) {
      const key = await keygen(dir, child.algorithm, child.zone);
      const text = childText(child.zone, child.extra);
      await Deno.writeTextFile(`${dir}/${child.zone}.zone`, text);
      const flags = child.nsec3
        ? [
          "-n",
          ...(child.optOut ? ["-p"] : []),
          ...(child.iterations ? ["-t", String(child.iterations)] : []),
        ]
        : [];
      await sign(dir, `${child.zone}.zone`, child.zone, key, flags);
      const dsKey = child.wrongDs ? await keygen(dir, child.algorithm, child.zone) : key;
      root += `${child.zone}. NS ns.${child.zone}.\nns.${child.zone}. A 127.0.0.1\n`;
      root += await Deno.readTextFile(`${dir}/${dsKey}.ds`);
      zones.push({ name: `${child.zone}.`, file: `${child.zone}.zone.signed` });
    }
    await Deno.writeTextFile(`${dir}/unsigned.zone`, childText("unsigned"));
    await Deno.writeTextFile(`${dir}/island.zone`, childText("island.a15"));
    zones.push({ name: "unsigned.", file: "unsigned.zone" }, { name: "island.a15.", file: "island.zone" });
    const rootKey = await keygen(dir, "ECDSAP256SHA256", "");
    await Deno.writeTextFile(`${dir}/root.zone`, root);
    await sign(dir, "root.zone", "", rootKey);
    zones.unshift({ name: ".", file: "root.zone.signed" });
    const rootAnchor = await Deno.readTextFile(`${dir}/${rootKey}.ds`);
    await withNsd({ zones, zonesDir: dir }, async (nsd) => {
      const server: Deno.NetAddr = { transport: "udp", hostname: "127.0.0.1", port: nsd.port };
      await fn({
        rootAnchor,
        async ask(name, type) {
          const bytes = encodeMessage({
            ...query({ name, type }, {
              id: Math.floor(Math.random() * 0x10000),
              recursionDesired: false,
              edns: { udpPayloadSize: 4096, version: 0, dnssecOk: true, flags: 0, options: [] },
            }),
            checkingDisabled: true,
          });
          const reply = decodeMessage(await udpAsk(server, bytes, 2_000));
          if (reply.truncated) throw new Error(`truncated reply to ${name}/${type}`);
          return reply;
        },
      });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
