/**
 * Running `main.ts` as a subprocess: to completion, or on a free port until stopped, with stderr
 * read line by line as it arrives and a stop that never leaves a process. Talk to it with
 * `_udp_client.ts`.
 * @module
 */
import { type Finished, runCommand } from "./_tools.ts";
import { freeUdpPort } from "./_udp_client.ts";

/** The repository root, where `main.ts` lives. */
export const ROOT: URL = new URL("../", import.meta.url);

/** Bounds every wait on a subprocess; generous, since a cold `deno run` may compile first. */
export const PROCESS_TIMEOUT_MS = 20_000;

/** The permissions `main.ts` runs with unless a test asks for others: as `deno task start` (so UDP in batches). */
export const DNSD_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-read",
  "--allow-env",
  "--allow-ffi",
];

/** A log line's timestamp, as a regular expression source. */
export const STAMP = String.raw`\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}`;

/** The line dnsd logs once it serves on 127.0.0.1:`port`. */
export function runningLine(port: number): RegExp {
  return new RegExp(String.raw`^${STAMP} - INFO - DNS server is running on 127\.0\.0\.1:${port}$`);
}

/** Settles like `promise`, or rejects with `message` after `ms` (the timer never outlives it). */
export async function within<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message()} (after ${ms} ms)`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `main.ts` to completion with `args`, killing it if it runs too long. */
export function runDnsd(
  args: readonly string[],
  permissions: readonly string[] = DNSD_PERMISSIONS,
): Promise<Finished> {
  return runCommand(Deno.execPath(), ["run", ...permissions, "main.ts", ...args], {
    cwd: ROOT,
    ms: PROCESS_TIMEOUT_MS,
  });
}

/** Reads a text stream line by line, as it arrives, keeping every line seen. */
export class Lines {
  /** Every complete line read so far (and the last partial one once the stream ends). */
  readonly seen: string[] = [];
  #reader: ReadableStreamDefaultReader<string>;
  #partial = "";
  #done = false;

  /** Starts reading nothing yet: lines are read as a wait needs them. */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Reads until a line matches `pattern` (checking lines already seen from `from` on). */
  async waitFor(pattern: RegExp, ms: number, from = 0): Promise<string> {
    const deadline = Date.now() + ms;
    let checked = from;
    while (true) {
      for (; checked < this.seen.length; checked++) {
        if (pattern.test(this.seen[checked]!)) return this.seen[checked]!;
      }
      if (this.#done) throw new Error(`stderr ended without ${pattern}; got:\n${this.seen.join("\n")}`);
      await within(
        this.#readMore(),
        deadline - Date.now(),
        () => `no ${pattern} on stderr; got:\n${this.seen.join("\n")}`,
      );
    }
  }

  /** Reads to the end of the stream. */
  async drain(ms: number): Promise<string[]> {
    await within(
      (async () => {
        while (!this.#done) await this.#readMore();
      })(),
      ms,
      () => `stderr did not end; got:\n${this.seen.join("\n")}`,
    );
    return this.seen;
  }

  /** Stops reading; a read still pending ends. */
  async cancel(): Promise<void> {
    if (!this.#done) await this.#reader.cancel().catch(() => {});
    this.#done = true;
  }

  async #readMore(): Promise<void> {
    const { value, done } = await this.#reader.read();
    if (done) {
      this.#done = true;
      if (this.#partial) this.seen.push(this.#partial);
      this.#partial = "";
      return;
    }
    const parts = (this.#partial + value).split("\n");
    this.#partial = parts.pop()!;
    this.seen.push(...parts);
  }
}

/** A `main.ts` subprocess. */
export interface DnsdProcess {
  readonly child: Deno.ChildProcess;
  /** Its stderr, read as needed. */
  readonly stderr: Lines;
  /** Whether it has exited. */
  exited(): boolean;
  /** SIGKILLs it unless it has exited, waits for it (bounded) and stops reading stderr. */
  stop(): Promise<void>;
}

/** Spawns `main.ts` with `args`, stdout ignored and stderr piped; `cwd` holds the `main.ts` to run. */
export function spawnDnsd(
  args: readonly string[],
  permissions: readonly string[] = DNSD_PERMISSIONS,
  cwd: URL | string = ROOT,
): DnsdProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, "main.ts", ...args],
    cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    // dnsd never phones home: no update check by the deno that runs it.
    env: { DENO_NO_UPDATE_CHECK: "1" },
  }).spawn();
  const stderr = new Lines(child.stderr);
  let exited = false;
  const status = child.status.finally(() => (exited = true));
  return {
    child,
    stderr,
    exited: () => exited,
    async stop() {
      try {
        if (!exited) child.kill("SIGKILL");
      } catch {
        // it exited meanwhile
      }
      try {
        await within(status, PROCESS_TIMEOUT_MS, () => `dnsd (pid ${child.pid}) survived SIGKILL`);
      } finally {
        await stderr.cancel();
      }
    },
  };
}

/** A `main.ts` that logged that it is running, and the port it serves on. */
export interface RunningDnsd extends DnsdProcess {
  readonly port: number;
}

/**
 * Starts `main.ts` on a free port (`args(port)` builds the command line) and waits for its
 * "running" line. A port taken between picking and binding is retried with another, twice.
 */
export async function startDnsd(
  args: (port: number) => readonly string[],
  permissions: readonly string[] = DNSD_PERMISSIONS,
  cwd: URL | string = ROOT,
): Promise<RunningDnsd> {
  let last = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = freeUdpPort();
    const dnsd = spawnDnsd(args(port), permissions, cwd);
    try {
      await dnsd.stderr.waitFor(runningLine(port), PROCESS_TIMEOUT_MS);
      return { ...dnsd, port };
    } catch (error) {
      await dnsd.stop();
      last = error instanceof Error ? error.message : String(error);
      if (!dnsd.stderr.seen.some((line) => line.includes("address already in use"))) break;
    }
  }
  throw new Error(`Cannot start dnsd: ${last}`);
}
