/*
 * A tiny element builder. Everything from Marathon or HAProxy goes in as text (textContent or an
 * attribute value), never as HTML, and with its invisible characters shown (`shown`).
 */

/**
 * Bidirectional and zero-width marks (Unicode's Cf), other control characters but tab and line feed:
 * written as `\u202e`. A right-to-left override in an app id or a label showed the row's text in
 * another order than it has (found by an audit), and a zero-width space made two names look alike.
 */
const HIDDEN = /[\p{Cf}\u2028\u2029]|(?![\t\n])\p{Cc}/gu;
export const shown = (text: string): string =>
  text.replace(HIDDEN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

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
    if (k === 'text') e.textContent = shown(v);
    else if (k === 'cls') e.className = v;
    else e.setAttribute(k, shown(v));
  }
  append(e, children);
  return e;
}

function append(parent: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (typeof c === 'string') parent.appendChild(document.createTextNode(shown(c)));
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
