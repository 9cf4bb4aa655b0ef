/**
 * A reload does not change the rate limit or the cookie settings of a running server: the limiter
 * and the cookie secrets are made at start-up, so keepRestartSettings() puts the running values back
 * (and logs that they need a restart). Table-driven over command lines.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual } from "node:assert/strict";
import { keepRestartSettings, parseCommand, type ServeCommand } from "../../lib/config/mod.ts";

function serve(args: readonly string[]): ServeCommand {
  return parseCommand(args) as ServeCommand;
}

const CASES: readonly { name: string; next: readonly string[] }[] = [
  { name: "--rate-limit", next: ["--rate-limit", "50"] },
  { name: "--rate-limit-prefix", next: ["--rate-limit", "10", "--rate-limit-prefix", "32"] },
  { name: "--rate-limit-slip", next: ["--rate-limit", "10", "--rate-limit-slip", "0"] },
  {
    name: "--cookie-secret",
    next: ["--rate-limit", "10", "--cookie-secret", "00112233445566778899aabbccddeeff"],
  },
  { name: "--require-cookies", next: ["--rate-limit", "10", "--require-cookies"] },
];

for (const { name, next } of CASES) {
  test(`a reload keeps the running ${name}`, () => {
    const running = serve(["--rate-limit", "10"]);
    const kept = keepRestartSettings(running, serve(next));
    deepEqual(kept.rateLimit, running.rateLimit);
    deepEqual(kept.cookies, running.cookies);
  });
}
