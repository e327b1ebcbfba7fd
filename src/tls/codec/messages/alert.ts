// Alert (RFC 5246 §7.2): its own content type. Parsed alerts go to the
// engine (close_notify ends the connection cleanly, anything fatal tears it
// down); written alerts carry DecodeError.alert to the peer.
//
//   struct { AlertLevel level; AlertDescription description; } Alert;
//
// An alert record holds exactly one alert: fragmenting or coalescing alerts
// has no use, and RFC 8446 §5.1 forbids both, so we refuse them here too.

import { AlertLevel, type AlertDescription } from "../alerts.js";
import { illegalValue, wrongLength } from "../errors.js";
import { Reader } from "../reader.js";
import type { Writer } from "../writer.js";

export interface Alert {
  readonly level: AlertLevel;
  /**
   * Kept as a number: RFC 5246 §7.2 lets a peer send descriptions we have
   * never heard of, and the engine still has to react to the level.
   */
  readonly description: AlertDescription | number;
}

export function parseAlert(body: Uint8Array): Alert {
  if (body.length !== 2) throw wrongLength("Alert", body.length, 2);
  const r = new Reader(body, "Alert");
  const level = r.u8("level");
  if (level !== AlertLevel.warning && level !== AlertLevel.fatal) {
    throw illegalValue("Alert.level", `unknown level ${level}`);
  }
  return { level, description: r.u8("description") };
}

export function writeAlert(w: Writer, m: Alert): void {
  w.u8(m.level).u8(m.description);
}
