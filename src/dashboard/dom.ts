/*
 * A tiny element builder. Everything from Marathon or HAProxy goes in as text (textContent or an
 * attribute value), never as HTML.
 */

export type Child = Node | string | null | undefined | false | readonly Child[];
export type Props = Readonly<Record<string, string | undefined>> & { readonly text?: string; readonly cls?: string };

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined) continue;
    if (k === 'text') e.textContent = v;
    else if (k === 'cls') e.className = v;
    else e.setAttribute(k, v);
  }
  append(e, children);
  return e;
}

function append(parent: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (typeof c === 'string') parent.appendChild(document.createTextNode(c));
    else if (c instanceof Node) parent.appendChild(c);
    else append(parent, c);
  }
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`dashboard: no #${id} in the page`);
  return e as T;
}

export function replace(id: string, nodes: readonly Node[]): void {
  byId(id).replaceChildren(...nodes);
}
