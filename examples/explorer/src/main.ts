// The Backprop Explorer: four views, one tab each.

import { batchNormLabView } from "./batchnorm-lab.js";
import { el } from "./dom.js";
import { expressionView } from "./expression-view.js";
import { networkView } from "./network-view.js";
import { yourLayerView } from "./your-layer-view.js";

const views: [string, string, () => HTMLElement][] = [
  ["expression", "Expression", expressionView],
  ["network", "Network", networkView],
  ["batchnorm", "BatchNorm lab", batchNormLabView],
  ["your-layer", "Your layer", yourLayerView],
];

const app = document.getElementById("app") as HTMLElement;
const tabs = el("nav", {});
const panes = views.map(([id, label, make]) => {
  const pane = make();
  pane.hidden = true;
  const tab = el("button", { id: `tab-${id}`, type: "button" }, label);
  tab.addEventListener("click", () => show(id));
  tabs.append(tab);
  return [id, pane] as const;
});
function show(id: string): void {
  for (const [paneId, pane] of panes) pane.hidden = paneId !== id;
  for (const b of Array.from(tabs.querySelectorAll("button")))
    b.classList.toggle("active", b.id === `tab-${id}`);
}
app.append(tabs, ...panes.map(([, p]) => p));
show(new URLSearchParams(location.search).get("view") ?? "expression");
