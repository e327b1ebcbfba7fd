// Shared test helpers for the TLS codec tests.
import assert from "node:assert/strict";
import { AlertDescription, alertDescriptionName, DecodeError } from "../../src/tls/codec/index.js";

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/**
 * Asserts that fn throws a DecodeError with the given alert whose message
 * names `field` (and matches `detail`, if given).
 */
export function throwsDecode(
  fn: () => unknown,
  alert: keyof typeof AlertDescription,
  field: string | RegExp,
  detail?: RegExp,
): DecodeError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof DecodeError, `expected DecodeError, got ${String(caught)}`);
  const e = caught;
  assert.equal(alertDescriptionName(e.alert), alert, `alert for "${e.message}"`);
  if (typeof field === "string") assert.equal(e.field, field, `field for "${e.message}"`);
  else assert.match(e.field, field);
  if (detail) assert.match(e.message, detail);
  return e;
}
