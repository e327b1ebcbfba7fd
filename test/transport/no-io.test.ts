// STYLE.md §1: the clustered-TCP engine, its link layer and the frame wire
// do no I/O, keep no time and use no crypto module of their own (the finger
// MAC is passed in, time is an argument, the hub's PRNG is seeded).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const TRANSPORT = fileURLToPath(new URL("../../../src/transport/", import.meta.url));
const FORBIDDEN = ["net", "dgram", "worker_threads", "timers", "timers/promises", "crypto", "fs", "child_process", "dgram-as-promised"];
const FOLDERS: [string, number][] = [
  ["tcp", 8],
  ["ether", 5],
  ["wire", 2],
  ["ctcp", 3],
];
const SRC = resolve(TRANSPORT, "..");
/** The node core may also use the relay, the TLS engine, the bucket hash and the byte helpers — all sans-I/O themselves. */
const CTCP_ALLOWED = [TRANSPORT, join(SRC, "relay"), join(SRC, "tls"), join(SRC, "node", "buckets.ts"), join(SRC, "bytes.ts")];

for (const [folder, min] of FOLDERS) {
  test(`src/transport/${folder} imports no I/O, timer or crypto module, nothing outside src/transport, and reads no clock`, () => {
    const dir = join(TRANSPORT, folder);
    const files = readdirSync(dir).filter((f) => f.endsWith(".ts"));
    assert.ok(files.length >= min);
    for (const f of files) {
      const src = readFileSync(join(dir, f), "utf8");
      for (const [, spec] of src.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)) {
        assert.ok(!FORBIDDEN.includes(spec!.replace(/^node:/, "")), `${f} imports ${spec}`);
        assert.ok(spec!.startsWith("./") || spec!.startsWith("../"), `${f} imports package ${spec}`);
        // The TCP engine stays self-contained; the link may use its codecs.
        const target = resolve(dir, spec!);
        if (folder === "ctcp") {
          assert.ok(CTCP_ALLOWED.some((a) => target.replace(/\.js$/, ".ts").startsWith(a)), `ctcp/${f} imports ${spec}`);
          continue;
        }
        const root = folder === "tcp" ? dir : TRANSPORT;
        assert.ok(target.startsWith(root), `${folder}/${f} imports ${spec} from outside ${folder === "tcp" ? "the engine" : "src/transport"}`);
      }
      assert.doesNotMatch(src, /\b(setTimeout|setInterval|setImmediate|queueMicrotask|Date\.now|performance\.now|Math\.random|process\.hrtime)\s*\(/, f);
      assert.doesNotMatch(src, /\bnew Date\s*\(/, f);
    }
  });
}
