// Tiny DOM helpers: the page is plain TypeScript and DOM, no framework.

/** An element with attributes and children (strings become text). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

/** A button that runs `onClick`, showing any error in `errorBox`. */
export function button(
  label: string,
  id: string,
  onClick: () => void | Promise<void>,
  errorBox: HTMLElement,
): HTMLButtonElement {
  const b = el("button", { id, type: "button" }, label);
  b.addEventListener("click", async () => {
    errorBox.textContent = "";
    try {
      await onClick();
    } catch (error) {
      errorBox.textContent = error instanceof Error ? error.message : String(error);
    }
  });
  return b;
}

/** Numbers as a learner reads them: 4 significant digits, at most `max` of them. */
export function formatValues(values: ArrayLike<number>, max = 8): string {
  const shown = Array.from(values)
    .slice(0, max)
    .map((v) => (Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString()));
  return `[${shown.join(", ")}${values.length > max ? ", …" : ""}]`;
}
