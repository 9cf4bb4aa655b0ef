/**
 * NOTIFY out (RFC 1996): when a zone's serial changes, each `--notify` target is told over UDP,
 * signed with the first TSIG key when keys are set. A target that does not answer is told again
 * every 5 seconds, at most 5 times more; its acknowledgement (a NOTIFY response with the same ID)
 * ends it. A newer change of the zone replaces a round still going for it.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { decodeMessage, encodeMessage, type Message, Opcode, query, RRClass, RRType } from "../proto/mod.ts";
import { signRequest, type TsigKeyring, type UnixClock } from "../tsig/mod.ts";
import type { Zone } from "../zone/mod.ts";

const log = getLogger(["dnsd", "xfr"]);

/** How NOTIFY is sent. */
export interface NotifyOptions {
  /** Where to send (`--notify HOST:PORT`). */
  readonly targets: readonly Deno.NetAddr[];
  /** The first key signs (when there is one). */
  readonly keyring: TsigKeyring;
  /** Seconds since the epoch, for TSIG. */
  readonly unixClock: UnixClock;
  /** Between tries; RFC 1996 section 3.6 suggests a few seconds (5, as the issue asks). */
  readonly retryMs?: number;
  /** Tries after the first. */
  readonly retries?: number;
  /** Message IDs (random by default). */
  readonly newId?: () => number;
}

/** A datagram socket for one target's round (closed when it ends). */
function openSocket(target: Deno.NetAddr): Deno.DatagramConn {
  const hostname = target.hostname.includes(":") ? "::" : "0.0.0.0";
  return Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
}

function randomId(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0]!;
}

/** Whether `bytes` acknowledges `sent` (RFC 1996 section 4.7: a response with the same ID and opcode). */
function acknowledges(bytes: Uint8Array, sent: Message): boolean {
  try {
    const answer = decodeMessage(bytes);
    return answer.response && answer.id === sent.id && answer.opcode === Opcode.NOTIFY;
  } catch {
    return false;
  }
}

/** Sends NOTIFY for changed zones. */
export class Notifier {
  readonly #options: NotifyOptions;
  /** Rounds going, by zone and target: a newer change aborts the older round. */
  readonly #rounds = new Map<string, AbortController>();
  #closed = false;

  constructor(options: NotifyOptions) {
    this.#options = options;
  }

  /** Tells every target that `zone` changed; returns once every round ends (tests wait on it). */
  notify(zone: Zone): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return Promise.all(this.#options.targets.map((target) => this.#round(zone, target))).then(() => {});
  }

  async #round(zone: Zone, target: Deno.NetAddr): Promise<void> {
    const key = `${zone.key} ${target.hostname} ${target.port}`;
    this.#rounds.get(key)?.abort();
    const stop = new AbortController();
    this.#rounds.set(key, stop);
    const { retryMs = 5_000, retries = 5, newId = randomId } = this.#options;
    const message: Message = {
      ...query({ name: zone.apex, type: RRType.SOA, class: RRClass.IN }, {
        id: newId(),
        recursionDesired: false,
      }),
      opcode: Opcode.NOTIFY,
      authoritative: true,
      answers: [zone.soa],
    };
    let socket: Deno.DatagramConn | null = null;
    try {
      socket = openSocket(target);
      const acknowledged = this.#acknowledgement(socket, target, message, stop.signal);
      for (let attempt = 0; attempt <= retries && !stop.signal.aborted; attempt++) {
        await socket.send(await this.#bytes(message), target);
        if (await this.#waitFor(acknowledged, retryMs, stop.signal)) {
          log.info("NOTIFY for {zone} serial {serial} acknowledged by {target}", {
            zone: zone.apex,
            serial: zone.soa.data.serial,
            target: `${target.hostname}:${target.port}`,
          });
          return;
        }
      }
      if (!stop.signal.aborted) {
        log.warning("NOTIFY for {zone} serial {serial} not acknowledged by {target} after {tries} tries", {
          zone: zone.apex,
          serial: zone.soa.data.serial,
          target: `${target.hostname}:${target.port}`,
          tries: retries + 1,
        });
      }
    } catch (error) {
      if (!stop.signal.aborted) {
        log.warning("Cannot send NOTIFY for {zone} to {target}: {error}", {
          zone: zone.apex,
          target: `${target.hostname}:${target.port}`,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    } finally {
      socket?.close();
      if (this.#rounds.get(key) === stop) this.#rounds.delete(key);
    }
  }

  /** The request's bytes, signed with the first key when there is one (a fresh time each try). */
  async #bytes(message: Message): Promise<Uint8Array> {
    const bytes = encodeMessage(message);
    const key = this.#options.keyring.keys[0];
    if (!key) return bytes;
    return (await signRequest(this.#options.keyring.hmacs, key, bytes, this.#options.unixClock())).bytes;
  }

  /** Resolves true once the target acknowledges; false when the socket closes first. */
  async #acknowledgement(
    socket: Deno.DatagramConn,
    target: Deno.NetAddr,
    sent: Message,
    signal: AbortSignal,
  ): Promise<boolean> {
    try {
      while (!signal.aborted) {
        const [bytes, from] = await socket.receive();
        const peer = from as Deno.NetAddr;
        if (peer.port === target.port && acknowledges(bytes, sent)) return true;
      }
    } catch {
      // closed: the round ended
    }
    return false;
  }

  /** Whether `acknowledged` comes within `ms` (false too when the round is aborted). */
  async #waitFor(acknowledged: Promise<boolean>, ms: number, signal: AbortSignal): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
      onAbort = () => resolve(false);
      signal.addEventListener("abort", onAbort);
    });
    try {
      return await Promise.race([acknowledged, late]);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort!);
    }
  }

  /** Ends every round. */
  close(): void {
    this.#closed = true;
    for (const round of this.#rounds.values()) round.abort();
    this.#rounds.clear();
  }
}
