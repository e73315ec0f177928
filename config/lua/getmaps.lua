-- marathon-lb: GET /_haproxy_getvhostmap and /_haproxy_getappmap
-- (HAProxy services `lua.getvhostmap` and `lua.getappmap`)
--
-- Answers with the current content of the map files marathon-lb writes with --haproxy-map, read on
-- every request (they change without a reload):
--   getvhostmap -> domain2backend.map,  getappmap -> app2backend.map
--   200, content-type text/plain, body = the file's bytes, or an empty body when the file does not
--   exist (marathon-lb not run with --haproxy-map) - the same answers marathon-lb always gave.
--
-- Where the map files are:
--   1. env MARATHON_LB_MAP_DIR, when set;
--   2. otherwise the directory of the HAProxy config file, which is found as in getconfig.lua:
--      env MARATHON_LB_HAPROXY_CONFIG, then env HAPROXY_CFGFILES (first entry), then the argument
--      after `-f` in /proc/self/cmdline, then /marathon-lb/haproxy.cfg.
--   A config path without a directory means HAProxy's working directory.
--
-- Everything is local: all lua-load files share one Lua state, so globals would collide.

local DEFAULT_CONFIG = "/marathon-lb/haproxy.cfg"
local SEP = package.config:sub(1, 1)

local function nonempty(s)
  if s ~= nil and s ~= "" then return s end
  return nil
end

local function config_from_cmdline()
  local f = io.open("/proc/self/cmdline", "rb")
  if f == nil then return nil end
  local cmdline = f:read("a") or ""
  f:close()
  local want = false
  for arg in cmdline:gmatch("[^%z]+") do
    if want then return arg end
    want = (arg == "-f")
  end
  return nil
end

local function config_path()
  return nonempty(os.getenv("MARATHON_LB_HAPROXY_CONFIG"))
    or nonempty((os.getenv("HAPROXY_CFGFILES") or ""):match("^([^;]+)"))
    or config_from_cmdline()
    or DEFAULT_CONFIG
end

-- Directory to prefix map file names with, ending in the path separator (or "" = cwd).
local function map_dir()
  local dir = nonempty(os.getenv("MARATHON_LB_MAP_DIR"))
  if dir ~= nil then
    if dir:sub(-1) ~= SEP then dir = dir .. SEP end
    return dir
  end
  return config_path():match("^(.*" .. SEP .. ")") or ""
end

local function read_or_empty(path)
  local f = io.open(path, "rb")
  if f == nil then return "" end
  local text = f:read("a") or ""
  f:close()
  return text
end

local function serve_map(filename)
  return function(applet)
    local body = read_or_empty(map_dir() .. filename)
    applet:set_status(200)
    applet:add_header("content-length", tostring(#body))
    applet:add_header("content-type", "text/plain")
    applet:start_response()
    applet:send(body)
  end
end

core.register_service("getvhostmap", "http", serve_map("domain2backend.map"))
core.register_service("getappmap", "http", serve_map("app2backend.map"))
