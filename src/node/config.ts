// The daemon's configuration: `sslacc start` flags over an optional JSON
// file over the embedded defaults, validated field by field — every error
// names the flag or file field at fault (the same rule as src/tls/config.ts).
//
//   argv / --config FILE ──parseStartConfig──> StartConfig ──cli.ts──> Daemon (+ demo backend, admin endpoint)
import { availableParallelism } from "node:os";
import type { RsaProviderName } from "../crypto/rsa-pool.js";
import type { Endpoint } from "./buckets.js";

export interface StartConfig {
  readonly listen: Endpoint;
  /** null: run the built-in demo backend. */
  readonly backend: Endpoint | null;
  /** null: a self-signed certificate generated (once) under stateDir. */
  readonly cert: string | null;
  readonly key: string | null;
  readonly shards: number;
  readonly rsaWorkers: number;
  readonly rsaProvider: RsaProviderName;
  readonly stateDir: string;
  /** Local admin endpoint for `sslacc status`; null: none. */
  readonly admin: Endpoint | null;
}

export class StartConfigError extends Error {
  override readonly name = "StartConfigError";
  constructor(readonly field: string, detail: string) {
    super(`${field}: ${detail}`);
  }
}

export const DEFAULT_LISTEN: Endpoint = { address: "127.0.0.1", port: 8443 };
export const DEFAULT_ADMIN: Endpoint = { address: "127.0.0.1", port: 8444 };

/** What the file may hold (JSON); flags use the kebab-case names. */
const FILE_FIELDS = ["listen", "backend", "cert", "key", "shards", "rsaWorkers", "rsaProvider", "stateDir", "admin"] as const;
type FileField = (typeof FILE_FIELDS)[number];

export type RawStart = Partial<Record<FileField, unknown>>;

export function parseEndpoint(field: string, v: unknown): Endpoint {
  if (typeof v !== "string") throw new StartConfigError(field, `expected "HOST:PORT", got ${JSON.stringify(v)}`);
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(v);
  if (!m) throw new StartConfigError(field, `expected HOST:PORT (IPv6 as [::1]:PORT), got ${JSON.stringify(v)}`);
  const port = Number(m[3]);
  if (port > 65535) throw new StartConfigError(field, `port ${port} is above 65535`);
  return { address: m[1] ?? m[2]!, port };
}

function count(field: string, v: unknown, max: number): number {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > max) {
    throw new StartConfigError(field, `expected an integer from 1 to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function text(field: string, v: unknown): string {
  if (typeof v !== "string" || v.length === 0) throw new StartConfigError(field, `expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Merges the file (if any) under the flags and validates. `fileName` is used
 * in messages ("config.json: shards: ..."); flags are named "--shards".
 */
export function parseStartConfig(flags: RawStart, file: unknown, fileName = "config"): StartConfig {
  if (file !== undefined && (typeof file !== "object" || file === null || Array.isArray(file))) {
    throw new StartConfigError(fileName, "expected a JSON object");
  }
  const f = (file ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(f)) {
    if (!(FILE_FIELDS as readonly string[]).includes(k)) throw new StartConfigError(`${fileName}: ${k}`, `unknown field (known: ${FILE_FIELDS.join(", ")})`);
  }
  const pick = (k: FileField, flag: string): { name: string; v: unknown } | undefined =>
    flags[k] !== undefined ? { name: flag, v: flags[k] } : f[k] !== undefined ? { name: `${fileName}: ${k}`, v: f[k] } : undefined;
  const get = <T>(k: FileField, flag: string, parse: (name: string, v: unknown) => T, dflt: T): T => {
    const p = pick(k, flag);
    return p ? parse(p.name, p.v) : dflt;
  };
  const cert = get("cert", "--cert", text, null as string | null);
  const key = get("key", "--key", text, null as string | null);
  if ((cert === null) !== (key === null)) throw new StartConfigError(cert === null ? "--cert" : "--key", "--cert and --key go together");
  const cores = availableParallelism();
  return {
    listen: get("listen", "--listen", parseEndpoint, DEFAULT_LISTEN),
    backend: get("backend", "--backend", parseEndpoint, null as Endpoint | null),
    cert, key,
    shards: get("shards", "--shards", (n, v) => count(n, v, 256), Math.max(1, Math.min(4, cores - 1))),
    rsaWorkers: get("rsaWorkers", "--rsa-workers", (n, v) => count(n, v, 256), Math.max(1, Math.min(4, cores))),
    rsaProvider: get("rsaProvider", "--rsa-provider", (n, v) => {
      if (v !== "wasm" && v !== "native") throw new StartConfigError(n, `expected wasm or native, got ${JSON.stringify(v)}`);
      return v;
    }, "native" as RsaProviderName),
    stateDir: get("stateDir", "--state-dir", text, ".sslacc"),
    admin: get("admin", "--admin", (n, v) => (v === "off" ? null : parseEndpoint(n, v)), DEFAULT_ADMIN as Endpoint | null),
  };
}
