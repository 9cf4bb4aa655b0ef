/**
 * DNS cookies towards one upstream (RFC 7873 section 5.1 and 5.3): dnsd sends a client cookie of
 * its own with every query that has an OPT record, with the server cookie it last learnt from that
 * upstream, and checks the reply. A reply whose COOKIE option does not echo the client cookie is not
 * the upstream's: it is dropped like a reply with a wrong ID. Once the upstream has shown it speaks
 * cookies (a reply with the right echo), a reply without the option is dropped too; an upstream that
 * never answers with one (no cookie support) is answered as before, as BIND and Knot do.
 * Pure apart from the injected random source.
 * @module
 */
import { CLIENT_COOKIE, cookieOption, findCookie, findOpt, withOption } from "./cookie.ts";

/** Why a reply failed the cookie check. */
export type CookieMismatch = "wrong-cookie" | "missing-cookie";

/** The cookie state dnsd keeps for one upstream. */
export class UpstreamCookie {
  readonly #client: Uint8Array;
  #server: Uint8Array = new Uint8Array(0);
  #speaks = false;

  /** @param random fills an array with random octets (the client cookie is drawn once) */
  constructor(random: (octets: Uint8Array) => void = (octets) => crypto.getRandomValues(octets)) {
    this.#client = new Uint8Array(CLIENT_COOKIE);
    random(this.#client);
  }

  /** The client cookie sent to this upstream. */
  get client(): Uint8Array {
    return this.#client;
  }

  /** Whether the upstream has answered with the right echo: then every reply must carry it. */
  get speaksCookies(): boolean {
    return this.#speaks;
  }

  /** `query` with the COOKIE option added to its OPT record; as it is when it has none (no EDNS). */
  addTo(query: Uint8Array): Uint8Array {
    if (findOpt(query) === null) return query;
    return withOption(query, cookieOption(this.#client, this.#server));
  }

  /**
   * Checks a reply to a query {@link addTo} stamped; null when it is accepted (its server cookie is
   * then kept for the next query), else why not.
   */
  check(reply: Uint8Array): CookieMismatch | null {
    const span = findCookie(reply);
    if (span === null) return this.#speaks ? "missing-cookie" : null;
    if (span.length < CLIENT_COOKIE) return "wrong-cookie";
    for (let i = 0; i < CLIENT_COOKIE; i++) {
      if (reply[span.at + i] !== this.#client[i]) return "wrong-cookie";
    }
    const server = span.length - CLIENT_COOKIE;
    if (server >= 8 && server <= 32) {
      this.#server = reply.slice(span.at + CLIENT_COOKIE, span.at + span.length);
    }
    this.#speaks = true;
    return null;
  }
}
