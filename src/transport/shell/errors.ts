// Errors of the clustered-TCP I/O shell, built by named factories (STYLE.md §9).

export class RelayError extends Error {
  override readonly name = "RelayError";
  constructor(
    readonly kind: "bind" | "closed" | "state" | "not-ready" | "no-tap",
    message: string,
  ) {
    super(message);
  }
}

export const relayError = {
  bind: (where: string, cause: unknown) =>
    new RelayError("bind", `tap relay: cannot bind the node's UDP socket on ${where}: ${cause instanceof Error ? cause.message : String(cause)}`),
  closed: () => new RelayError("closed", "tap relay: sendFrame on a closed port"),
  state: (why: string) => new RelayError("state", `socat relay: start() refused: ${why}`),
  noTap: (tap: string) => new RelayError("no-tap", `socat relay: no interface ${tap} (create the wire first: scripts/ctcp-wire.sh up, or ip tuntap add dev ${tap} mode tap)`),
  notReady: (tap: string, ms: number, stderr: string) =>
    new RelayError("not-ready", `socat relay: TAP ${tap} not carrying or relay port not bound after ${ms} ms (socat said: ${stderr})`),
} as const;
