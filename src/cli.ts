#!/usr/bin/env node
// The `sslacc` command.
import { parseArgs } from "node:util";
import { writeFileSync } from "node:fs";
import { selfSignedCertificate } from "./cert.js";

const USAGE = `usage: sslacc <command> [options]

commands:
  cert    write a self-signed certificate and key
            --cn NAME        subject common name (default localhost)
            --san NAME,...   extra subjectAltNames (DNS names or IPs)
            --bits N         RSA modulus size: 1024|2048|3072|4096 (default 2048)
            --days N         validity in days (default 365)
            --cert FILE      where to write the certificate (default cert.pem)
            --key FILE       where to write the private key (default key.pem)
  start   run the daemon (not built yet: see docs/status.md)
  help    this text
`;

function fail(message: string): never {
  console.error(`sslacc: ${message}`);
  process.exit(2);
}

function positiveInt(field: string, value: string | undefined, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) fail(`--${field} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function cert(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      cn: { type: "string" },
      san: { type: "string" },
      bits: { type: "string" },
      days: { type: "string" },
      cert: { type: "string" },
      key: { type: "string" },
    },
    strict: true,
  });
  const bits = positiveInt("bits", values.bits, 2048);
  if (![1024, 2048, 3072, 4096].includes(bits)) fail(`--bits must be 1024, 2048, 3072 or 4096, got ${bits}`);
  const pair = selfSignedCertificate({
    commonName: values.cn ?? "localhost",
    altNames: values.san ? values.san.split(",").filter(Boolean) : [],
    bits,
    days: positiveInt("days", values.days, 365),
  });
  const certFile = values.cert ?? "cert.pem";
  const keyFile = values.key ?? "key.pem";
  writeFileSync(certFile, pair.certPem);
  writeFileSync(keyFile, pair.keyPem, { mode: 0o600 });
  console.log(`wrote ${certFile} and ${keyFile}`);
}

const [command = "help", ...rest] = process.argv.slice(2);
try {
  switch (command) {
    case "cert":
      cert(rest);
      break;
    case "start":
      fail("the daemon is not built yet (issue 4); see docs/status.md");
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      break;
    default:
      process.stderr.write(USAGE);
      fail(`unknown command ${JSON.stringify(command)}`);
  }
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
