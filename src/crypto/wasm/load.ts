// Loads a module of the WASM crypto core (build/*.wasm) once per thread.
//
// The core is built with the stub runtime: no allocation, pointers only. The
// glue modules beside this file (rsa.ts, sym.ts) wrap the raw exports in
// typed functions over fixed scratch buffers (STYLE.md §10).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { instantiateSync } from "@assemblyscript/loader";

/** Raised when the core calls `abort` (an assertion inside WASM failed). */
export class WasmAbort extends Error {
  override readonly name = "WasmAbort";
}

/** Where build/ is, from dist/src/crypto/wasm/ or src/crypto/wasm/. */
function wasmPath(name: string): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const root = here.includes("/dist/") ? new URL("../../../../", import.meta.url) : new URL("../../../", import.meta.url);
  return fileURLToPath(new URL(`build/${name}.wasm`, root));
}

export interface CoreModule<E> {
  exports: E;
  memory: WebAssembly.Memory;
  /** A view of the whole linear memory; the stub runtime never grows it. */
  heap: Uint8Array;
  /** Start of the scratch region the glue lays out data in. */
  scratch: number;
  scratchSize: number;
}

interface ScratchExports {
  scratchPtr(): number;
  scratchSize(): number;
}

const cache = new Map<string, CoreModule<unknown>>();

export function loadCore<E>(name: "rsa" | "sym"): CoreModule<E & ScratchExports> {
  const hit = cache.get(name);
  if (hit) return hit as CoreModule<E & ScratchExports>;
  let memoryForAbort: WebAssembly.Memory | undefined;
  const imports = {
    env: {
      abort(msgPtr: number, filePtr: number, line: number, column: number): never {
        const str = (p: number) => (memoryForAbort && p ? readAsString(memoryForAbort, p) : "?");
        throw new WasmAbort(`${name}.wasm aborted: ${str(msgPtr)} at ${str(filePtr)}:${line}:${column}`);
      },
    },
  };
  const mod = instantiateSync<Record<string, unknown>>(readFileSync(wasmPath(name)), imports);
  const memory = mod.exports.memory as WebAssembly.Memory;
  memoryForAbort = memory;
  const exports = mod.exports as unknown as E & ScratchExports;
  const core: CoreModule<E & ScratchExports> = {
    exports,
    memory,
    heap: new Uint8Array(memory.buffer),
    scratch: exports.scratchPtr(),
    scratchSize: exports.scratchSize(),
  };
  cache.set(name, core);
  return core;
}

/** AssemblyScript strings: UTF-16LE, byte length stored 4 bytes before the data. */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  const bytes = new Uint8Array(memory.buffer);
  const len = new Uint32Array(memory.buffer, ptr - 4, 1)[0]!;
  return Buffer.from(bytes.subarray(ptr, ptr + len)).toString("utf16le");
}
