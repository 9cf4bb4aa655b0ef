/**
 * CHAOS class queries (class CH, 3): the server's version and identity, answered here as unbound
 * and NSD answer them, and never forwarded (forwarding them would give out the upstream's).
 * `version.bind` and `version.server` TXT answer "dnsd VERSION" unless hidden; `hostname.bind`
 * and `id.server` answer the configured identity; every other CH query is REFUSED. As in unbound
 * and NSD: TXT or ANY only, TTL 0, AA clear.
 * @module
 */
import { nameKey, Refused, reply, RRClass, RRType } from "../proto/mod.ts";
import type { Stage } from "./request.ts";

/** What the CHAOS names answer; read for each CH query, so a reload can change it. */
export interface ChaosSettings {
  /** The text of `version.bind` and `version.server` ("dnsd 0.1.0"), or null when hidden. */
  readonly version: string | null;
  /** The text of `hostname.bind` and `id.server`, or null when none is set (then REFUSED). */
  readonly identity: string | null;
}

const VERSION_NAMES: ReadonlySet<string> = new Set(["version.bind", "version.server"]);
const IDENTITY_NAMES: ReadonlySet<string> = new Set(["hostname.bind", "id.server"]);

const encoder = new TextEncoder();

/** `text` as TXT character-strings: 255 octets at most each (RFC 1035 section 3.3). */
export function characterStrings(text: string): Uint8Array[] {
  const bytes = encoder.encode(text);
  const strings: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += 255) strings.push(bytes.subarray(at, at + 255));
  return strings.length > 0 ? strings : [new Uint8Array(0)];
}

/**
 * The TXT text a CHAOS question is answered with, or null when it is REFUSED.
 * @param name the question's name, any case
 * @param type the question's type: only TXT and ANY are answered
 */
export function chaosText(settings: ChaosSettings, name: string, type: number): string | null {
  if (type !== RRType.TXT && type !== RRType.ANY) return null;
  const key = nameKey(name);
  if (VERSION_NAMES.has(key)) return settings.version;
  if (IDENTITY_NAMES.has(key)) return settings.identity;
  return null;
}

/** The stage that answers class CH, and refuses every CH question it does not answer. */
export function chaos(settings: () => ChaosSettings): Stage {
  return function chaos(request, next) {
    const query = request.message;
    const question = query.questions[0];
    if (!question || question.class !== RRClass.CH) return next(request);
    const text = chaosText(settings(), question.name, question.type);
    if (text === null) return Promise.reject(new Refused("dnsd answers no such CHAOS query"));
    return Promise.resolve(reply(query, {
      answers: [{
        name: question.name,
        class: RRClass.CH,
        ttl: 0,
        data: { type: "TXT", strings: characterStrings(text) },
      }],
    }));
  };
}
