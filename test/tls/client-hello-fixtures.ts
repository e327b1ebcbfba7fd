// Loads the real ClientHellos captured by scripts/capture-client-hellos.mjs
// (hex files with "#" comment headers) for the fixture and fuzz tests.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// Tests run from dist/test/tls; the fixtures stay in the source tree.
export const FIXTURE_DIR = fileURLToPath(new URL("../../../test/fixtures/client-hellos/", import.meta.url));

export interface Fixture {
  readonly name: string;
  /** The comment header (command, client version). */
  readonly header: string;
  /** The records as the client sent them. */
  readonly bytes: Uint8Array;
}

export function loadFixtures(): Fixture[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith(".hex"))
    .sort()
    .map((file) => {
      const lines = readFileSync(FIXTURE_DIR + file, "utf8").split("\n");
      const header = lines.filter((l) => l.startsWith("#")).join("\n");
      const hex = lines.filter((l) => !l.startsWith("#")).join("").replace(/\s+/g, "");
      return { name: file.replace(/\.hex$/, ""), header, bytes: Uint8Array.from(Buffer.from(hex, "hex")) };
    });
}
