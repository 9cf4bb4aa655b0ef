/**
 * `--dnssec` and `--trust-anchor FILE`: whether forwarded answers are validated, and the trust
 * anchors validation starts from, read at start-up (and by `--check`) so a bad file stops dnsd
 * with one line naming file:line. Both need a restart to change.
 * @module
 */
import { parseTrustAnchors, ROOT_ANCHORS } from "../dnssec/mod.ts";
import { ParseError, type ResourceRecord } from "../proto/mod.ts";
import { ConfigFileError } from "./errors.ts";

/** What the command line says of validation: on, and under which files' anchors (none: the root's). */
export interface DnssecSettings {
  /** `--trust-anchor` files; empty with `--dnssec` alone. */
  readonly anchorFiles: readonly string[];
}

/** The validation settings: null when neither `--dnssec` nor a `--trust-anchor` is given. */
export function dnssecSettings(enabled: boolean, anchorFiles: readonly string[]): DnssecSettings | null {
  return enabled || anchorFiles.length > 0 ? { anchorFiles } : null;
}

/**
 * The trust anchors of `settings`: the root's with `--dnssec` alone, otherwise every DS and
 * DNSKEY record the files hold.
 * @throws {ConfigFileError} for a file that cannot be read, a line that is not a DS or DNSKEY, or no anchor
 */
export function loadTrustAnchors(
  settings: DnssecSettings,
  read: (path: string) => string = Deno.readTextFileSync,
): readonly ResourceRecord[] {
  const files = settings.anchorFiles;
  if (files.length === 0) return ROOT_ANCHORS;
  const anchors: ResourceRecord[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = read(file);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new ConfigFileError(`--trust-anchor ${file}: no such file`);
      }
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      throw new ConfigFileError(`--trust-anchor ${file}: cannot read it: ${reason}`, { cause: error });
    }
    try {
      anchors.push(...parseTrustAnchors(text, file));
    } catch (error) {
      if (error instanceof ParseError) throw new ConfigFileError(error.message);
      throw error;
    }
  }
  if (anchors.length === 0) {
    throw new ConfigFileError(`--trust-anchor ${files.join(", ")}: no DS or DNSKEY record`);
  }
  return anchors;
}
