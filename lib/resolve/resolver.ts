/**
 * The resolver is a chain of small stages; each answers or calls `next` (CoreDNS plugins,
 * oak/hono `compose`). The order lives in one array in the composition root.
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { levelGate } from "../observe/mod.ts";
import { displayName, type Message, Refused, typeName } from "../proto/mod.ts";
import type { Request, Resolve, Stage } from "./request.ts";

/** The end of every chain: nothing answered, so REFUSED (RFC 1035 section 4.1.1). */
export function refuse(request: Request): Promise<Message> {
  const question = request.message.questions[0];
  return Promise.reject(new Refused(`nothing here answers '${displayName(question?.name ?? "")}'`));
}

/** Composes stages left to right into one {@link Resolve}. */
export function chain(stages: readonly Stage[], last: Resolve = refuse): Resolve {
  return stages.reduceRight<Resolve>((next, stage) => (request) => stage(request, next), last);
}

const queryLog = getLogger(["dnsd", "query"]);

/** Logs each question at debug level; costs nothing when debug is off. */
export function logQueries(): Stage {
  const debug = levelGate(queryLog, "debug");
  return function logQueries(request, next) {
    if (debug()) {
      const question = request.message.questions[0];
      if (question) {
        queryLog.debug("Received query for domain: {name} (type {type}, RD={rd})", {
          name: displayName(question.name),
          type: typeName(question.type),
          rd: request.message.recursionDesired ? 1 : 0,
        });
      }
    }
    return next(request);
  };
}

/**
 * Lets only recursive queries (RD=1) go further: a name dnsd does not hold locally is REFUSED
 * to an RD=0 query, so no upstream packet is sent for it.
 */
export function requireRecursion(): Stage {
  return function requireRecursion(request, next) {
    if (request.message.recursionDesired) return next(request);
    return Promise.reject(new Refused("recursion was not desired (RD=0) for a name dnsd does not hold"));
  };
}
