/**
 * The documentation stays in its place: every relative link in README.md, docs/*.md and
 * bench/README.md reaches a file (and a heading, for `#anchor` links), no line passes 120
 * characters, the README stays short, and dnsd(8) lists the options of `--help` byte for byte.
 * External links are allowed and never fetched.
 * @module
 */
import assert from "node:assert/strict";
import { posix } from "node:path";
import { test } from "../_limit.ts";
import { needsPermissions } from "../_tools.ts";
import { USAGE } from "../../lib/config/mod.ts";

const ROOT = new URL("../../", import.meta.url);
const MAX_LINE = 120;
const MAX_README_BYTES = 10_240;
const LIMIT_MS = 10_000;

/** What the checker may ask of the files: real ones, or an in-memory sample. */
interface Tree {
  /** Whether a file or folder exists, by its path from the repository root. */
  exists(path: string): boolean;
  /** A markdown file's text, by its path from the repository root. */
  read(path: string): string;
}

/** The text with fenced code blocks blanked out; line breaks stay, so lines keep their numbers. */
function withoutFences(markdown: string): string {
  let fence: string | null = null;
  return markdown.split("\n").map((line) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === null && marker) {
      fence = marker;
      return "";
    }
    if (fence !== null) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) {
        fence = null;
      }
      return "";
    }
    return line;
  }).join("\n");
}

/** The text with fenced code blocks and inline code blanked out, keeping line breaks. */
function prose(markdown: string): string {
  return withoutFences(markdown).replace(/(`+)[\s\S]*?\1/g, (span) => span.replace(/[^\n]/g, " "));
}

/** GitHub's anchor for a heading: lowercase, punctuation other than `-` and `_` dropped, spaces to `-`. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1") // a link's text only
    .replace(/[`*]/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors of a markdown file's headings; a repeated heading gets `-1`, `-2`, ... as on GitHub. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFences(markdown).split("\n")) {
    if (!/^ {0,3}#{1,6}\s/.test(line)) continue;
    const base = slug(line.replace(/^ {0,3}#{1,6}\s+/, "").replace(/\s+#+\s*$/, ""));
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

/** Every link target in the prose: inline links and images, and reference definitions, with line numbers. */
function linkTargets(markdown: string): { line: number; target: string }[] {
  const targets: { line: number; target: string }[] = [];
  prose(markdown).split("\n").forEach((text, index) => {
    for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      targets.push({ line: index + 1, target: match[1]! });
    }
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(text);
    if (definition) targets.push({ line: index + 1, target: definition[1]! });
  });
  return targets;
}

/**
 * The relative links in `path` (from the repository root) that reach no file, or no heading of the
 * markdown file they name, one message each. Links with a scheme (`https:`) are not checked.
 */
function brokenLinks(path: string, markdown: string, tree: Tree): string[] {
  const broken: string[] = [];
  for (const { line, target } of linkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
    const hash = target.indexOf("#");
    const file = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
    const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
    const resolved = file === "" ? path : posix.normalize(posix.join(posix.dirname(path), file));
    const where = `${path}:${line}: ${target}`;
    if (resolved.startsWith("../") || posix.isAbsolute(resolved)) {
      broken.push(`${where}: leaves the repository`);
    } else if (!tree.exists(resolved)) {
      broken.push(`${where}: no such file ${resolved}`);
    } else if (anchor !== null && resolved.endsWith(".md") && !anchors(tree.read(resolved)).has(anchor)) {
      broken.push(`${where}: no heading #${anchor} in ${resolved}`);
    }
  }
  return broken;
}

/** Lines longer than `MAX_LINE` characters, as `path:line (length)`. */
function longLines(path: string, markdown: string): string[] {
  return markdown.split("\n").flatMap((line, index) => {
    const length = [...line].length;
    return length > MAX_LINE ? [`${path}:${index + 1} (${length} characters)`] : [];
  });
}

/** The option lines of `--help`: from the line after `Options:` to the `--version` line, inclusive. */
function usageOptions(usage: string): string {
  const lines = usage.split("\n");
  const first = lines.indexOf("Options:") + 1;
  const last = lines.findIndex((line) => line.trimStart().startsWith("--version"));
  assert.ok(first > 0 && last >= first, "USAGE has an Options: section ending with --version");
  return lines.slice(first, last + 1).join("\n") + "\n";
}

/** The fenced `text` block directly under `## OPTIONS`, or null. */
function optionsBlock(markdown: string): string | null {
  const lines = markdown.split("\n");
  let i = lines.indexOf("## OPTIONS");
  if (i < 0) return null;
  do i++; while (i < lines.length && lines[i]!.trim() === "");
  if (lines[i] !== "```text") return null;
  const end = lines.indexOf("```", i + 1);
  return end < 0 ? null : lines.slice(i + 1, end).join("\n") + "\n";
}

const repository: Tree = {
  exists(path) {
    try {
      Deno.statSync(new URL(path, ROOT));
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  },
  read: (path) => Deno.readTextFileSync(new URL(path, ROOT)),
};

/** The documentation this test holds to its rules, by path from the repository root. */
function documents(): string[] {
  const docs = [...Deno.readDirSync(new URL("docs/", ROOT))]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => `docs/${entry.name}`)
    .sort();
  return ["README.md", ...docs, "bench/README.md"];
}

function inMemory(files: Readonly<Record<string, string>>): Tree {
  const folders = new Set(
    Object.keys(files).flatMap((path) => {
      const parts = path.split("/").slice(0, -1);
      return parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    }),
  );
  return {
    exists: (path) => path in files || folders.has(path.replace(/\/$/, "")),
    read: (path) => files[path] ?? "",
  };
}

const sample = inMemory({
  "README.md": "# dnsd\n",
  "mappings.ts": "export default {};\n",
  "docs/cache.md":
    "# Cache\n\n## RD=0 and cache snooping\n\n## Keys\n\n## Keys\n\n```\n## Not a heading\n```\n",
  "docs/dnsd.8.md": "# dnsd(8)\n\n## EXIT STATUS\n",
});

const linkCases: readonly { name: string; markdown: string; broken: readonly string[] }[] = [
  {
    name: "links to files and headings that exist",
    markdown: "[a](../README.md) [b](cache.md#keys) [c](cache.md#keys-1) [d](#exit-status)\n" +
      "[e](../mappings.ts) [f](cache.md#rd0-and-cache-snooping) [g](https://example.com/x#y) [h](../docs/)\n",
    broken: [],
  },
  {
    name: "a link to a missing file",
    markdown: "See [forwarding](forwarding.md).\n",
    broken: ["docs/dnsd.8.md:1: forwarding.md: no such file docs/forwarding.md"],
  },
  {
    name: "a link to a missing heading",
    markdown: "\n[cache](cache.md#memory)\n",
    broken: ["docs/dnsd.8.md:2: cache.md#memory: no heading #memory in docs/cache.md"],
  },
  {
    name: "a link to a missing heading of the same file",
    markdown: "[signals](#signals)\n",
    broken: ["docs/dnsd.8.md:1: #signals: no heading #signals in docs/dnsd.8.md"],
  },
  {
    name: "a link to a heading that is only code",
    markdown: "[x](cache.md#not-a-heading)\n",
    broken: ["docs/dnsd.8.md:1: cache.md#not-a-heading: no heading #not-a-heading in docs/cache.md"],
  },
  {
    name: "a link that leaves the repository",
    markdown: "[x](../../etc/hosts)\n",
    broken: ["docs/dnsd.8.md:1: ../../etc/hosts: leaves the repository"],
  },
  {
    name: "a path written from the wrong folder, and a reference definition",
    markdown: "[x](docs/cache.md)\n\n[y]: ./missing.md\n",
    broken: [
      "docs/dnsd.8.md:1: docs/cache.md: no such file docs/docs/cache.md",
      "docs/dnsd.8.md:3: ./missing.md: no such file docs/missing.md",
    ],
  },
  {
    name: "nothing inside code",
    markdown: "`[x](missing.md)`\n\n```md\n[y](missing.md)\n```\n",
    broken: [],
  },
];

test({
  name: "brokenLinks() reports missing files and headings, and accepts good and external links",
  timeoutMs: LIMIT_MS,
  fn: async (t) => {
    for (const { name, markdown, broken } of linkCases) {
      await t.step(name, () => assert.deepEqual(brokenLinks("docs/dnsd.8.md", markdown, sample), broken));
    }
  },
});

test({
  name: "slug() makes GitHub's heading anchors",
  timeoutMs: LIMIT_MS,
  fn: () => {
    const cases: readonly [string, string][] = [
      ["EXIT STATUS", "exit-status"],
      ["RD=0 and cache snooping", "rd0-and-cache-snooping"],
      ["Answers are passed on as the upstream's bytes", "answers-are-passed-on-as-the-upstreams-bytes"],
      [
        "Source ports: a small pool of sockets that keeps rotating",
        "source-ports-a-small-pool-of-sockets-that-keeps-rotating",
      ],
      ["`--udp-io` and **batched** UDP", "--udp-io-and-batched-udp"],
      ["A query's path", "a-querys-path"],
      ["dnsd(8)", "dnsd8"],
    ];
    for (const [heading, expected] of cases) assert.equal(slug(heading), expected, heading);
  },
});

test({
  name: "longLines() reports a line over 120 characters, counting characters rather than bytes",
  timeoutMs: LIMIT_MS,
  fn: () => {
    assert.deepEqual(longLines("x.md", `${"µ".repeat(120)}\n${"a".repeat(121)}\n`), [
      "x.md:2 (121 characters)",
    ]);
  },
});

test({
  ...needsPermissions(
    ["read"],
    "README.md, docs/*.md and bench/README.md link only to files and headings that exist",
  ),
  timeoutMs: LIMIT_MS,
  fn: async (t) => {
    for (const path of documents()) {
      await t.step(path, () => assert.deepEqual(brokenLinks(path, repository.read(path), repository), []));
    }
  },
});

test({
  ...needsPermissions(["read"], "README.md, docs/*.md and bench/README.md have no line over 120 characters"),
  timeoutMs: LIMIT_MS,
  fn: async (t) => {
    for (const path of documents()) {
      await t.step(path, () => assert.deepEqual(longLines(path, repository.read(path)), []));
    }
  },
});

test({
  ...needsPermissions(["read"], "README.md is at most 10,240 bytes"),
  timeoutMs: LIMIT_MS,
  fn: () => {
    const size = Deno.statSync(new URL("README.md", ROOT)).size;
    assert.ok(size <= MAX_README_BYTES, `README.md is ${size} bytes; move the detail to docs/`);
  },
});

test({
  ...needsPermissions(["read"], "docs/dnsd.8.md lists the option lines of --help byte for byte"),
  timeoutMs: LIMIT_MS,
  fn: () => {
    const block = optionsBlock(repository.read("docs/dnsd.8.md"));
    assert.notEqual(block, null, "docs/dnsd.8.md has a ```text block directly under ## OPTIONS");
    assert.equal(block, usageOptions(USAGE));
  },
});

test({
  name: "optionsBlock() finds only a text block directly under ## OPTIONS",
  timeoutMs: LIMIT_MS,
  fn: () => {
    assert.equal(optionsBlock("## OPTIONS\n\n```text\n  --help  x\n```\n"), "  --help  x\n");
    assert.equal(optionsBlock("## OPTIONS\n\nProse first.\n\n```text\n  --help  x\n```\n"), null);
    assert.equal(optionsBlock("## OPTIONS\n\n```sh\n  --help  x\n```\n"), null);
    assert.equal(
      usageOptions("Usage: x\n\nOptions:\n  --a  one\n  --version  v\n"),
      "  --a  one\n  --version  v\n",
    );
  },
});
