/**
 * The config file, read through `parseCommand()` with an injected file: every setting from the
 * file, the command line over the file, and each kind of mistake as one line with FILE:LINE: KEY.
 * Also that the schema's two renderings in docs/ are current.
 * @module
 */
import { test } from "../_limit.ts";
import assert from "node:assert/strict";
import { type Command, ConfigFileError, parseCommand, UsageError } from "../../lib/config/cli.ts";
import { fileKey, OPTIONS, type OptionSpec } from "../../lib/config/options.ts";
import { readConfigText } from "../../lib/config/file.ts";
import { keyTable, schemaText, TABLE_END, TABLE_START } from "../../scripts/config_reference.ts";

const PATH = "/etc/dnsd/dnsd.toml";

/** parseCommand() with `args`, `--config` naming a file whose text is `text`. */
function withFile(text: string, args: readonly string[] = []): Command {
  return parseCommand(["--config", PATH, ...args], {
    configFile: readConfigText,
    readFile: (path) => {
      assert.equal(path, PATH);
      return text;
    },
  });
}

function serve(command: Command): Extract<Command, { kind: "serve" }> {
  assert.equal(command.kind, "serve");
  return command as Extract<Command, { kind: "serve" }>;
}

// ---------------------------------------------------------------------------------------------
// Every setting from the file, and the same setting from its flag

/** A value other than the default for each setting, as TOML and as command-line arguments. */
function sample(spec: OptionSpec): { toml: string; args: string[] } {
  const key = fileKey(spec);
  const type = spec.type;
  switch (type.kind) {
    case "flag":
      return { toml: `${key} = true`, args: [`--${spec.flag}`] };
    case "integer": {
      const value = type.min === 0 && spec.flag !== "port" ? 7 : Math.min(type.max, type.min + 6);
      return { toml: `${key} = ${value}`, args: [`--${spec.flag}`, String(value)] };
    }
    case "choice": {
      const value = type.choices.find((choice) => choice !== spec.default)!;
      return { toml: `${key} = "${value}"`, args: [`--${spec.flag}`, value] };
    }
    case "text": {
      const value = spec.flag === "metrics" ? "127.0.0.1:9153" : "192.0.2.53";
      return { toml: `${key} = "${value}"`, args: [`--${spec.flag}`, value] };
    }
    case "list": {
      const values = spec.flag === "upstream"
        ? ["192.0.2.1:5300", "[::1]:53"]
        : spec.flag === "cookie-secret"
        ? ["e5e973e5a6b2a43f48e7dc849e37bfcf", "dd3bdf9344b678b185a6f5cb60fca715"]
        : spec.flag === "forward-zone"
        ? ["lan=192.0.2.1:5300", "168.192.in-addr.arpa=192.0.2.2,[::1]:53"]
        : spec.flag === "notify"
        ? ["192.0.2.1:5300", "[::1]:53"]
        : spec.flag === "tsig-key"
        ? ["k1:hmac-sha256:c2VjcmV0", "k2.example:hmac-sha1:c2VjcmV0"]
        : spec.flag === "secondary"
        ? ["example.com=192.0.2.1:5300", "example.net=[::1]:53"]
        : ["allow", "deny", "allow-recursion", "allow-transfer"].includes(spec.flag)
        ? ["192.0.2.0/24", "2001:db8::/32"]
        : ["a.file", "b.file"];
      return {
        toml: `${key} = [${values.map((value) => `"${value}"`).join(", ")}]`,
        args: values.flatMap((value) => [`--${spec.flag}`, value]),
      };
    }
  }
}

for (const spec of OPTIONS.filter((option) => !option.cliOnly)) {
  test(`config file: ${fileKey(spec)} sets what --${spec.flag} sets`, () => {
    const { toml, args } = sample(spec);
    // stale_max counts only with serve_stale, min_ttl must stay under max_ttl's default: both as set.
    // A DoT or DoH port needs a certificate and key; the certificate needs its key and the other way round.
    const tls = ["tls-port", "https-port"].includes(spec.flag)
      ? ["--tls-cert", "c.pem", "--tls-key", "k.pem"]
      : spec.flag === "tls-cert"
      ? ["--tls-key", "k.pem"]
      : spec.flag === "tls-key"
      ? ["--tls-cert", "c.pem"]
      : [];
    const extra = spec.flag === "stale-max" ? ["--serve-stale"] : tls;
    const fromFile = serve(withFile(toml, extra));
    const fromFlags = serve(parseCommand([...args, ...extra]));
    assert.deepEqual({ ...fromFile, config: null }, fromFlags);
    // Without the sample, --tls-key alone is an error: the sample is then surely not the default.
    const without = spec.flag === "tls-cert" || spec.flag === "tls-key" ? null : serve(parseCommand(extra));
    if (without) assert.notDeepEqual(fromFlags, without, `${spec.flag}: the sample is not the default`);
  });
}

test("config file: a flag on the command line replaces the file's value, a list's whole list", () => {
  const text = 'port = 5300\nupstream = ["192.0.2.1", "192.0.2.2"]\nlog_level = "debug"\n';
  const command = serve(withFile(text, ["--port", "5301", "--upstream", "192.0.2.9"]));
  assert.equal(command.port, 5301);
  assert.deepEqual(command.upstreams, [{ hostname: "192.0.2.9", port: 53 }]);
  assert.equal(command.logLevel, "debug", "a key the command line does not give stays the file's");
});

test("config file: [mappings] and [[assert]] are read, with each assertion's line", () => {
  const text = [
    "port = 5300", // 1
    "", // 2
    "[mappings]", // 3
    '"nas.home.arpa" = "192.168.1.10"', // 4
    '"lan" = { MX = "10 mx.lan.", ttl = 60 }', // 5
    "", // 6
    "[[assert]]", // 7
    'name = "nas.home.arpa"', // 8
    'expect = ["192.168.1.10"]', // 9
    "", // 10
    "[[assert]]", // 11
    'name = "example.com"', // 12
    'type = "AAAA"', // 13
    'expect = "FORWARDED"', // 14
    'upstream = "192.0.2.1:53"', // 15
  ].join("\n");
  const command = serve(withFile(text));
  assert.equal(command.mappings, "file");
  assert.deepEqual(command.config?.mappings, {
    "nas.home.arpa": "192.168.1.10",
    lan: { MX: "10 mx.lan.", ttl: 60 },
  });
  assert.deepEqual(command.config?.assertions, [
    { name: "nas.home.arpa", type: "A", expect: ["192.168.1.10"], line: 7 },
    { name: "example.com", type: "AAAA", expect: "FORWARDED", upstream: "192.0.2.1:53", line: 11 },
  ]);
});

test("config file: no_mappings = true and --no-mappings start without any", () => {
  assert.equal(serve(withFile("no_mappings = true")).mappings, "none");
  assert.equal(serve(withFile('[mappings]\n"a.lan" = "192.0.2.1"', ["--no-mappings"])).mappings, "none");
  assert.equal(serve(parseCommand([])).mappings, "builtin");
});

// ---------------------------------------------------------------------------------------------
// Mistakes: one line, naming the file, the line and the key, and saying what is allowed

const mistakes: readonly { name: string; text: string; message: string }[] = [
  {
    name: "an unknown key, with the key it is close to",
    text: "port = 5300\ncache_sise = 10\n",
    message: `${PATH}:2: cache_sise: unknown key (did you mean cache_size?)`,
  },
  {
    name: "an unknown key inside [[assert]]",
    text: '[[assert]]\nname = "a"\nexpect = "NXDOMAIN"\nexpected = "x"\n',
    message: `${PATH}:4: assert.0.expected: unknown key`,
  },
  {
    name: "a number given as a string",
    text: 'port = "53"\n',
    message: `${PATH}:1: port: must be a whole number from 0 to 65535`,
  },
  {
    name: "a number out of range",
    text: "\n\ncache_size = -1\n",
    message: `${PATH}:3: cache_size: must be a whole number from 0 to 100000000`,
  },
  {
    name: "a deny prefix longer than 32",
    text: '\ndeny = ["10.0.0.0/8", "10.0.0.0/33"]\n',
    message: `${PATH}:2: deny: "10.0.0.0/33": the length must be 0 to 32`,
  },
  {
    name: "a list given as one string",
    text: 'upstream = "192.0.2.1"\n',
    message: `${PATH}:1: upstream: must be a list of strings, ["..."]`,
  },
  {
    name: "a choice that is not one",
    text: 'udp_io = "fast"\n',
    message: `${PATH}:1: udp_io: must be one of "auto", "deno", "batched"`,
  },
  {
    name: "a flag that is not true or false",
    text: 'serve_stale = "yes"\n',
    message: `${PATH}:1: serve_stale: must be true or false`,
  },
  {
    name: "a value the command line would refuse too (an upstream host name)",
    text: '# upstreams\nupstream = ["192.0.2.1", "dns.google"]\n',
    message: `${PATH}:2: upstream: "dns.google" is not an IP address`,
  },
  {
    name: "min_ttl above max_ttl",
    text: "min_ttl = 600\nmax_ttl = 60\n",
    message: "--min-ttl 600 is above --max-ttl 60",
  },
  {
    name: "an assertion's expect that is neither RDATA nor an outcome",
    text: '[[assert]]\nname = "a.lan"\nexpect = "YES"\n',
    message:
      `${PATH}:3: assert.0.expect: must be a list of RDATA, or "NXDOMAIN", "NODATA", "BLOCKED", "REFUSED" or "FORWARDED"`,
  },
  {
    name: "TOML that does not parse",
    text: 'port = 53\nupstream = ["192.0.2.1" "192.0.2.2"]\nlog_level = "info"\n',
    message: `${PATH}:2: `,
  },
];

for (const { name, text, message } of mistakes) {
  test(`config file: rejects ${name} in one line`, () => {
    assert.throws(() => withFile(text), (error: unknown) => {
      assert.ok(error instanceof UsageError, `expected a UsageError, got ${error}`);
      assert.ok(!error.message.includes("\n"), error.message);
      assert.ok(error.message.startsWith(message), `${error.message}\n  should start with\n${message}`);
      return true;
    });
  });
}

test("config file: a missing file is one line naming it", () => {
  assert.throws(
    () =>
      parseCommand(["--config", "/nonexistent/dnsd.toml"], {
        readFile: () => {
          throw new Deno.errors.NotFound("No such file or directory (os error 2)");
        },
      }),
    (error: unknown) =>
      error instanceof ConfigFileError && error.message === "--config /nonexistent/dnsd.toml: no such file",
  );
});

// ---------------------------------------------------------------------------------------------
// The schema's renderings in docs/ are current

test("docs/dnsd.schema.json is what the schema makes (run deno task config-docs)", async () => {
  const committed = await Deno.readTextFile(new URL("../../docs/dnsd.schema.json", import.meta.url));
  assert.equal(committed, await schemaText());
  const schema = JSON.parse(committed);
  assert.equal(schema.additionalProperties, false, "unknown keys are errors for editors too");
  for (const spec of OPTIONS.filter((option) => !option.cliOnly)) {
    assert.ok(schema.properties[fileKey(spec)], `${fileKey(spec)} is in the JSON Schema`);
  }
});

test("docs/configuration.md's key table is what the schema makes (run deno task config-docs)", async () => {
  const docs = await Deno.readTextFile(new URL("../../docs/configuration.md", import.meta.url));
  const start = docs.indexOf(TABLE_START) + TABLE_START.length;
  assert.equal(docs.slice(start, docs.indexOf(TABLE_END)).trim(), keyTable());
});

test("config file: the example in docs/configuration.md parses", async () => {
  const docs = await Deno.readTextFile(new URL("../../docs/configuration.md", import.meta.url));
  const example = /```toml\n([\s\S]*?)```/.exec(docs)?.[1];
  assert.ok(example, "docs/configuration.md has a toml example");
  const command = serve(withFile(example));
  assert.deepEqual(command.listen.map(({ hostname, port }) => `${hostname} ${port}`), [
    "192.168.1.2 53",
    "fd00::2 53",
  ]);
  assert.equal(command.config?.assertions.length, 2);
  assert.equal(command.mappings, "file");
});
