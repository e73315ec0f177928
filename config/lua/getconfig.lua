-- marathon-lb: GET /_haproxy_getconfig  (HAProxy service `lua.getconfig`)
--
-- Answers with the text of the HAProxy config file, read at each request: the controller rewrites
-- it behind the servers it adds and removes through the runtime API (no reload), so the text read
-- when HAProxy set up its Lua state would list servers it no longer runs. That text is the answer
-- when the file cannot be read now:
--   200, content-type text/plain, body = the file's bytes
--   500, content-type text/plain, one line naming the file, when it could be read neither now nor at start-up
--
-- How the config file is found (first that gives a path wins):
--   1. env MARATHON_LB_HAPROXY_CONFIG  - set by the controller that starts HAProxy;
--   2. env HAPROXY_CFGFILES            - set by HAProxy itself: the files it loaded, ";"-separated;
--                                        the first one is used;
--   3. the argument after the first `-f` in /proc/self/cmdline (how marathon-lb always did it);
--   4. /marathon-lb/haproxy.cfg        - marathon-lb's default --haproxy-config in its image.
-- A relative path is relative to HAProxy's working directory, as HAProxy itself read it.
--
-- Everything is local: all lua-load files share one Lua state, so globals would collide.

local DEFAULT_CONFIG = "/marathon-lb/haproxy.cfg"

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

local function read_all(path)
  local f, err = io.open(path, "rb")
  if f == nil then return nil, err end
  local text = f:read("a") or ""
  f:close()
  return text
end

-- Filled once when HAProxy has finished parsing its config (HAPROXY_CFGFILES is set by then).
local loaded = { status = 500, body = "haproxy config not loaded yet" }
local path = nil

core.register_init(function()
  path = config_path()
  local text, err = read_all(path)
  if text ~= nil then
    loaded = { status = 200, body = text }
  else
    loaded = { status = 500, body = "cannot read haproxy config " .. path .. ": " .. tostring(err) }
    core.Alert("marathon-lb getconfig.lua: " .. loaded.body)
  end
end)

core.register_service("getconfig", "http", function(applet)
  local answer = loaded
  local text = path ~= nil and read_all(path) or nil
  if text ~= nil then answer = { status = 200, body = text } end
  applet:set_status(answer.status)
  applet:add_header("content-length", tostring(#answer.body))
  applet:add_header("content-type", "text/plain")
  applet:start_response()
  applet:send(answer.body)
end)
