/**
 * The stage that answers names held in local data, authoritatively (AA=1).
 * @module
 */
import { reply } from "./message.ts";
import type { Stage } from "./resolver.ts";
import { isLocalClass, type RecordStore } from "./store.ts";

/**
 * Answers from the store: the records of the asked type, or NODATA (NOERROR, no answer) when the
 * name exists without that type. Names the store does not hold go to `next`. The store comes from
 * a function so a reload can swap it between two queries.
 */
export function localAnswers(store: () => RecordStore): Stage {
  return function localAnswers(request, next) {
    const question = request.questions[0];
    if (!question || !isLocalClass(question.class)) return next(request);
    const found = store().lookup(question.name, question.type);
    if (found.kind === "absent") return next(request);
    // Owners are written as asked, so they compress to a pointer to the question (0xC00C).
    const answers = found.records.map((record) => ({ ...record, name: question.name }));
    return Promise.resolve(reply(request, { authoritative: true, answers }));
  };
}
