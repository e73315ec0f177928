/**
 * JSON text (JSON.stringify's, or winston's) with each lone surrogate replaced by U+FFFD. JSON.stringify
 * writes one as an escape (`\ud800`), which strict readers refuse (Rust's serde_json, so log shippers
 * such as Vector): an app id from Marathon with one made every log line and /status that quoted it
 * unreadable to them (an audit). A surrogate pair is written as its character, never escaped, so
 * every such escape is a lone one, unless its backslash is itself escaped (`\\ud800`, text).
 */
const LONE_SURROGATE_ESCAPE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/gi;

export function wellFormedJson(json: string): string {
  return json.includes('\\u') ? json.replace(LONE_SURROGATE_ESCAPE, '$1\ufffd') : json;
}
