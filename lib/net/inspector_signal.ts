/**
 * SIGUSR1 without Deno's debugger. Deno 2.9.2 and later start the V8 inspector on 127.0.0.1:9229
 * when the process gets SIGUSR1 (denoland/deno#35738), even when the program listens for that
 * signal: any local user could then connect and run code as dnsd. No flag or environment variable
 * turns it off. Deno's signal code installs one C handler per signal, the first time anything
 * registers for it (a `Deno.addSignalListener`, or the inspector's own registration 500 ms after
 * start-up), and never installs it again. So dnsd registers a listener first, which makes Deno
 * install its handler now, then replaces that handler with sigaction(2) through FFI.
 *
 * The replacement cannot be JavaScript (a signal handler runs at any instruction, on any thread).
 * It is 23 bytes of machine code that do `kill(getpid(), SIGALRM)` with raw system calls, which
 * are async-signal-safe and leave errno alone: SIGUSR1 becomes a SIGALRM, which Deno delivers to a
 * `Deno.addSignalListener("SIGALRM")` as usual. Where that code is not written (a CPU other than
 * x86-64), SIGUSR1 is ignored instead: no debugger, and no statistics on SIGUSR1.
 * @module
 */

const SIGUSR1 = 10;
const SIGALRM = 14;
const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;
const MAP_PRIVATE = 0x02;
const MAP_ANONYMOUS = 0x20;
const SA_RESTART = 0x10000000;
const PAGE = 4096;
/** glibc's struct sigaction on 64-bit Linux: handler, 128-byte mask, int flags, restorer. */
const SIGACTION_SIZE = 152;
const SA_FLAGS_AT = 136;
const SIG_IGN = 1n;

/**
 * x86-64: getpid() (39), then kill(pid, SIGALRM) (62); syscall clobbers only rax, rcx and r11,
 * and the handler is an ordinary function to the kernel, so the C ABI lets it clobber rdi and rsi.
 */
const RELAY_X86_64 = new Uint8Array([
  0xb8,
  39,
  0,
  0,
  0, // mov eax, 39 (getpid)
  0x0f,
  0x05, // syscall
  0x89,
  0xc7, // mov edi, eax
  0xbe,
  SIGALRM,
  0,
  0,
  0, // mov esi, SIGALRM
  0xb8,
  62,
  0,
  0,
  0, // mov eax, 62 (kill)
  0x0f,
  0x05, // syscall
  0xc3, // ret
]);

const SYMBOLS = {
  sigaction: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  mprotect: { parameters: ["pointer", "usize", "i32"], result: "i32" },
} as const;

/**
 * What became of SIGUSR1: `relayed` (it raises SIGALRM, no debugger), `ignored` (no debugger, no
 * relay), or `unavailable` (no FFI permission, or not Linux with glibc on a 64-bit CPU: Deno's
 * debugger still starts on SIGUSR1).
 */
export type InspectorSignal = "relayed" | "ignored" | "unavailable";

/**
 * The relay's code, in a page that is executable and no longer writable; null where it failed.
 * The page is never unmapped: the kernel may call the handler at any time.
 */
function relayCode(libc: Deno.DynamicLibrary<typeof SYMBOLS>): Deno.PointerValue {
  if (Deno.build.arch !== "x86_64") return null;
  const page = libc.symbols.mmap(
    null,
    BigInt(PAGE),
    PROT_READ | PROT_WRITE,
    MAP_PRIVATE | MAP_ANONYMOUS,
    -1,
    0n,
  );
  // MAP_FAILED is (void *) -1.
  if (!page || Deno.UnsafePointer.value(page) === 0xffff_ffff_ffff_ffffn) return null;
  new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(page, RELAY_X86_64.length)).set(RELAY_X86_64);
  return libc.symbols.mprotect(page, BigInt(PAGE), PROT_READ | PROT_EXEC) === 0 ? page : null;
}

/** Sets SIGUSR1's handler to `handler` (an address, or SIG_IGN); whether the kernel took it. */
function setHandler(libc: Deno.DynamicLibrary<typeof SYMBOLS>, handler: bigint): boolean {
  const action = new Uint8Array(SIGACTION_SIZE);
  const view = new DataView(action.buffer);
  view.setBigUint64(0, handler, true);
  // SA_RESTART: a system call the signal interrupts on another thread goes on, as under Deno's handler.
  view.setInt32(SA_FLAGS_AT, SA_RESTART, true);
  if (libc.symbols.sigaction(SIGUSR1, action, null) !== 0) return false;
  const now = new Uint8Array(SIGACTION_SIZE);
  libc.symbols.sigaction(SIGUSR1, null, now);
  return new DataView(now.buffer).getBigUint64(0, true) === handler;
}

/** The handler the kernel runs for SIGUSR1 now: 0 (default), 1 (ignored) or an address; null without FFI. */
export function inspectorSignalHandler(): bigint | null {
  if (!ffiUsable()) return null;
  const libc = Deno.dlopen("libc.so.6", SYMBOLS);
  try {
    const now = new Uint8Array(SIGACTION_SIZE);
    libc.symbols.sigaction(SIGUSR1, null, now);
    return new DataView(now.buffer).getBigUint64(0, true);
  } finally {
    libc.close();
  }
}

function ffiUsable(): boolean {
  if (Deno.build.os !== "linux" || (Deno.build.arch !== "x86_64" && Deno.build.arch !== "aarch64")) {
    return false;
  }
  return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
}

/**
 * Makes SIGUSR1 safe: Deno's debugger never starts on it, and (on x86-64) it raises SIGALRM
 * instead, for a `Deno.addSignalListener("SIGALRM")` the caller adds. Call it once, early; it
 * adds a SIGUSR1 listener that does nothing, so that Deno installs its handler before this one
 * replaces it (see the module's comment).
 */
export function disarmInspectorSignal(): InspectorSignal {
  if (!ffiUsable()) return "unavailable";
  let libc: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    libc = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch {
    return "unavailable"; // not glibc
  }
  try {
    Deno.addSignalListener("SIGUSR1", () => {});
    const code = relayCode(libc);
    if (code && setHandler(libc, Deno.UnsafePointer.value(code))) return "relayed";
    return setHandler(libc, SIG_IGN) ? "ignored" : "unavailable";
  } finally {
    // The symbols are not needed once the kernel has the handler; the code page stays mapped.
    libc.close();
  }
}
