/**
 * Live reload, end to end: the real `main.ts` serves temporary copies of a zone file and a hosts
 * file, the test edits them the ways people do, and raw UDP queries show when the new data
 * arrives (polled every 50 ms, for at most 2 s with `--reload-settle 200`), or that the old data
 * stays after a broken edit, a slow write or an edit that kept the zone's serial.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { decodeMessage } from "../../lib/proto/codec.ts";
import { Rcode, RRType } from "../../lib/proto/types.ts";
import { ROOT, runDnsd, type RunningDnsd, STAMP, startDnsd } from "../_dnsd_process.ts";
import { exchange, freeUdpPort, queryBytes } from "../_udp_client.ts";
import { needsPermissions } from "../_tools.ts";

const ZONES = new URL("../testdata/zones/", import.meta.url);
/** What the brief promises: a saved edit is served within 2 s (with a settle time of 200 ms). */
const RELOAD_WITHIN_MS = 2_000;
/** The settle time most tests run with, so an edit shows within {@link RELOAD_WITHIN_MS}. */
const FAST_SETTLE = ["--reload-settle", "200"];
/** `--reload-settle`'s default: a change is applied once the files have been still this long. */
const DEFAULT_SETTLE_MS = 2_000;
const POLL_EVERY_MS = 50;
const QUERY_TIMEOUT_MS = 1_000;
/** `deno run main.ts` exactly as an operator runs it: no --allow-env, no --allow-write. */
const PERMISSIONS = ["--allow-net", "--allow-read"];

const HOSTS = "# test hosts file\n192.0.2.7   printer.lan\n";

/** The same check as every test here: edits need files, the daemon needs a subprocess. */
function needsFiles(name: string): { name: string; ignore: boolean } {
  return needsPermissions(["read", "write", "run"], name);
}

// ---------------------------------------------------------------------------------------------
// Fixtures

interface Files {
  readonly dir: string;
  /** The zone file dnsd is given. */
  readonly zone: string;
  readonly hosts: string;
  /** The zone's original text. */
  readonly text: string;
}

/** Copies the zone folder and writes a hosts file in a fresh temporary folder. */
async function makeFiles(): Promise<Files> {
  const dir = await Deno.makeTempDir({ prefix: "dnsd_reload_" });
  for (const file of ["example.org.zone", "included.zone"]) {
    await Deno.copyFile(new URL(file, ZONES), `${dir}/${file}`);
  }
  await Deno.writeTextFile(`${dir}/hosts`, HOSTS);
  const zone = `${dir}/example.org.zone`;
  return { dir, zone, hosts: `${dir}/hosts`, text: await Deno.readTextFile(zone) };
}

/** The command line of the brief, with an upstream where nothing listens (nothing is forwarded). */
function dnsdArgs(zone: string, hosts: string, extra: readonly string[] = []): (port: number) => string[] {
  const upstream = freeUdpPort();
  return (port) => [
    ...["--port", String(port), "--zone", zone, "--hosts", hosts],
    ...["--upstream", `127.0.0.1:${upstream}`, "--log-level", "info", ...extra],
  ];
}

/** Runs `fn` against `main.ts` serving `zone` and `hosts` (settling in 200 ms unless told); always kills it. */
async function withDnsd(
  zone: string,
  hosts: string,
  fn: (dnsd: RunningDnsd) => Promise<void>,
  extra: readonly string[] = FAST_SETTLE,
): Promise<void> {
  const dnsd = await startDnsd(dnsdArgs(zone, hosts, extra), PERMISSIONS);
  try {
    await fn(dnsd);
  } finally {
    await dnsd.stop();
  }
}

/** Runs `fn` with fresh copies of the files; always removes them. */
async function withFiles(fn: (files: Files) => Promise<void>): Promise<void> {
  const files = await makeFiles();
  try {
    await fn(files);
  } finally {
    await Deno.remove(files.dir, { recursive: true });
  }
}

/** Replaces `file` as editors save: a new file in the same folder, renamed over the old one. */
async function saveByRename(file: string, text: string): Promise<void> {
  const temporary = `${file}.swp`;
  await Deno.writeTextFile(temporary, text);
  await Deno.rename(temporary, file);
}

/** The A records dnsd gives for `name` (RD=0, so never forwarded), or the RCODE when not NOERROR. */
async function lookup(port: number, name: string): Promise<string> {
  const reply = await exchange(
    port,
    queryBytes(name, RRType.A, { recursionDesired: false }),
    QUERY_TIMEOUT_MS,
  );
  if (!reply) return "no reply";
  const message = decodeMessage(reply);
  if (message.rcode !== Rcode.NOERROR) {
    return Object.entries(Rcode).find(([, code]) => code === message.rcode)?.[0] ?? `rcode ${message.rcode}`;
  }
  return message.answers.flatMap((record) => record.data.type === "A" ? [record.data.address] : []).sort()
    .join(" ");
}

/** Polls every 50 ms until `name` resolves to `want`; fails after `ms` (2 s) with the last answer. */
async function waitForAnswer(port: number, name: string, want: string, ms = RELOAD_WITHIN_MS): Promise<void> {
  const deadline = Date.now() + ms;
  let got = "";
  while (Date.now() <= deadline) {
    got = await lookup(port, name);
    if (got === want) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_EVERY_MS));
  }
  assert.fail(`${name} did not become "${want}" within ${ms} ms; last answer "${got}"`);
}

/** The zone's SOA serial as the test files have it. */
const SERIAL = 2026112601;

/** The zone text with its SOA serial set to `serial`. */
function withSerial(text: string, serial: number): string {
  const edited = text.replace(`${SERIAL} ; serial`, `${serial} ; serial`);
  assert.ok(edited.includes(`${serial} ; serial`), "the zone has its serial on a line of its own");
  return edited;
}

/**
 * The zone text with `after`'s address changed: the edit every test makes, with a new serial (one
 * per address) as an operator makes it, unless `serial` says otherwise.
 */
function withAfter(
  text: string,
  address: string,
  serial = SERIAL + 100 + Number(address.split(".")[3]),
): string {
  const edited = text.replace(/^after(\s+)A(\s+)192\.0\.2\.88/m, `after$1A$2${address}`);
  assert.notEqual(edited, text, "the zone has the `after` line");
  return withSerial(edited, serial);
}

// ---------------------------------------------------------------------------------------------
// Edits picked up

test(needsFiles("dnsd serves a zone file replaced by rename (as editors save) within 2 s"), async () => {
  await withFiles(async ({ zone, hosts, text }) => {
    await withDnsd(zone, hosts, async ({ port }) => {
      assert.equal(await lookup(port, "after.example.org"), "192.0.2.88");
      await saveByRename(zone, withAfter(text, "192.0.2.89"));
      await waitForAnswer(port, "after.example.org", "192.0.2.89");
      // The watch survives the rename: a second save is seen too.
      await saveByRename(zone, withAfter(text, "192.0.2.90"));
      await waitForAnswer(port, "after.example.org", "192.0.2.90");
    });
  });
});

test(needsFiles("dnsd serves a zone file written in place within 2 s"), async () => {
  await withFiles(async ({ zone, hosts, text }) => {
    await withDnsd(zone, hosts, async ({ port }) => {
      assert.equal(await lookup(port, "after.example.org"), "192.0.2.88");
      await Deno.writeTextFile(zone, withAfter(text, "192.0.2.89"));
      await waitForAnswer(port, "after.example.org", "192.0.2.89");
      // An edit of the $INCLUDEd file is picked up too, with the zone's serial bumped.
      await Deno.writeTextFile(`${zone.replace(/[^/]+$/, "")}included.zone`, "@ A 192.0.2.210\n");
      await Deno.writeTextFile(zone, withAfter(text, "192.0.2.89", SERIAL + 1_000));
      await waitForAnswer(port, "inc.example.org", "192.0.2.210");
      assert.equal(await lookup(port, "host.inc.example.org"), "NXDOMAIN");
    });
  });
});

test(
  needsFiles("dnsd keeps the old zone on a broken edit, logs its file:line:column, then takes the fix"),
  async () => {
    await withFiles(async ({ zone, hosts, text }) => {
      await withDnsd(zone, hosts, async ({ port, stderr }) => {
        // The bad line goes in the middle of the file, next to a good change that must not apply.
        const lines = withAfter(text, "192.0.2.89").split("\n");
        const badLine = "broken      A     192.0.2.300";
        const at = 20;
        lines.splice(at, 0, badLine);
        const from = stderr.seen.length;
        await saveByRename(zone, lines.join("\n"));
        const where = `${zone}:${at + 1}:${badLine.indexOf("192.0.2.300") + 1}: `;
        const error = await stderr.waitFor(new RegExp(`^${STAMP} - ERROR - `), RELOAD_WITHIN_MS, from);
        assert.ok(error.includes(where), `expected ${where} in:\n${error}`);
        assert.match(error, /192\.0\.2\.300/);
        for (let i = 0; i < 3; i++) {
          assert.equal(await lookup(port, "after.example.org"), "192.0.2.88", "the old answer");
          assert.equal(await lookup(port, "www.example.org"), "192.0.2.10", "the rest of the old zone");
          await new Promise((resolve) => setTimeout(resolve, 100));
        }

        await saveByRename(zone, withAfter(text, "192.0.2.89"));
        await waitForAnswer(port, "after.example.org", "192.0.2.89");
      });
    });
  },
);

test(
  needsFiles("SIGHUP reloads a change the file watcher cannot see (a symlinked zone file's target)"),
  async () => {
    await withFiles(async ({ dir, hosts, text }) => {
      // dnsd watches the folders of the paths it was given; the edit happens in another folder,
      // through the link's target, so only SIGHUP can tell dnsd about it.
      await Deno.mkdir(`${dir}/live`);
      await Deno.mkdir(`${dir}/data`);
      await Deno.rename(`${dir}/example.org.zone`, `${dir}/data/example.org.zone`);
      await Deno.rename(`${dir}/included.zone`, `${dir}/live/included.zone`); // relative to the link
      await Deno.symlink(`${dir}/data/example.org.zone`, `${dir}/live/example.org.zone`);
      await withDnsd(`${dir}/live/example.org.zone`, hosts, async ({ port, stderr, child }) => {
        assert.equal(await lookup(port, "after.example.org"), "192.0.2.88");
        await Deno.writeTextFile(`${dir}/data/example.org.zone`, withAfter(text, "192.0.2.89"));
        const from = stderr.seen.length;
        child.kill("SIGHUP");
        await stderr.waitFor(/ - INFO - Reloading local data \(SIGHUP\)$/, RELOAD_WITHIN_MS, from);
        await waitForAnswer(port, "after.example.org", "192.0.2.89");
        const reloads = stderr.seen.slice(from).filter((line) => line.includes("Reloading local data"));
        assert.deepEqual(reloads.map((line) => line.replace(/^.* - INFO - /, "")), [
          "Reloading local data (SIGHUP)",
        ]);
      });
    });
  },
);

test(needsFiles("dnsd serves an edited hosts file within 2 s"), async () => {
  await withFiles(async ({ zone, hosts }) => {
    await withDnsd(zone, hosts, async ({ port }) => {
      assert.equal(await lookup(port, "printer.lan"), "192.0.2.7");
      assert.equal(await lookup(port, "scanner.lan"), "REFUSED", "not local data: RD=0 is refused");
      await Deno.writeTextFile(hosts, `${HOSTS}192.0.2.8   scanner.lan\n`);
      await waitForAnswer(port, "scanner.lan", "192.0.2.8");
      await saveByRename(hosts, "192.0.2.17  printer.lan\n");
      await waitForAnswer(port, "printer.lan", "192.0.2.17");
      assert.equal(await lookup(port, "scanner.lan"), "REFUSED", "a removed name is gone");
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Edits held back: a slow write, and a zone changed without a new serial (default settle time)

/** Asks for each name and fails on NXDOMAIN (or no reply): an answer from half a file. */
async function neverMissing(port: number, names: readonly string[], forMs: number): Promise<void> {
  const until = Date.now() + forMs;
  do {
    for (const name of names) {
      const got = await lookup(port, name);
      assert.ok(/^192\.0\.2\.\d+$/.test(got), `${name} gave "${got}" while the zone was being written`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_EVERY_MS));
  } while (Date.now() < until);
}

test({
  ...needsFiles("dnsd never serves a zone file written slowly in pieces half-way, then serves all of it"),
  timeoutMs: 30_000,
}, async () => {
  await withFiles(async ({ zone, hosts, text }) => {
    await withDnsd(zone, hosts, async ({ port }) => {
      const names = ["after.example.org", "host.inc.example.org", "www.example.org"];
      const edited = withAfter(text, "192.0.2.89"); // a new serial, in the first piece
      const lines = edited.split("\n");
      // Five pieces (the first ends after the SOA), 500 ms apart, as an editor or a copy over a
      // slow link writes: each gap is longer than the 200 ms dnsd used to wait, and each prefix
      // parses, so only the settle time keeps the unwritten names from becoming NXDOMAIN.
      const cuts = [12, 24, 36, 46, lines.length];
      const file = await Deno.open(zone, { write: true, truncate: true });
      try {
        let from = 0;
        for (const cut of cuts) {
          let piece = new TextEncoder().encode(
            lines.slice(from, cut).join("\n") + (cut < lines.length ? "\n" : ""),
          );
          while (piece.length > 0) piece = piece.subarray(await file.write(piece));
          from = cut;
          await neverMissing(port, names, 500);
        }
      } finally {
        file.close();
      }
      await waitForAnswer(port, "after.example.org", "192.0.2.89", DEFAULT_SETTLE_MS + RELOAD_WITHIN_MS);
      assert.equal(await lookup(port, "host.inc.example.org"), "192.0.2.201");
    }, []);
  });
});

test({
  ...needsFiles(
    "dnsd's file watcher keeps a zone changed without a new serial, says why once, and SIGHUP loads it",
  ),
  timeoutMs: 30_000,
}, async () => {
  await withFiles(async ({ zone, hosts, text }) => {
    await withDnsd(zone, hosts, async ({ port, stderr, child }) => {
      const from = stderr.seen.length;
      await saveByRename(zone, withAfter(text, "192.0.2.89", SERIAL));
      const soaLine = text.split("\n").findIndex((line) => /\bSOA\b/.test(line)) + 1;
      const warning = await stderr.waitFor(/ - WARNING - /, DEFAULT_SETTLE_MS + RELOAD_WITHIN_MS, from);
      assert.equal(
        warning.replace(/^.* - WARNING - /, ""),
        `${zone}:${soaLine}: zone example.org. changed but its serial ${SERIAL} did not: not loaded ` +
          "(send SIGHUP to load it anyway)",
      );
      for (let i = 0; i < 3; i++) {
        assert.equal(await lookup(port, "after.example.org"), "192.0.2.88", "the old zone stays");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      child.kill("SIGHUP");
      await waitForAnswer(port, "after.example.org", "192.0.2.89");
      assert.equal(stderr.seen.slice(from).filter((line) => line.includes(" - WARNING - ")).length, 1);
    }, []);
  });
});

// ---------------------------------------------------------------------------------------------
// A broken file at startup

test(
  needsFiles("dnsd exits 1 with file:line:column when the zone file is broken at startup"),
  async () => {
    await withFiles(async ({ zone, hosts, text }) => {
      const lines = text.split("\n");
      const badLine = "broken      BOGUS 1";
      lines.splice(12, 0, badLine);
      await Deno.writeTextFile(zone, lines.join("\n"));
      const { code, stdout, stderr } = await runDnsd(dnsdArgs(zone, hosts)(freeUdpPort()), PERMISSIONS);
      assert.equal(code, 1, stderr);
      assert.equal(stdout, "");
      const last = stderr.trimEnd().split("\n").at(-1)!;
      assert.equal(last.startsWith(`dnsd: ${zone}:13:${badLine.indexOf("BOGUS") + 1}: `), true, stderr);
      assert.match(last, /BOGUS/);
      assert.ok(!stderr.includes("running on"), stderr);
    });
  },
);

// ---------------------------------------------------------------------------------------------
// mappings.ts, when running from source

/** Copies what `deno run main.ts` needs (not the tests) into a fresh folder. */
async function copySource(into: string): Promise<void> {
  const copy = async (from: URL, to: string): Promise<void> => {
    for await (const entry of Deno.readDir(from)) {
      if (entry.isDirectory) {
        await Deno.mkdir(`${to}/${entry.name}`);
        await copy(new URL(`${entry.name}/`, from), `${to}/${entry.name}`);
      } else if (entry.isFile) {
        await Deno.copyFile(new URL(entry.name, from), `${to}/${entry.name}`);
      }
    }
  };
  for (const file of ["main.ts", "mappings.ts", "deno.json", "deno.lock"]) {
    await Deno.copyFile(new URL(file, ROOT), `${into}/${file}`);
  }
  await Deno.mkdir(`${into}/lib`);
  await copy(new URL("lib/", ROOT), `${into}/lib`);
}

test(
  needsFiles("dnsd reloads an edited mappings.ts when run from source, and keeps it through a broken edit"),
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "dnsd_mappings_" });
    try {
      await copySource(dir);
      const mappings = `${dir}/mappings.ts`;
      const text = await Deno.readTextFile(mappings);
      const withExample = (address: string) => {
        const edited = text.replace(`"example.com": "8.8.8.8"`, `"example.com": "${address}"`);
        assert.notEqual(edited, text, "mappings.ts maps example.com to 8.8.8.8");
        return edited;
      };
      const upstream = freeUdpPort();
      const args = (port: number) => [
        ...["--port", String(port), "--upstream", `127.0.0.1:${upstream}`, "--log-level", "info"],
        ...FAST_SETTLE,
      ];
      const dnsd = await startDnsd(args, PERMISSIONS, dir);
      try {
        assert.equal(await lookup(dnsd.port, "example.com"), "8.8.8.8");
        await saveByRename(mappings, withExample("192.0.2.99"));
        await waitForAnswer(dnsd.port, "example.com", "192.0.2.99");

        const from = dnsd.stderr.seen.length;
        await saveByRename(mappings, withExample("999.1.1.1"));
        const error = await dnsd.stderr.waitFor(new RegExp(`^${STAMP} - ERROR - `), RELOAD_WITHIN_MS, from);
        assert.match(
          error,
          /Cannot load mapping "example\.com": "999\.1\.1\.1" is not an IPv4 or IPv6 address/,
        );
        assert.equal(await lookup(dnsd.port, "example.com"), "192.0.2.99", "the previous mappings stay");

        await saveByRename(mappings, withExample("192.0.2.98"));
        await waitForAnswer(dnsd.port, "example.com", "192.0.2.98");
      } finally {
        await dnsd.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

test({
  ...needsFiles(
    "dnsd imports an unchanged mappings.ts only once however often it reloads, and an edited one once",
  ),
  timeoutMs: 40_000,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "dnsd_mappings_" });
  try {
    await copySource(dir);
    const mappings = `${dir}/mappings.ts`;
    // A copy that says when it is evaluated: each import under a new URL evaluates it again.
    const text = `${await Deno.readTextFile(mappings)}\nconsole.error("mappings.ts evaluated");\n`;
    await Deno.writeTextFile(mappings, text);
    const upstream = freeUdpPort();
    const args = (port: number) => [
      ...["--port", String(port), "--upstream", `127.0.0.1:${upstream}`, "--log-level", "info"],
    ];
    const dnsd = await startDnsd(args, PERMISSIONS, dir);
    const evaluated = () => dnsd.stderr.seen.filter((line) => line === "mappings.ts evaluated").length;
    try {
      assert.equal(evaluated(), 1, "the static import");
      for (let i = 1; i <= 5; i++) {
        const from = dnsd.stderr.seen.length;
        dnsd.child.kill("SIGHUP");
        await dnsd.stderr.waitFor(/ - INFO - Local data reloaded/, RELOAD_WITHIN_MS, from);
      }
      assert.equal(evaluated(), 1, "SIGHUP imported an unchanged mappings.ts again");

      await saveByRename(mappings, text.replace(`"example.com": "8.8.8.8"`, `"example.com": "192.0.2.99"`));
      await waitForAnswer(dnsd.port, "example.com", "192.0.2.99", DEFAULT_SETTLE_MS + RELOAD_WITHIN_MS);
      const from = dnsd.stderr.seen.length;
      dnsd.child.kill("SIGHUP");
      await dnsd.stderr.waitFor(/ - INFO - Local data reloaded/, RELOAD_WITHIN_MS, from);
      assert.equal(evaluated(), 2, "the edit is imported once");
    } finally {
      await dnsd.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
