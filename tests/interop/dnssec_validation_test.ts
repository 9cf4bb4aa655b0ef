/**
 * dnsd validating forwarded answers (issue 16, RFC 4033-4035, 5155, 6840) on the signed tree of
 * tests/_signed_tree.ts: NSD serves the tree, dnsd forwards to it with `--trust-anchor` the tree's
 * root DS, and for every case (each algorithm, NSEC and NSEC3, opt-out, insecure delegations, and
 * the broken zones) dnsd's RCODE, AD bit and Extended DNS Error must be the table's. Each broken
 * zone makes a case that fails if validation is skipped (the data is there, unvalidated). Then the
 * same questions to unbound, validating with the same anchor and upstream: the same RCODE and AD.
 * @module
 */
import assert from "node:assert/strict";
import { rcodeName, RRType } from "../../lib/proto/mod.ts";
import { test } from "../_limit.ts";
import { needsTools } from "../_nsd.ts";
import { type RunningDnsd, startDnsd } from "../_dnsd_process.ts";
import { type SignedTree, startSignedTree, type TreeCase } from "../_signed_tree.ts";
import { queryWith, startValidatingUnbound, type ValidatedAnswer } from "../_unbound.ts";
import { freeUdpPort } from "../_udp_client.ts";

const TOOLS = ["nsd", "unbound", "ldns-keygen", "ldns-signzone"];

function shows(answer: ValidatedAnswer): string {
  return `${rcodeName(answer.rcode)} ad=${answer.ad} answers=${answer.answers.length} ede=[${answer.ede}]`;
}

function hasAddress(answer: ValidatedAnswer): boolean {
  return answer.answers.some((record) => record.data.type === "A");
}

async function withDnsd(
  tree: SignedTree,
  extra: readonly string[],
  fn: (dnsd: RunningDnsd) => Promise<void>,
) {
  const dnsd = await startDnsd((port) => [
    "--port",
    String(port),
    "--upstream",
    `127.0.0.1:${tree.port}`,
    "--trust-anchor",
    tree.anchorFile,
    "--no-default-zones",
    // The tree has its own root: its single-label names are forwarded, not answered NXDOMAIN here.
    "--forward-single-label",
    ...extra,
  ]);
  try {
    await fn(dnsd);
  } finally {
    await dnsd.stop();
  }
}

/** What is wrong with dnsd's answer to case `c`, or null. */
function judge(c: TreeCase, answer: ValidatedAnswer): string | null {
  const addressOk = c.security === "bogus" || hasAddress(answer) === c.hasAddress;
  const edeOk = c.ede === null ? answer.ede.length === 0 : answer.ede[0] === c.ede;
  if (answer.rcode === c.rcode && answer.ad === c.ad && addressOk && edeOk) return null;
  return `${c.name} A (${c.kind}, ${c.security}): want ${rcodeName(c.rcode)} ad=${c.ad} ede=[${
    c.ede ?? ""
  }], got ${shows(answer)}`;
}

test({
  ...needsTools(TOOLS, "dnsd --trust-anchor validates the signed tree: each case's RCODE, AD and EDE"),
  timeoutMs: 90_000,
}, async () => {
  const tree = await startSignedTree();
  try {
    await withDnsd(tree, [], async (dnsd) => {
      const wrong: string[] = [];
      for (const c of tree.cases) {
        const answer = await queryWith(dnsd.port, c.name, c.type, { dnssecOk: true });
        const problem = judge(c, answer);
        if (problem) wrong.push(problem);
        // Asked again: from the cache, with the same verdict (a bogus one remembered, RFC 9520).
        const again = await queryWith(dnsd.port, c.name, c.type, { dnssecOk: true });
        const cached = judge(c, again);
        if (cached) wrong.push(`(cached) ${cached}`);
        // Without DO: the same RCODE, no AD (RFC 6840 section 5.7), and no RRSIG shown.
        const plain = await queryWith(dnsd.port, c.name, c.type, { dnssecOk: false });
        if (plain.rcode !== c.rcode || plain.ad || plain.answers.some((r) => r.data.type === "RRSIG")) {
          wrong.push(
            `${c.name} A without DO: want ${rcodeName(c.rcode)} ad=false, no RRSIG, got ${shows(plain)}`,
          );
        }
        if (c.security !== "bogus") continue;
        // CD=1: not validated; the zone's own answer, AD=0 (RFC 4035 section 3.2.2).
        const unchecked = await queryWith(dnsd.port, c.name, c.type, {
          dnssecOk: true,
          checkingDisabled: true,
        });
        if (unchecked.rcode !== c.dataRcode || unchecked.ad || hasAddress(unchecked) !== c.hasAddress) {
          wrong.push(`${c.name} A CD=1: want ${rcodeName(c.dataRcode)} ad=false, got ${shows(unchecked)}`);
        }
      }
      assert.deepEqual(
        wrong,
        [],
        `${wrong.length} of ${tree.cases.length} cases wrong:\n${wrong.join("\n")}`,
      );
    });
  } finally {
    await tree.stop();
  }
});

test({
  ...needsTools(
    TOOLS,
    "dnsd and unbound, validating the same tree under the same anchor, agree on RCODE and AD",
  ),
  timeoutMs: 90_000,
}, async () => {
  const tree = await startSignedTree();
  try {
    const unbound = await startValidatingUnbound({ upstreamPort: tree.port, anchorFile: tree.anchorFile });
    try {
      await withDnsd(tree, [], async (dnsd) => {
        const differ: string[] = [];
        for (const c of tree.cases) {
          for (const dnssecOk of [true, false]) {
            const ours = await queryWith(dnsd.port, c.name, RRType.A, { dnssecOk });
            const theirs = await queryWith(unbound.port, c.name, RRType.A, { dnssecOk });
            if (ours.rcode !== theirs.rcode || ours.ad !== theirs.ad) {
              differ.push(`${c.name} A DO=${dnssecOk}: dnsd ${shows(ours)}, unbound ${shows(theirs)}`);
            }
          }
        }
        assert.deepEqual(differ, [], differ.join("\n"));
      });
    } finally {
      await unbound.stop();
    }
  } finally {
    await tree.stop();
  }
});

test({
  ...needsTools(
    TOOLS,
    "dnsd --dnssec: dnsd_dnssec_total counts each verdict, explain shows the cache's security",
  ),
  timeoutMs: 90_000,
}, async () => {
  const tree = await startSignedTree();
  try {
    const metricsPort = freeUdpPort();
    await withDnsd(tree, ["--metrics", `127.0.0.1:${metricsPort}`], async (dnsd) => {
      const counts = async () => {
        const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        const count = (result: string) =>
          Number(new RegExp(`^dnsd_dnssec_total\\{result="${result}"\\} (\\d+)$`, "m").exec(metrics)?.[1]);
        return { secure: count("secure"), insecure: count("insecure"), bogus: count("bogus") };
      };
      // The start-up probe (. NS, for /ready) is validated too, secure: count from once it has been.
      let before = await counts();
      for (let waited = 0; before.secure < 1 && waited < 5_000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        before = await counts();
      }
      assert.equal(before.secure, 1, "the start-up probe for . NS, validated secure");
      const asked = ["www.alg13.test.", "www.alg8.test.", "www.insecure.test.", "www.badsig.test."];
      for (const name of asked) await queryWith(dnsd.port, name, RRType.A, { dnssecOk: true });
      const after = await counts();
      assert.deepEqual(
        {
          secure: after.secure - before.secure,
          insecure: after.insecure - before.insecure,
          bogus: after.bogus - before.bogus,
        },
        { secure: 2, insecure: 1, bogus: 1 },
      );
      const explain = async (name: string) => {
        const url = `http://127.0.0.1:${metricsPort}/explain?name=${name}&type=A&do=1`;
        return (await (await fetch(url)).json()) as { cache: { security: string } | null };
      };
      assert.equal((await explain("www.alg13.test.")).cache?.security, "secure");
      assert.equal((await explain("www.insecure.test.")).cache?.security, "none");
      assert.equal((await explain("www.badsig.test.")).cache?.security, "bogus");
    });
  } finally {
    await tree.stop();
  }
});
