// `sslacc start --transport ctcp` settings (docs/ctcp.md "The daemon on the
// wire"), validated field by field like the rest of src/node/config.ts: every
// error names the flag or file field at fault.
//
//   --transport ctcp --vip A.B.C.D[:PORT] --wire TAP [--vmac MAC]
//   [--wire-node-port N] [--wire-relay-port N] [--recovery eager|selective|selective-probe]
//
// The backend (`--backend`) must then be an IPv4 address on the wire: the
// relay's backend leg is our own TCP from the VIP (paper §4.3-4.5), not a
// kernel socket, so a host name or the built-in demo backend cannot serve.
import { macFromString, macToString, isGroupMac, type Mac } from "../transport/ether/mac.js";
import { ipv4FromString } from "../transport/tcp/ipv4.js";
import type { TapRelayConfig } from "../transport/wire/frame-wire.js";
import type { Endpoint } from "./buckets.js";

export const TRANSPORTS = ["kernel", "ctcp"] as const;
export type Transport = (typeof TRANSPORTS)[number];
export const RECOVERIES = ["eager", "selective", "selective-probe"] as const;
export type Recovery = (typeof RECOVERIES)[number];

export interface CtcpStartConfig {
  /** The cluster's virtual IP and the TLS port on it. */
  readonly vip: number;
  readonly vipText: string;
  readonly port: number;
  /** The virtual MAC (hub mode: every node sends from it, the master answers ARP with it). */
  readonly vmac: Mac;
  /** This node's TAP relay: the TAP (built by scripts/ctcp-wire.sh) and the two UDP ports on 127.0.0.1. */
  readonly wire: TapRelayConfig;
  readonly recovery: Recovery;
  readonly backend: { readonly addr: number; readonly port: number; readonly text: string };
}

/** File fields (camelCase) and their flags. */
export const CTCP_FIELDS = [
  ["transport", "--transport"],
  ["vip", "--vip"],
  ["vmac", "--vmac"],
  ["wire", "--wire"],
  ["wireNodePort", "--wire-node-port"],
  ["wireRelayPort", "--wire-relay-port"],
  ["recovery", "--recovery"],
] as const;
export type CtcpField = (typeof CTCP_FIELDS)[number][0];

export const DEFAULT_WIRE_NODE_PORT = 4330;
export const DEFAULT_WIRE_RELAY_PORT = 4331;
/** Socket buffers of the relay and the node: 4 MiB carried 20-35k frames/s to 3 nodes without loss here (NOTES.md). */
export const WIRE_BUFFER_BYTES = 4 << 20;
const TAP_NAME = /^[A-Za-z0-9_.-]{1,15}$/;

export class CtcpConfigError extends Error {
  override readonly name = "CtcpConfigError";
  constructor(readonly field: string, detail: string) {
    super(`${field}: ${detail}`);
  }
}

type Pick = (k: CtcpField, flag: string) => { readonly name: string; readonly v: unknown } | undefined;

function str(name: string, v: unknown): string {
  if (typeof v !== "string" || v.length === 0) throw new CtcpConfigError(name, `expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function ipv4(name: string, s: string): number {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(s) || s.split(".").some((o) => Number(o) > 255)) throw new CtcpConfigError(name, `expected an IPv4 address A.B.C.D, got ${JSON.stringify(s)}`);
  return ipv4FromString(s);
}

function udpPort(name: string, v: unknown): number {
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 65535) throw new CtcpConfigError(name, `expected a UDP port 1..65535, got ${JSON.stringify(v)}`);
  return n;
}

/** A unicast, locally administered MAC derived from the VIP: 02:53:53 (“SS”) + its last three octets. */
export function defaultVmac(vip: number): Mac {
  return 0x02_53_53_00_00_00 + (vip & 0xffffff);
}

/**
 * The ctcp settings, or null for the kernel transport. A ctcp flag without
 * `--transport ctcp` is a mistake (named), not silently ignored.
 */
export function ctcpConfig(pick: Pick, backend: { readonly endpoint: Endpoint; readonly field: string } | null): CtcpStartConfig | null {
  const t = pick("transport", "--transport");
  const transport = t === undefined ? "kernel" : str(t.name, t.v);
  if (!(TRANSPORTS as readonly string[]).includes(transport)) throw new CtcpConfigError(t!.name, `expected one of ${TRANSPORTS.join(", ")}, got ${JSON.stringify(transport)}`);
  const given = CTCP_FIELDS.filter(([k]) => k !== "transport").map(([k, flag]) => ({ k, at: pick(k, flag) }));
  if (transport === "kernel") {
    const stray = given.find((g) => g.at !== undefined);
    if (stray) throw new CtcpConfigError(stray.at!.name, "is a clustered-TCP setting and needs --transport ctcp");
    return null;
  }
  const at = (k: CtcpField) => given.find((g) => g.k === k)!.at;

  const vipAt = at("vip");
  if (!vipAt) throw new CtcpConfigError("--vip", "required with --transport ctcp (the cluster's virtual IP, A.B.C.D[:PORT])");
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(str(vipAt.name, vipAt.v));
  if (!m) throw new CtcpConfigError(vipAt.name, `expected A.B.C.D or A.B.C.D:PORT, got ${JSON.stringify(vipAt.v)}`);
  const vip = ipv4(vipAt.name, m[1]!);
  const port = m[2] === undefined ? 443 : udpPort(vipAt.name, m[2]);
  if (vip === 0 || vip >>> 28 >= 14) throw new CtcpConfigError(vipAt.name, `${m[1]} is not a unicast address`);

  const wireAt = at("wire");
  if (!wireAt) throw new CtcpConfigError("--wire", "required with --transport ctcp (this node's TAP, e.g. from scripts/ctcp-wire.sh up)");
  const tap = str(wireAt.name, wireAt.v);
  if (!TAP_NAME.test(tap)) throw new CtcpConfigError(wireAt.name, `expected an interface name (1-15 of A-Z a-z 0-9 _ . -), got ${JSON.stringify(tap)}`);

  const vmacAt = at("vmac");
  let vmac = defaultVmac(vip);
  if (vmacAt) {
    const s = str(vmacAt.name, vmacAt.v);
    if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(s)) throw new CtcpConfigError(vmacAt.name, `expected a MAC aa:bb:cc:dd:ee:ff, got ${JSON.stringify(s)}`);
    vmac = macFromString(s);
    // NOTES.md: hub mode needs a unicast virtual MAC (a multicast one needs another link setup).
    if (isGroupMac(vmac)) throw new CtcpConfigError(vmacAt.name, `${macToString(vmac)} is a group address; the hub-mode wire needs a unicast MAC`);
  }

  const nodePortAt = at("wireNodePort");
  const relayPortAt = at("wireRelayPort");
  const nodePort = nodePortAt ? udpPort(nodePortAt.name, nodePortAt.v) : DEFAULT_WIRE_NODE_PORT;
  const relayPort = relayPortAt ? udpPort(relayPortAt.name, relayPortAt.v) : DEFAULT_WIRE_RELAY_PORT;
  if (nodePort === relayPort) throw new CtcpConfigError(relayPortAt?.name ?? nodePortAt?.name ?? "--wire-relay-port", `the node and the relay need different UDP ports (both ${nodePort})`);

  const recAt = at("recovery");
  const recovery = recAt ? str(recAt.name, recAt.v) : "eager";
  if (!(RECOVERIES as readonly string[]).includes(recovery)) throw new CtcpConfigError(recAt!.name, `expected one of ${RECOVERIES.join(", ")}, got ${JSON.stringify(recovery)}`);

  if (backend === null) throw new CtcpConfigError("--backend", "required with --transport ctcp (an IPv4 address on the wire; the built-in demo backend listens on kernel sockets)");
  const backendAddr = ipv4(backend.field, backend.endpoint.address);

  return {
    vip,
    vipText: m[1]!,
    port,
    vmac,
    wire: { tap, host: "127.0.0.1", nodePort, relayPort, bufferBytes: WIRE_BUFFER_BYTES },
    recovery: recovery as Recovery,
    backend: { addr: backendAddr, port: backend.endpoint.port, text: `${backend.endpoint.address}:${backend.endpoint.port}` },
  };
}
