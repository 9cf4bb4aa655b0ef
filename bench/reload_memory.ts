/**
 * dnsd's resident memory across many reloads (issue 12, defect 9): a real `deno run main.ts`
 * serving the test zone and a hosts file is sent SIGHUP, one at a time, each after the last reload
 * is logged as done, and VmRSS is read from /proc/PID/status before the first and after every
 * quarter. No file changes, so a reload that imports mappings.ts again shows as growth. Linux only;
 * bounded by `--max-seconds` (it stops early and says so). Not a test, and not run by CI.
 *
 * `deno run --allow-all bench/reload_memory.ts [--reloads 10000] [--max-seconds 900]`
 *
 * The dnsd it runs is the `main.ts` next to this folder, so an older tree's copy of this script
 * measures that tree.
 * @module
 */
import { parseArgs } from "node:util";
import { memoryOf, say } from "./_harness.ts";
import { freePort } from "./_proc.ts";

const ROOT = new URL("../", import.meta.url);
const START_TIMEOUT_MS = 30_000;
const RELOAD_TIMEOUT_MS = 10_000;

/** VmRSS of `pid` in MiB. */
function rssMiB(pid: number): number {
  return memoryOf(pid).rss / (1024 * 1024);
}

/** Counts stderr lines matching each pattern as they arrive; `until` waits for a count. */
function lineCounter(stream: ReadableStream<Uint8Array>, patterns: Record<string, RegExp>) {
  const counts: Record<string, number> = Object.fromEntries(Object.keys(patterns).map((key) => [key, 0]));
  let wake = () => {};
  let ended = false;
  void (async () => {
    let partial = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        for (const [key, pattern] of Object.entries(patterns)) if (pattern.test(line)) counts[key]!++;
      }
      wake();
    }
    ended = true;
    wake();
  })();
  return {
    counts,
    async until(key: string, count: number, ms: number): Promise<void> {
      const deadline = Date.now() + ms;
      while (counts[key]! < count) {
        if (ended) throw new Error(`dnsd exited before ${count} × ${key}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${count} × ${key} within ${ms} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      reloads: { type: "string", default: "10000" },
      "max-seconds": { type: "string", default: "900" },
    },
  });
  const reloads = Number(values.reloads);
  const deadline = Date.now() + Number(values["max-seconds"]) * 1000;
  const dir = await Deno.makeTempDir({ prefix: "dnsd_reload_memory_" });
  const hosts = `${dir}/hosts`;
  await Deno.writeTextFile(hosts, "192.0.2.7 printer.lan\n");
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...["run", "--allow-net", "--allow-read", "main.ts", "--port", String(port)],
      ...["--upstream", `127.0.0.1:${freePort()}`, "--log-level", "info"],
      ...["--zone", "tests/testdata/zones/example.org.zone", "--hosts", hosts],
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    const lines = lineCounter(child.stderr, {
      running: / - INFO - DNS server is running on /,
      reloaded: / - INFO - Local data reloaded/,
    });
    await lines.until("running", 1, START_TIMEOUT_MS);
    const samples: [number, number][] = [[0, rssMiB(child.pid)]];
    const started = performance.now();
    let done = 0;
    for (let i = 1; i <= reloads && Date.now() < deadline; i++) {
      child.kill("SIGHUP");
      await lines.until("reloaded", i, RELOAD_TIMEOUT_MS);
      done = i;
      if (i % Math.max(1, Math.floor(reloads / 4)) === 0) samples.push([i, rssMiB(child.pid)]);
    }
    if (samples.at(-1)![0] !== done) samples.push([done, rssMiB(child.pid)]);
    const seconds = (performance.now() - started) / 1000;
    say(
      `dnsd at ${new URL("main.ts", ROOT).pathname}: ${done} of ${reloads} reloads by SIGHUP in ${
        seconds.toFixed(1)
      } s`,
    );
    for (const [count, rss] of samples) {
      say(`  after ${String(count).padStart(6)} reloads: RSS ${rss.toFixed(1)} MiB`);
    }
    if (done < reloads) say(`  stopped early: --max-seconds ${values["max-seconds"]} reached`);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // it exited already
    }
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
