/**
 * A scripted primary on 127.0.0.1 (TCP, port 0): each request is decoded, logged in `asked`, and
 * answered with the messages its script returns, optionally cutting the connection after them.
 * `zonePrimary` scripts one that serves versions of example.com: SOA, AXFR in messages of a few
 * records, IXFR as the difference between two versions, and TSIG when given a key.
 * @module
 */
import {
  decodeMessage,
  formatRData,
  type Message,
  type ResourceRecord,
  typeName,
} from "../../lib/proto/mod.ts";
import { AnswerSigner, Hmacs, locateTsig, type TsigKey } from "../../lib/tsig/mod.ts";
import { answersTo, chunks, soaAt } from "./_xfr.ts";

/** What the primary sends for one request. */
export interface Scripted {
  /** The messages, each without its length prefix. */
  readonly messages: readonly Uint8Array[];
  /** Close the connection after them (a transfer cut midway). */
  readonly cut?: boolean;
}

/** Answers one request. */
export type Script = (request: Message, wire: Uint8Array) => Scripted | Promise<Scripted>;

async function readExactly(conn: Deno.Conn, length: number): Promise<Uint8Array | null> {
  const bytes = new Uint8Array(length);
  let have = 0;
  while (have < length) {
    const count = await conn.read(bytes.subarray(have));
    if (count === null) return null;
    have += count;
  }
  return bytes;
}

function framed(message: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(message.length + 2);
  bytes[0] = message.length >>> 8;
  bytes[1] = message.length & 0xff;
  bytes.set(message, 2);
  return bytes;
}

/** A primary answering by script; `close()` stops it and every connection. */
export class FakePrimary {
  /** Each request as `TYPE` (`IXFR 3` with the serial held), in order. */
  readonly asked: string[] = [];
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Set<Deno.Conn>();
  readonly #loops: Promise<void>[] = [];
  #script: Script;

  constructor(script: Script) {
    this.#script = script;
    this.#listener = Deno.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0 });
    this.#loops.push(this.#accept());
  }

  /** Where it listens. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** Answers from now on by `script`. */
  set script(script: Script) {
    this.#script = script;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#conns.add(conn);
        this.#loops.push(this.#serve(conn));
      }
    } catch {
      // The listener closed.
    }
  }

  async #serve(conn: Deno.Conn): Promise<void> {
    try {
      while (true) {
        const prefix = await readExactly(conn, 2);
        if (!prefix) break;
        const wire = await readExactly(conn, (prefix[0]! << 8) | prefix[1]!);
        if (!wire) break;
        const request = decodeMessage(wire);
        const question = request.questions[0]!;
        const held = request.authorities[0]?.data;
        this.asked.push(typeName(question.type) + (held?.type === "SOA" ? ` ${held.serial}` : ""));
        const scripted = await this.#script(request, wire);
        for (const message of scripted.messages) await conn.write(framed(message));
        if (scripted.cut) break;
      }
    } catch {
      // The client went away, or close() closed the connection.
    } finally {
      if (this.#conns.delete(conn)) conn.close();
    }
  }

  /** Stops listening, closes every connection and waits for them. */
  async close(): Promise<void> {
    this.#listener.close();
    for (const conn of this.#conns) conn.close();
    this.#conns.clear();
    await Promise.all(this.#loops);
  }
}

/** Versions of example.com a {@link zonePrimary} serves: serial to records (without the SOA). */
export type Versions = Map<number, readonly ResourceRecord[]>;

function identity(record: ResourceRecord): string {
  return `${record.name} ${record.ttl} ${record.data.type} ${formatRData(record.data)}`;
}

/** How a {@link zonePrimary} behaves. */
export interface ZonePrimaryState {
  /** The serial served. */
  serial: number;
  /** Every version it can send or diff from. */
  readonly versions: Versions;
  /** Records per AXFR message. */
  readonly perMessage?: number;
  /** Signs answers with this key (over the request's MAC, unchecked). */
  readonly key?: TsigKey;
}

/** A script serving `state`'s versions of example.com (read at each request, so tests can move it on). */
export function zonePrimary(state: ZonePrimaryState): Script {
  return async function zonePrimary(request, wire) {
    const question = request.questions[0]!;
    const current = state.versions.get(state.serial)!;
    const soa = soaAt(state.serial);
    let parts: ResourceRecord[][];
    if (question.type === 6) {
      parts = [[soa]];
    } else if (question.type === 252) {
      parts = chunks([soa, ...current, soa], state.perMessage ?? 3);
    } else {
      const held = request.authorities[0]!.data;
      const from = held.type === "SOA" ? held.serial : -1;
      const old = state.versions.get(from);
      if (from === state.serial) parts = [[soa]];
      else if (!old) parts = chunks([soa, ...current, soa], state.perMessage ?? 3);
      else {
        const before = new Set(old.map(identity));
        const after = new Set(current.map(identity));
        const deleted = old.filter((record) => !after.has(identity(record)));
        const added = current.filter((record) => !before.has(identity(record)));
        parts = chunks([soa, soaAt(from), ...deleted, soa, ...added, soa], state.perMessage ?? 3);
      }
    }
    const messages = answersTo(request, parts);
    if (!state.key) return { messages };
    // Signed over the request's MAC without checking it: a primary with another secret signs wrongly.
    const located = locateTsig(wire);
    if (!located) throw new Error("an unsigned request to a primary with a key");
    const signer = new AnswerSigner(
      new Hmacs(),
      { key: state.key, record: located.record },
      () => Math.floor(Date.now() / 1000),
    );
    const signed: Uint8Array[] = [];
    for (const message of messages) signed.push(await signer.sign(message));
    return { messages: signed };
  };
}
