/**
 * The forward-zone router (lib/upstream/forward_zones.ts), pure: the longest matching domain wins,
 * reverse zones route like any other, case and the root dot do not matter, a label that merely
 * ends the same does not match, and the routed stage sends each request to its zone's forwarder.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { forwardRouter, routedForward } from "../../lib/upstream/forward_zones.ts";
import type { Upstream } from "../../lib/upstream/udp_exchange.ts";
import type { Stage } from "../../lib/resolve/request.ts";
import { query, reply } from "../../lib/proto/message.ts";
import { requestOf } from "../_request.ts";

const DEFAULT: Upstream = { hostname: "192.0.2.53", port: 53 };
const ROUTER_LAN: Upstream = { hostname: "192.168.1.1", port: 53 };
const OFFICE: Upstream = { hostname: "10.0.0.53", port: 5353 };
const OFFICE_2: Upstream = { hostname: "fd00::53", port: 53 };
const REVERSE: Upstream = { hostname: "192.168.1.2", port: 53 };

const router = forwardRouter([DEFAULT], [
  { domain: "lan", upstreams: [ROUTER_LAN] },
  { domain: "office.lan.", upstreams: [OFFICE, OFFICE_2] },
  { domain: "168.192.IN-ADDR.ARPA", upstreams: [REVERSE] },
  { domain: "corp.example", upstreams: [OFFICE] },
]);

const cases: readonly { name: string; domain: string; index: number; upstreams: readonly Upstream[] }[] = [
  { name: "nas.lan", domain: "lan", index: 0, upstreams: [ROUTER_LAN] },
  { name: "lan", domain: "lan", index: 0, upstreams: [ROUTER_LAN] },
  { name: "NAS.LAN.", domain: "lan", index: 0, upstreams: [ROUTER_LAN] },
  { name: "printer.office.lan", domain: "office.lan", index: 1, upstreams: [OFFICE, OFFICE_2] },
  { name: "office.lan", domain: "office.lan", index: 1, upstreams: [OFFICE, OFFICE_2] },
  { name: "xoffice.lan", domain: "lan", index: 0, upstreams: [ROUTER_LAN] },
  { name: "10.1.168.192.in-addr.arpa", domain: "168.192.in-addr.arpa", index: 2, upstreams: [REVERSE] },
  { name: "1.1.169.192.in-addr.arpa", domain: "", index: -1, upstreams: [DEFAULT] },
  { name: "www.corp.example", domain: "corp.example", index: 3, upstreams: [OFFICE] },
  { name: "www.notcorp.example", domain: "", index: -1, upstreams: [DEFAULT] },
  { name: "example.com", domain: "", index: -1, upstreams: [DEFAULT] },
  { name: "planet", domain: "", index: -1, upstreams: [DEFAULT] },
  { name: "a\\.lan", domain: "", index: -1, upstreams: [DEFAULT] }, // one label "a.lan"
  { name: "", domain: "", index: -1, upstreams: [DEFAULT] },
];

for (const { name, domain, index, upstreams } of cases) {
  test(`forwardRouter: "${name}" goes to ${domain || "the default upstreams"}`, () => {
    deepEqual(router.route(name), { domain, index, upstreams });
  });
}

test("forwardRouter: with no forward zones every name goes to the defaults", () => {
  const plain = forwardRouter([DEFAULT], []);
  deepEqual(plain.route("nas.lan"), { domain: "", index: -1, upstreams: [DEFAULT] });
  deepEqual(plain.domains, []);
});

test("forwardRouter: the domains are keys, in the order given", () => {
  deepEqual(router.domains, ["lan", "office.lan", "168.192.in-addr.arpa", "corp.example"]);
});

test("routedForward: each request reaches its forward zone's stage, the rest the default one", async () => {
  const seen: string[] = [];
  const stage = (tag: string): Stage => (request) => {
    seen.push(`${tag} ${request.message.questions[0]!.name}`);
    return Promise.resolve(reply(request.message));
  };
  const routed = routedForward(router, stage("default"), ["lan", "office", "reverse", "corp"].map(stage));
  const ask = (name: string) => routed(requestOf(query({ name })), () => Promise.reject(new Error("next")));
  for (const name of ["a.lan", "b.office.lan", "1.1.168.192.in-addr.arpa", "example.org", "x.corp.example"]) {
    await ask(name);
  }
  deepEqual(seen, [
    "lan a.lan",
    "office b.office.lan",
    "reverse 1.1.168.192.in-addr.arpa",
    "default example.org",
    "corp x.corp.example",
  ]);
  const only = stage("only");
  equal(
    routedForward(forwardRouter([DEFAULT], []), only, []),
    only,
    "no forward zones: the default stage itself",
  );
});
