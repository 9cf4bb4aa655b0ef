/**
 * Which TCP connection eviction closes when every slot is taken: the most harmful, never a quiet
 * client merely because it is the oldest.
 * @module
 */
import { test } from "../_limit.ts";
import { equal } from "node:assert/strict";
import { type EvictionView, mostHarmful } from "../../lib/server/tcp_eviction.ts";

interface Named extends EvictionView {
  readonly name: string;
}

const NOW = 100_000;
const STUCK_MS = 200;

/** A connection with nothing in progress, last active at `lastActive`. */
function quiet(name: string, lastActive: number): Named {
  return { name, writingSince: null, queuedBytes: 0, inProgress: 0, lastActive };
}

/** A connection whose answer has been waiting to be written since `since`, with `queued` octets. */
function writing(name: string, since: number, queued: number): Named {
  return { name, writingSince: since, queuedBytes: queued, inProgress: 32, lastActive: NOW };
}

/** A connection waiting on an upstream, nothing queued. */
function resolving(name: string, lastActive: number): Named {
  return { name, writingSince: null, queuedBytes: 0, inProgress: 1, lastActive };
}

const cases: readonly { name: string; connections: readonly Named[]; evicted: string | undefined }[] = [
  {
    name: "a client stuck writing, not the oldest quiet one",
    connections: [quiet("old quiet", 0), writing("stuck", NOW - 1_000, 3_000), quiet("new quiet", NOW - 10)],
    evicted: "stuck",
  },
  {
    name: "the longest stuck of several",
    connections: [
      writing("a", NOW - 500, 90_000),
      writing("b", NOW - 4_000, 3_000),
      writing("c", NOW - 900, 1),
    ],
    evicted: "b",
  },
  {
    name: "the most octets queued between two stuck as long",
    connections: [writing("few", NOW - 700, 3_000), writing("many", NOW - 700, 200_000)],
    evicted: "many",
  },
  {
    name: "the longest idle when none is stuck",
    connections: [quiet("newer", NOW - 10), quiet("older", NOW - 9_000), resolving("busy", 0)],
    evicted: "older",
  },
  {
    name: "not a client whose answer is being written right now",
    connections: [writing("served", NOW - STUCK_MS / 2, 60_000), quiet("idle", NOW - 5)],
    evicted: "idle",
  },
  {
    name: "none when every client is being served",
    connections: [resolving("a", 0), resolving("b", 1), writing("c", NOW - 1, 100)],
    evicted: undefined,
  },
];

for (const { name, connections, evicted } of cases) {
  test(`mostHarmful() picks ${name}`, () => {
    equal(mostHarmful(connections, { now: NOW, stuckMs: STUCK_MS })?.name, evicted);
  });
}
