/**
 * IdTable, the upstream socket's queries by ID, against a Map: the inline first entry and the Map
 * beside it for a shared socket, through sets, replacements, deletions and clears. fast-check from
 * a fixed seed.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import fc from "fast-check";
import { IdTable } from "../../lib/upstream/id_table.ts";

test("IdTable holds message IDs as a Map does, one entry or many", () => {
  const operation = fc.tuple(
    fc.constantFrom("set", "delete", "get", "clear"),
    fc.integer({ min: 0, max: 6 }),
  );
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 300, size: "max" }), (operations) => {
      const table = new IdTable<string>();
      const model = new Map<number, string>();
      operations.forEach(([what, small], step) => {
        const id = small * 10_000; // 0 and 60,000 included: the whole 16-bit range's ends
        if (what === "set") {
          table.set(id, `v${step}`);
          model.set(id, `v${step}`);
        } else if (what === "delete") {
          equal(table.delete(id), model.delete(id));
        } else if (what === "clear") {
          table.clear();
          model.clear();
        }
        equal(table.get(id), model.get(id));
        equal(table.has(id), model.has(id));
        equal(table.size, model.size);
      });
      deepEqual(table.values().sort(), [...model.values()].sort());
    }),
    { seed: 29, numRuns: 300 },
  );
});
