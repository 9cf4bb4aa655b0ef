/**
 * The opcode dispatcher through respond(): QUERY to the chain, NOTIFY, UPDATE and transfers to their
 * slots, and today's answers (NOTIMP, REFUSED) when a slot is empty. A transfer handler streams many
 * messages on one TCP connection.
 * @module
 */
import { test } from "../_limit.ts";
import { deepEqual, equal } from "node:assert/strict";
import { contextOf } from "../_request.ts";
import {
  decodeMessage,
  encodeMessage,
  type Message,
  Opcode,
  query,
  Rcode,
  reply,
  RRType,
} from "../../lib/proto/mod.ts";
import type { Request } from "../../lib/resolve/mod.ts";
import { type OpcodeHandlers, respond, startServer } from "../../lib/server/mod.ts";
import { fixedData } from "../../lib/zone/mod.ts";
import { connectTcp } from "../_tcp_client.ts";

function message(opcode: number, type: number = RRType.SOA): Uint8Array {
  return encodeMessage(query({ name: "example.org", type }, { id: 0x2a2a, opcode, recursionDesired: false }));
}

/** Handlers that answer with a distinct rcode each, so a row can tell which one ran. */
const marking: OpcodeHandlers = {
  notify: (request) => Promise.resolve(reply(request.message, { authoritative: true, rcode: Rcode.NOERROR })),
  update: (request) => Promise.resolve(reply(request.message, { rcode: Rcode.NXDOMAIN })),
  transfer: (request) => Promise.resolve(reply(request.message, { rcode: Rcode.YXDOMAIN })),
};
const chainAnswer = (request: Request) => Promise.resolve(reply(request.message, { rcode: Rcode.NOTAUTH }));

const rows: readonly {
  name: string;
  wire: Uint8Array;
  handlers?: OpcodeHandlers;
  rcode: number;
  opcode: number;
}[] = [
  {
    name: "QUERY goes to the chain",
    wire: message(Opcode.QUERY),
    handlers: marking,
    rcode: Rcode.NOTAUTH,
    opcode: 0,
  },
  {
    name: "NOTIFY goes to its slot",
    wire: message(Opcode.NOTIFY),
    handlers: marking,
    rcode: Rcode.NOERROR,
    opcode: 4,
  },
  {
    name: "UPDATE goes to its slot",
    wire: message(Opcode.UPDATE),
    handlers: marking,
    rcode: Rcode.NXDOMAIN,
    opcode: 5,
  },
  {
    name: "AXFR goes to the transfer slot",
    wire: message(Opcode.QUERY, RRType.AXFR),
    handlers: marking,
    rcode: Rcode.YXDOMAIN,
    opcode: 0,
  },
  {
    name: "IXFR goes to the transfer slot",
    wire: message(Opcode.QUERY, RRType.IXFR),
    handlers: marking,
    rcode: Rcode.YXDOMAIN,
    opcode: 0,
  },
  {
    name: "an unknown opcode gets NOTIMP with handlers",
    wire: message(6),
    handlers: marking,
    rcode: 4,
    opcode: 6,
  },
  {
    name: "NOTIFY with no handler gets NOTIMP",
    wire: message(Opcode.NOTIFY),
    rcode: Rcode.NOTIMP,
    opcode: 4,
  },
  {
    name: "UPDATE with no handler gets NOTIMP",
    wire: message(Opcode.UPDATE),
    rcode: Rcode.NOTIMP,
    opcode: 5,
  },
  {
    name: "AXFR with no handler gets REFUSED",
    wire: message(0, RRType.AXFR),
    rcode: Rcode.REFUSED,
    opcode: 0,
  },
  {
    name: "IXFR with no handler gets REFUSED",
    wire: message(0, RRType.IXFR),
    rcode: Rcode.REFUSED,
    opcode: 0,
  },
];

for (const row of rows) {
  test(`respond() dispatches by opcode: ${row.name}`, async () => {
    const reports: unknown[] = [];
    const bytes = await respond(row.wire, contextOf(), {
      resolve: chainAnswer,
      report: (error) => reports.push(error),
      ...(row.handlers ? { handlers: row.handlers } : {}),
    });
    const response = decodeMessage(bytes!);
    equal(response.rcode, row.rcode);
    equal(response.opcode, row.opcode);
    equal(response.id, 0x2a2a);
    deepEqual(reports, []);
  });
}

test("a transfer handler writes many messages on one TCP connection", async () => {
  const soa = { name: "example.org", class: 1, ttl: 3600 };
  const record = (address: string): Message["answers"][number] => ({ ...soa, data: { type: "A", address } });
  const server = startServer({
    host: "127.0.0.1",
    port: 0,
    upstreams: [{ hostname: "127.0.0.1", port: 9 }],
    timeoutMs: 500,
    localData: fixedData({}),
    handlers: {
      async transfer(request, write) {
        if (!write) return reply(request.message, { rcode: Rcode.REFUSED });
        for (const address of ["192.0.2.1", "192.0.2.2", "192.0.2.3"]) {
          await write(
            encodeMessage(reply(request.message, { authoritative: true, answers: [record(address)] })),
          );
        }
        return null;
      },
    },
  });
  const client = await connectTcp(server.address);
  try {
    await client.send(message(Opcode.QUERY, RRType.AXFR));
    const got: string[] = [];
    for (let i = 0; i < 3; i++) {
      const part = decodeMessage((await client.read())!);
      equal(part.id, 0x2a2a);
      const data = part.answers[0]!.data;
      got.push(data.type === "A" ? data.address : data.type);
    }
    deepEqual(got, ["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
    // The connection goes on serving after the stream.
    await client.send(message(Opcode.NOTIFY));
    equal(decodeMessage((await client.read())!).rcode, Rcode.NOTIMP);
  } finally {
    client.close();
    server.close();
    await server.finished;
  }
});
