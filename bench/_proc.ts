/**
 * Processes for the load benchmark: every child is started through `taskset` on one CPU,
 * recorded, and stopped by its PID (SIGTERM, then SIGKILL). Also the loopback probes that tell
 * when a server answers, and the CPU time a process has used, from /proc.
 * @module
 */

const STOP_TIMEOUT_MS = 5_000;
const TAIL_BYTES = 4_096;

/** A child process started by a {@link Launcher}. */
export interface Child {
  readonly name: string;
  readonly pid: number;
  /** Whether it has exited. */
  exited(): boolean;
  /** Resolves with its exit code once it exits. */
  readonly status: Promise<number>;
  /** The last few KiB it wrote to stderr (and to stdout, unless that is collected). */
  tail(): string;
  /** Everything it wrote to stdout, once it has exited (only with `collect: true`). */
  readonly output: Promise<string>;
  /** SIGTERM, then SIGKILL if it lingers; resolves once it has exited. */
  stop(): Promise<void>;
}

/** How to start a child. */
export interface SpawnOptions {
  /** The CPU it is pinned to (`taskset -c`), or a CPU list such as `0-1` for a process not pinned to one. */
  readonly cpu: number | string;
  /** Collect stdout in full (for dnsperf) instead of keeping its tail. */
  readonly collect?: boolean;
  readonly cwd?: string;
}

/** Starts children and stops every one still running, by PID. */
export interface Launcher {
  spawn(name: string, command: readonly string[], options: SpawnOptions): Child;
  /** Stops every child still running, and refuses to start any more; safe to call more than once. */
  stopAll(): Promise<void>;
}

async function drain(stream: ReadableStream<Uint8Array>, keep: (text: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) keep(decoder.decode(chunk, { stream: true }));
}

/** A launcher that records every child it starts, so that `stopAll()` can stop them by PID. */
export function launcher(): Launcher {
  const running = new Set<Child>();
  let closed = false;
  return {
    spawn(name, command, { cpu, collect = false, cwd }) {
      if (closed) throw new Error(`Cannot start ${name}: stopping`);
      const proc = new Deno.Command("taskset", {
        args: ["-c", String(cpu), ...command],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        ...(cwd === undefined ? {} : { cwd }),
      }).spawn();
      let tail = "";
      let done = false;
      const keep = (text: string) => (tail = (tail + text).slice(-TAIL_BYTES));
      let collected = "";
      const stdout = drain(proc.stdout, collect ? (text) => (collected += text) : keep);
      const stderr = drain(proc.stderr, keep);
      const status = proc.status.then(async ({ code }) => {
        done = true;
        await Promise.allSettled([stdout, stderr]);
        return code;
      });
      const child: Child = {
        name,
        pid: proc.pid,
        exited: () => done,
        status,
        tail: () => tail,
        output: status.then(() => collected),
        async stop() {
          if (!done) {
            proc.kill("SIGTERM");
            const late = await Promise.race([status, delay(STOP_TIMEOUT_MS).then(() => "late" as const)]);
            if (late === "late" && !done) proc.kill("SIGKILL");
            await status;
          }
          running.delete(child);
        },
      };
      running.add(child);
      status.then(() => running.delete(child));
      return child;
    },
    async stopAll() {
      closed = true;
      await Promise.allSettled([...running].map((child) => child.stop()));
    },
  };
}

/** Resolves after `ms`; the timer does not keep the process alive. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => Deno.unrefTimer(setTimeout(resolve, ms)));
}

/** The CPU time (user + system, every thread) `pid` has used, in clock ticks (/proc/PID/stat). */
export function cpuTicks(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces; the fields after it are plain numbers.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime and stime: fields 14 and 15
}

/** A port free for UDP a moment ago on 127.0.0.1. */
export function freePort(): number {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const { port } = conn.addr as Deno.NetAddr;
  conn.close();
  return port;
}

/** The wire form of an A query for `name` with RD=1 and no EDNS. */
export function queryA(name: string, id: number): Uint8Array {
  const labels = name.replace(/\.$/, "").split(".").map((label) => new TextEncoder().encode(label));
  const bytes = new Uint8Array(12 + labels.reduce((sum, l) => sum + 1 + l.length, 0) + 5);
  bytes.set([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  let at = 12;
  for (const label of labels) {
    bytes[at++] = label.length;
    bytes.set(label, at);
    at += label.length;
  }
  bytes.set([0, 0, 1, 0, 1], at);
  return bytes;
}

/** The reply 127.0.0.1:`port` gives to an A query for `name` within `ms`, or null. */
export async function replyToA(port: number, name: string, ms: number): Promise<Uint8Array | null> {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const id = Math.floor(Math.random() * 0x10000);
  const timer = setTimeout(() => conn.close(), ms);
  try {
    await conn.send(queryA(name, id), { transport: "udp", hostname: "127.0.0.1", port });
    while (true) {
      const [reply] = await conn.receive();
      if (reply.length >= 12 && reply[0] === id >> 8 && reply[1] === (id & 0xff)) return reply;
    }
  } catch {
    return null; // closed by the timer, or the port is not open yet
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // already closed by the timer
    }
  }
}

/** Whether 127.0.0.1:`port` answers an A query for `name` with NOERROR and an answer within `ms`. */
export async function answers(port: number, name: string, ms = 300): Promise<boolean> {
  const reply = await replyToA(port, name, ms);
  return reply !== null && (reply[3]! & 0x0f) === 0 && ((reply[6]! << 8) | reply[7]!) > 0;
}

/** Waits until `child` answers `name` on `port`; throws with its output if it exits or is late. */
export async function waitUntilAnswers(child: Child, port: number, name: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!child.exited() && Date.now() < deadline) {
    if (await answers(port, name)) return;
    await delay(50);
  }
  const why = child.exited() ? `exited (${await child.status})` : `did not answer ${name} within ${ms} ms`;
  throw new Error(`${child.name} on 127.0.0.1:${port} ${why}:\n${child.tail()}`);
}
