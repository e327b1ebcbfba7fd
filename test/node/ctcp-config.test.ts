// `--transport ctcp` settings: defaults, and every bad value rejected with
// the flag (or file field) that carried it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ctcpConfig, CtcpConfigError, defaultVmac, CTCP_FIELDS, type CtcpField } from "../../src/node/ctcp-config.js";
import { macToString } from "../../src/transport/ether/mac.js";
import { ipv4FromString } from "../../src/transport/tcp/ipv4.js";

type Flags = Partial<Record<CtcpField, unknown>>;
const backend = { endpoint: { address: "10.203.0.20", port: 8080 }, field: "--backend" };

function parse(flags: Flags, file: Flags = {}, be: typeof backend | null = backend) {
  const flagOf = new Map<string, string>(CTCP_FIELDS.map(([k, f]) => [k, f]));
  return ctcpConfig((k, flag) => {
    assert.equal(flag, flagOf.get(k));
    return flags[k] !== undefined ? { name: flag, v: flags[k] } : file[k] !== undefined ? { name: `cfg.json: ${k}`, v: file[k] } : undefined;
  }, be);
}

function rejects(flags: Flags, field: string, detail: RegExp, file: Flags = {}, be: typeof backend | null = backend): void {
  assert.throws(() => parse(flags, file, be), (e: unknown) => {
    assert.ok(e instanceof CtcpConfigError, String(e));
    assert.equal(e.field, field, e.message);
    assert.match(e.message, detail);
    return true;
  });
}

test("ctcp config: kernel transport by default; ctcp with the minimum flags and its defaults", () => {
  assert.equal(parse({}), null);
  assert.equal(parse({ transport: "kernel" }), null);
  const c = parse({ transport: "ctcp", vip: "10.203.0.100", wire: "demot0" })!;
  assert.equal(c.vip, ipv4FromString("10.203.0.100"));
  assert.equal(c.port, 443);
  assert.equal(macToString(c.vmac), "02:53:53:cb:00:64");
  assert.equal(c.vmac, defaultVmac(c.vip));
  assert.deepEqual(c.wire, { tap: "demot0", host: "127.0.0.1", nodePort: 4330, relayPort: 4331, bufferBytes: 4 << 20 });
  assert.equal(c.recovery, "eager");
  assert.deepEqual(c.backend, { addr: ipv4FromString("10.203.0.20"), port: 8080, text: "10.203.0.20:8080" });
  const d = parse({ transport: "ctcp", vip: "10.1.2.3:8443", wire: "t1", vmac: "02:00:5E:10:00:01", wireNodePort: "5000", wireRelayPort: 5001, recovery: "selective" })!;
  assert.equal(d.port, 8443);
  assert.equal(macToString(d.vmac), "02:00:5e:10:00:01");
  assert.equal(d.wire.nodePort, 5000);
  assert.equal(d.wire.relayPort, 5001);
  assert.equal(d.recovery, "selective");
  // A file may carry it all.
  assert.equal(parse({}, { transport: "ctcp", vip: "10.1.2.3", wire: "t1" })!.wire.tap, "t1");
});

test("ctcp config: every bad value names its flag or file field", () => {
  const base = { transport: "ctcp", vip: "10.203.0.100", wire: "demot0" };
  rejects({ transport: "dpdk" }, "--transport", /kernel, ctcp/);
  rejects({ vip: "10.0.0.1" }, "--vip", /needs --transport ctcp/);
  rejects({}, "cfg.json: wire", /needs --transport ctcp/, { wire: "t0" });
  rejects({ transport: "ctcp", wire: "t0" }, "--vip", /required/);
  rejects({ ...base, vip: "10.0.0" }, "--vip", /IPv4/);
  rejects({ ...base, vip: "10.0.0.256" }, "--vip", /IPv4/);
  rejects({ ...base, vip: "224.0.0.1" }, "--vip", /unicast/);
  rejects({ ...base, vip: "10.0.0.1:70000" }, "--vip", /1\.\.65535/);
  rejects({ ...base, vip: "host:443" }, "--vip", /IPv4/);
  rejects({ transport: "ctcp", vip: "10.0.0.1" }, "--wire", /required/);
  rejects({ ...base, wire: "a,b=c" }, "--wire", /interface name/);
  rejects({ ...base, wire: "x".repeat(16) }, "--wire", /interface name/);
  rejects({ ...base, vmac: "02:00:5e:10:00" }, "--vmac", /aa:bb/);
  rejects({ ...base, vmac: "01:00:5e:10:00:01" }, "--vmac", /group address/);
  rejects({ ...base, wireNodePort: "0" }, "--wire-node-port", /1\.\.65535/);
  rejects({ ...base, wireRelayPort: "4330" }, "--wire-relay-port", /different/);
  rejects({ ...base, recovery: "lazy" }, "--recovery", /eager, selective/);
  rejects(base, "--backend", /required/, {}, null);
  rejects(base, "--backend", /IPv4/, {}, { endpoint: { address: "backend.example", port: 80 }, field: "--backend" });
});
