-- marathon-lb: GET /_haproxy_getpids  (HAProxy service `lua.getpids`)
--
-- Answers with the ids of all running HAProxy processes, space separated, on one line:
--   200, content-type text/plain, body e.g. "4312 4310"
-- This is the same answer as `pidof haproxy` gives (and what marathon-lb always answered). During a
-- seamless reload the old workers are still listed until they finish, so a client can poll this
-- endpoint until only the new process set remains. The answer is at most half a second old.
--
-- How the pids are found:
--   * `pidof <name>` where <name> is env MARATHON_LB_HAPROXY_PROCESS_NAME (default "haproxy");
--   * when `pidof` is not installed, the same list is built from /proc/<pid>/comm.
--   No answer from either (should not happen: this code runs inside HAProxy) gives an empty body.
--
-- Everything is local: all lua-load files share one Lua state, so globals would collide.

local function process_name()
  local name = os.getenv("MARATHON_LB_HAPROXY_PROCESS_NAME")
  if name == nil or name == "" or not name:match("^[%w%._%-]+$") then
    return "haproxy"
  end
  return name
end

-- Runs a shell command and returns its output as one line: words separated by single spaces.
local function capture_words(cmd)
  local f = io.popen(cmd, "r")
  if f == nil then return "" end
  local out = f:read("a") or ""
  f:close()
  local words = {}
  for w in out:gmatch("%S+") do words[#words + 1] = w end
  return table.concat(words, " ")
end

local function haproxy_pids()
  local name = process_name()
  -- `name` only holds [%w._-] (checked above), so it is safe inside the shell command.
  local script = "if command -v pidof >/dev/null 2>&1; then exec pidof " .. name .. "; fi; " ..
    "for d in /proc/[0-9]*; do " ..
    "[ \"$(cat \"$d/comm\" 2>/dev/null)\" = " .. name .. " ] && echo \"${d#/proc/}\"; " ..
    "done | sort -rn"
  return capture_words("{ " .. script .. "; } 2>/dev/null")
end

-- The shell command blocks this HAProxy process while it runs: its answer is kept for half a
-- second, so a flood of requests runs it twice a second at most, not once per request (100
-- concurrent requests held every request through HAProxy for up to 1.7 s). zdd polls once a second.
local CACHE_MS = 500
local cached_body, cached_at = nil, -CACHE_MS

local function now_ms()
  local t = core.now()
  return t.sec * 1000 + t.usec // 1000
end

core.register_service("getpids", "http", function(applet)
  local now = now_ms()
  if cached_body == nil or now - cached_at >= CACHE_MS or now < cached_at then
    cached_body, cached_at = haproxy_pids(), now
  end
  local body = cached_body
  applet:set_status(200)
  applet:add_header("content-length", tostring(#body))
  applet:add_header("content-type", "text/plain")
  applet:start_response()
  applet:send(body)
end)
