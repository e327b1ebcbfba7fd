// STYLE.md §1: the clustered-TCP engine does no I/O, keeps no time and uses
// no crypto module of its own (the finger MAC is passed in).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const DIR = fileURLToPath(new URL("../../../src/transport/tcp/", import.meta.url));
const FORBIDDEN = ["net", "dgram", "worker_threads", "timers", "timers/promises", "crypto", "fs", "child_process", "dgram-as-promised"];

test("src/transport/tcp imports no I/O, timer or crypto module and reads no clock", () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith(".ts"));
  assert.ok(files.length >= 8);
  for (const f of files) {
    const src = readFileSync(join(DIR, f), "utf8");
    for (const [, spec] of src.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
      assert.ok(!FORBIDDEN.includes(spec!.replace(/^node:/, "")), `${f} imports ${spec}`);
      assert.ok(spec!.startsWith("./"), `${f} imports ${spec} from outside the engine`);
    }
    assert.doesNotMatch(src, /\b(setTimeout|setInterval|setImmediate|Date\.now|performance\.now|Math\.random)\s*\(/, f);
  }
});
