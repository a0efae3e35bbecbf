// Pictures of what the first convolution learned, as plain SVG (a grid of grey squares per
// image, no plotting library needed): its 16 filters, and one digit with the 16 feature maps
// those filters make of it (after BatchNorm and ReLU, before pooling).

import { noGrad, type Tensor } from "@koubai/core";
import type { Sequential } from "@koubai/layers";

interface Tile {
  title: string;
  /** [rows, cols] values. */
  values: Tensor;
  /** Map value → grey: "signed" centres 0 at mid-grey (weights), "positive" maps 0 to white. */
  scale: "signed" | "positive";
}

function grey(value: number, max: number, scale: Tile["scale"]): string {
  const t = max === 0 ? 0 : value / max; // in [-1, 1] (signed) or [0, 1] (positive)
  const level = scale === "signed" ? Math.round(127.5 * (1 - t)) : Math.round(255 * (1 - t));
  const c = Math.max(0, Math.min(255, level)).toString(16).padStart(2, "0");
  return `#${c}${c}${c}`;
}

/** One SVG of tiles in a row-major grid, each tile a matrix drawn as squares of `cell` pixels. */
function tilesSvg(title: string, tiles: readonly Tile[], perRow: number, cell: number): string {
  const rows = tiles[0].values.shape[0];
  const cols = tiles[0].values.shape[1];
  const tileW = cols * cell;
  const tileH = rows * cell + 16;
  const gap = 10;
  // wide enough for the title too (about 8 px per character at 14 px)
  const width = Math.max(perRow * (tileW + gap) + gap, 8 * title.length + 2 * gap);
  const height = Math.ceil(tiles.length / perRow) * (tileH + gap) + 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11" shape-rendering="crispEdges">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${gap}" y="18" font-size="14">${title}</text>`,
  ];
  tiles.forEach((tile, k) => {
    const x0 = gap + (k % perRow) * (tileW + gap);
    const y0 = 30 + Math.floor(k / perRow) * (tileH + gap);
    const data = tile.values.toArray();
    let max = 0;
    for (const v of data) max = Math.max(max, Math.abs(v));
    parts.push(`<text x="${x0}" y="${y0 + 11}">${tile.title}</text>`);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const fill = grey(data[r * cols + c], max, tile.scale);
        if (fill === "#ffffff") continue;
        parts.push(
          `<rect x="${x0 + c * cell}" y="${y0 + 16 + r * cell}" width="${cell}" height="${cell}" fill="${fill}"/>`,
        );
      }
    }
    parts.push(
      `<rect x="${x0}" y="${y0 + 16}" width="${tileW}" height="${rows * cell}" fill="none" stroke="#999"/>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}

/** The first convolution's filters ([16, 1, 3, 3]), dark = positive, light = negative. */
export function filtersSvg(model: Sequential): string {
  const weight = (model.children()[0] as unknown as { weight: Tensor }).weight.detach();
  const tiles = Array.from({ length: weight.shape[0] }, (_, k) => ({
    title: `filter ${k}`,
    values: weight.select(0, k).select(0, 0),
    scale: "signed" as const,
  }));
  return tilesSvg(
    "First convolution: the 16 learned 3×3 filters (dark positive, light negative)",
    tiles,
    8,
    14,
  );
}

/** One digit ([1, 28, 28]) and its 16 feature maps after Conv-BatchNorm-ReLU, in eval mode. */
export function featureMapsSvg(model: Sequential, digit: Tensor, label: number): string {
  const maps = noGrad(() => {
    model.eval();
    let h = digit.unsqueeze(0);
    for (const layer of model.children().slice(0, 3)) h = layer.forward(h);
    model.train();
    return h.select(0, 0);
  });
  const tiles: Tile[] = [
    { title: `digit (${label})`, values: digit.select(0, 0), scale: "positive" },
  ];
  for (let k = 0; k < maps.shape[0]; k++)
    tiles.push({ title: `map ${k}`, values: maps.select(0, k), scale: "positive" });
  return tilesSvg(
    "One held-out digit and the 16 feature maps of the first Conv-BatchNorm-ReLU block",
    tiles,
    6,
    3,
  );
}
