import { deepEqual, rejects } from "node:assert/strict";
import { Refused } from "../../lib/proto/mod.ts";
import {
  accessCheck,
  accessControl,
  DEFAULT_RECURSION_PREFIXES,
  recursionCheck,
  recursionGate,
} from "../../lib/policy/mod.ts";
import { test } from "../_limit.ts";

const from = (hostname: string) => ({ client: { hostname } });
const wire = new Uint8Array(12);

const cases = [
  { name: "no rules: no hook", allow: [], deny: [], verdicts: null },
  {
    name: "a deny wins over a more specific allow",
    allow: ["127.0.0.2/32", "::1"],
    deny: ["127.0.0.0/8"],
    verdicts: { "127.0.0.2": "refuse", "::1": "answer", "10.0.0.1": "refuse" },
  },
  {
    name: "with no allow, every address not denied is allowed",
    allow: [],
    deny: ["127.0.0.3", "2001:db8::/32"],
    verdicts: { "127.0.0.3": "refuse", "127.0.0.2": "answer", "2001:db8::5": "refuse", "::1": "answer" },
  },
  {
    name: "with an allow, an address in none is refused",
    allow: ["192.168.0.0/16"],
    deny: [],
    verdicts: { "192.168.3.4": "answer", "127.0.0.1": "refuse", "::ffff:192.168.0.1": "answer" },
  },
] as const;

for (const { name, allow, deny, verdicts } of cases) {
  test(`accessControl(): ${name}`, () => {
    const allowed = accessCheck({ allow, deny });
    if (verdicts === null) return deepEqual(allowed, null);
    const hook = accessControl(allowed!);
    for (const [address, verdict] of Object.entries(verdicts)) {
      deepEqual(hook(wire, from(address)), verdict, address);
    }
  });
}

test("recursionCheck() allows the private networks by default and no one with --no-recursion", () => {
  const may = recursionCheck({ disabled: false, allow: DEFAULT_RECURSION_PREFIXES });
  for (const address of ["127.0.0.1", "::1", "10.2.3.4", "172.31.0.1", "192.168.1.1", "fd00::1"]) {
    deepEqual(may({ hostname: address }), true, address);
  }
  for (const address of ["8.8.8.8", "172.32.0.1", "2001:db8::1", "::2"]) {
    deepEqual(may({ hostname: address }), false, address);
  }
  const none = recursionCheck({ disabled: true, allow: DEFAULT_RECURSION_PREFIXES });
  deepEqual(none({ hostname: "127.0.0.1" }), false);
});

test("recursionGate() passes allowed clients on and refuses the others", async () => {
  const gate = recursionGate<{ client: { hostname: string } }, string>((client) =>
    client.hostname === "127.0.0.1"
  );
  deepEqual(await gate(from("127.0.0.1"), () => Promise.resolve("next")), "next");
  await rejects(() => gate(from("127.0.0.2"), () => Promise.resolve("next")), Refused);
});
