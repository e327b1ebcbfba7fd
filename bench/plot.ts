// Plots for the benches: a vega-lite spec compiled by vega-lite, rendered to
// SVG by vega (headless, no browser) and rasterised to PNG by resvg. Every
// bench that draws goes through `writePlot`, so all figures share one look
// and one font (DejaVu Sans, installed with the system's fonts).
import { writeFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { Resvg } from "@resvg/resvg-js";

const FONT = "DejaVu Sans";
const FONT_DIR = "/usr/share/fonts/truetype";

/** One point of a line chart: `series` names the line (its colour). */
export interface Point {
  readonly x: number;
  readonly y: number;
  readonly series: string;
  /** "projected" points (a model, N × one node) are drawn dashed, without marks; default "measured". */
  readonly kind?: "measured" | "projected";
}

export interface LineChart {
  readonly title: string;
  readonly subtitle?: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly points: readonly Point[];
  /** Log scales (base 2), e.g. a projection to 64 nodes. */
  readonly xLog?: boolean;
  readonly yLog?: boolean;
}

/**
 * The vega-lite spec of a multi-series line chart: one colour per series,
 * measured points solid with marks, projected ones dashed.
 */
export function lineChartSpec(c: LineChart): TopLevelSpec {
  const scale = (log: boolean | undefined, zero: boolean) => (log ? { type: "log" as const, base: 2 } : { zero });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: c.subtitle === undefined ? c.title : { text: c.title, subtitle: c.subtitle },
    width: 560,
    height: 340,
    background: "white",
    config: { font: FONT },
    data: { values: c.points.map((p) => ({ ...p, kind: p.kind ?? "measured" })) },
    encoding: {
      x: { field: "x", type: "quantitative", title: c.xTitle, scale: scale(c.xLog, false), axis: { tickMinStep: 1 } },
      y: { field: "y", type: "quantitative", title: c.yTitle, scale: scale(c.yLog, true) },
      color: { field: "series", type: "nominal", title: null, legend: { orient: "top-left" } },
    },
    layer: [
      {
        mark: { type: "line" },
        encoding: {
          strokeDash: { field: "kind", type: "nominal", title: null, scale: { domain: ["measured", "projected"], range: [[1, 0], [6, 4]] }, legend: { orient: "bottom-right" } },
        },
      },
      { transform: [{ filter: "datum.kind === 'measured'" }], mark: { type: "point", filled: true, size: 50 } },
    ],
  };
}

/** SVG text of a vega-lite spec. */
export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG bytes of an SVG, text in the system's DejaVu fonts. */
export function toPng(svg: string): Buffer {
  const r = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: 2 },
    font: { loadSystemFonts: false, fontDirs: [FONT_DIR], defaultFontFamily: FONT, sansSerifFamily: FONT },
  });
  return r.render().asPng();
}

/**
 * Writes `<base>.svg` and `<base>.png` (a `.svg`/`.png` suffix on `path` is
 * dropped first) and returns the two paths.
 */
export async function writePlot(path: string, spec: TopLevelSpec): Promise<{ svg: string; png: string }> {
  const base = path.replace(/\.(svg|png)$/i, "");
  const svg = await toSvg(spec);
  mkdirSync(dirname(base), { recursive: true });
  const out = { svg: `${base}.svg`, png: `${base}.png` };
  writeFileSync(out.svg, svg);
  writeFileSync(out.png, toPng(svg));
  return out;
}
