/**
 * marathon-lb's HAPROXY_HEAD loads its Lua from /marathon-lb/, where only its image puts it. Outside
 * the image the bundled copies (config/lua) are used instead, and the choice is logged: for the
 * built-in template by --lua-dir, for a user's template override (which cannot follow --lua-dir,
 * since marathon-lb's own text hard-codes /marathon-lb/) by rewriting its `lua-load` lines.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The Lua files marathon-lb's HAPROXY_HEAD loads (shipped in config/lua). */
export const MARATHON_LB_LUA = ['getpids.lua', 'getconfig.lua', 'getmaps.lua', 'signalmlb.lua'] as const;

export type Exists = (file: string) => boolean;
const fileExists: Exists = (f) => fs.existsSync(f);

export interface LuaDirChoice {
  readonly dir: string;
  /** Set when the bundled directory replaces the asked one. */
  readonly note?: string;
}

/** `asked` when it holds marathon-lb's Lua files, else `bundled` when that does (with a note), else `asked`. */
export function chooseLuaDir(asked: string, bundled: string, exists: Exists = fileExists): LuaDirChoice {
  const missing = MARATHON_LB_LUA.filter((f) => !exists(path.join(asked, f)));
  if (missing.length === 0 || path.resolve(asked) === path.resolve(bundled)) return { dir: asked };
  if (!MARATHON_LB_LUA.every((f) => exists(path.join(bundled, f)))) return { dir: asked };
  return {
    dir: bundled,
    note: `Lua files not found in ${asked} (${missing.join(', ')}): using the bundled ones in ${bundled}`,
  };
}

const LUA_LOAD = /^(\s*lua-load(?:-per-thread)?\s+)(\S+\.lua)(?=\s|$)/gm;

export interface Rewritten {
  readonly text: string;
  /** `from → to` for each path replaced. */
  readonly replaced: readonly string[];
}

/**
 * A template text whose `lua-load` lines name one of marathon-lb's Lua files at a path where it
 * does not exist (typically /marathon-lb/getpids.lua) gets `luaDir`'s copy instead, when that one
 * exists. A user's own Lua files, and files that do exist, are left as written.
 */
export function rewriteLuaLoads(text: string, luaDir: string, exists: Exists = fileExists): Rewritten {
  const replaced: string[] = [];
  const out = text.replace(LUA_LOAD, (line, lead: string, file: string) => {
    const name = path.posix.basename(file);
    const local = path.join(luaDir, name);
    if (
      /[{}]/.test(file) ||
      !(MARATHON_LB_LUA as readonly string[]).includes(name) ||
      exists(file) ||
      !exists(local) ||
      file === local
    )
      return line;
    replaced.push(`${file} → ${local}`);
    return `${lead}${local}`;
  });
  return { text: out, replaced };
}
