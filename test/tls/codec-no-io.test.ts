// STYLE.md §1 and the codec brief: nothing under src/tls does I/O, keeps
// time or touches crypto directly (crypto comes through a provider record).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SRC_TLS = fileURLToPath(new URL("../../../src/tls/", import.meta.url));
const FORBIDDEN = ["net", "dgram", "worker_threads", "timers", "timers/promises", "crypto", "fs", "child_process", "tls"];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : name.endsWith(".ts") ? [path] : [];
  });
}

test("src/tls imports no I/O, timer or crypto module and uses no timers", () => {
  const files = tsFiles(SRC_TLS);
  assert.ok(files.length > 10);
  for (const file of files) {
    const src = readFileSync(file, "utf8");
    for (const [, spec] of src.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
      const bare = spec!.replace(/^node:/, "");
      assert.ok(!FORBIDDEN.includes(bare), `${file} imports ${spec}`);
    }
    assert.doesNotMatch(src, /\b(setTimeout|setInterval|setImmediate|Date\.now|performance\.now)\s*\(/, file);
  }
});
