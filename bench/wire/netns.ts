// The real wire for benches and tests (docs/ctcp.md "The real wire"): the
// prerequisites (root, /dev/net/tun, socat, ip, curl), a wire built and
// removed with scripts/ctcp-wire.sh under a unique id, one node's relay
// (socat + UDP FramePort + FrameDriver), and the HTTP backend in the backend
// namespace (bench/wire/backend.mjs). The tests' skip-or-fail rule is in
// test/helpers/netns.ts.
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { FrameDriver, type FrameMachine } from "../../src/transport/shell/frame-driver.js";
import { SocatRelay, freeUdpPort, openUdpFramePort, type UdpFramePort } from "../../src/transport/shell/tap-relay.js";

const BACKEND = fileURLToPath(new URL("../../../bench/wire/backend.mjs", import.meta.url));
export const WIRE_SCRIPT = fileURLToPath(new URL("../../../scripts/ctcp-wire.sh", import.meta.url));

/** Why this machine cannot run real-wire tests, or null if it can. */
export function wireMissing(tools: readonly string[] = ["socat", "ip", "curl"]): string | null {
  if (process.getuid?.() !== 0) return "not root (namespaces, bridges and TAPs need root)";
  if (!existsSync("/dev/net/tun")) return "/dev/net/tun is missing (no TAP devices)";
  for (const t of tools) if (spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0) return `${t} is not installed${t === "socat" ? " (apt-get install -y socat)" : ""}`;
  return null;
}

export interface Wire {
  readonly id: string;
  readonly bridge: string;
  readonly taps: string[];
  readonly clientNs: string;
  readonly backendNs: string;
  readonly clientIp: string;
  readonly backendIp: string;
  readonly vip: string;
  down(): void;
}

let serial = 0;

/** A fresh wire for `nodes` nodes; its id is random (other test runs and a demo may share the machine). */
export function wireUp(nodes: number, subnet = "10.203.0"): Wire {
  const id = `t${randomBytes(4).readUInt32BE(0).toString(36).padStart(6, "0").slice(0, 6)}${(serial++ % 36).toString(36)}`;
  const out = execFileSync(WIRE_SCRIPT, ["up", "--id", id, "--nodes", String(nodes), "--subnet", subnet], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const kv = new Map(out.trim().split("\n").map((l) => l.split("=", 2) as [string, string]));
  const get = (k: string): string => {
    const v = kv.get(k);
    if (v === undefined) throw new Error(`ctcp-wire.sh printed no ${k}: ${out}`);
    return v;
  };
  return {
    id,
    bridge: get("BRIDGE"),
    taps: get("TAPS").split(" "),
    clientNs: get("CLIENT_NS"),
    backendNs: get("BACKEND_NS"),
    clientIp: get("CLIENT_IP"),
    backendIp: get("BACKEND_IP"),
    vip: get("VIP"),
    down: () => void execFileSync(WIRE_SCRIPT, ["down", "--id", id], { stdio: "ignore" }),
  };
}

export interface NodeOnWire {
  readonly relay: SocatRelay;
  readonly port: UdpFramePort;
  readonly driver: FrameDriver;
  stop(): Promise<void>;
}

/** Run `machine` on `tap`: a UDP FramePort, its socat relay, the driver. */
export async function nodeOnWire(tap: string, machine: FrameMachine): Promise<NodeOnWire> {
  const host = "127.0.0.1";
  const relayCfg = { tap, host, relayPort: await freeUdpPort(host), nodePort: await freeUdpPort(host), bufferBytes: 4 << 20 };
  const driver = new FrameDriver(machine);
  const port = await openUdpFramePort(relayCfg, driver);
  const relay = new SocatRelay({ relay: relayCfg, restartMinMs: 50 });
  try {
    await relay.start();
  } catch (e) {
    port.close();
    throw e;
  }
  driver.attach(port);
  return {
    relay,
    port,
    driver,
    async stop() {
      driver.close();
      await relay.stop();
      port.close();
    },
  };
}

export interface NsBackend {
  readonly requests: string[];
  stop(): Promise<void>;
}

/** The fixture HTTP server on 0.0.0.0:port in the backend namespace. */
export async function startNsBackend(w: Wire, port: number): Promise<NsBackend> {
  const child: ChildProcess = spawn("ip", ["netns", "exec", w.backendNs, process.execPath, BACKEND, String(port)], { stdio: ["pipe", "pipe", "inherit"] });
  const requests: string[] = [];
  let buf = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (s: string) => {
      buf += s;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line === "READY") resolve();
        else if (line.startsWith("REQ ")) requests.push(line.slice(4));
      }
    });
    child.once("exit", (code) => reject(new Error(`backend exited ${code} before READY`)));
  });
  return {
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.stdin!.end(); // the backend exits at EOF (it may be a grandchild of `ip netns exec`)
        child.kill("SIGTERM");
      }),
  };
}
