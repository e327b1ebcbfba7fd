// STYLE.md §1: the cluster protocol core does no I/O, keeps no time and
// touches crypto only through the provider record. channel.ts (the UDP
// shell) and run-node.ts (reads the key file, starts the channel) are the
// exceptions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const DIR = fileURLToPath(new URL("../../../src/cluster/", import.meta.url));
const SHELL = ["channel.ts", "run-node.ts"];
const FORBIDDEN = ["net", "dgram", "worker_threads", "timers", "timers/promises", "crypto", "fs", "child_process", "dgram-as-promised"];

test("src/cluster (but channel.ts, run-node.ts) imports no I/O, timer or crypto module and reads no clock", () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith(".ts") && !SHELL.includes(f));
  assert.ok(files.length >= 9);
  for (const f of files) {
    const src = readFileSync(join(DIR, f), "utf8");
    for (const [, spec] of src.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
      assert.ok(!FORBIDDEN.includes(spec!.replace(/^node:/, "")), `${f} imports ${spec}`);
    }
    assert.doesNotMatch(src, /\b(setTimeout|setInterval|setImmediate|Date\.now|performance\.now|Math\.random)\s*\(/, f);
  }
});
