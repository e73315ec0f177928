-- marathon-lb: GET /_haproxy_getpids  (HAProxy service `lua.getpids`)
--
-- Answers with the ids of the running HAProxy processes, space separated, on one line, highest first:
--   200, content-type text/plain, body e.g. "4312 4310"
-- This is the answer `pidof haproxy` gives in a marathon-lb container (and what marathon-lb always
-- answered): the master and its workers. During a seamless reload the old workers are still listed
-- until they finish, so a client (zdd) can poll this endpoint until only the new process set remains.
-- The answer is at most half a second old.
--
-- How the pids are found, from /proc files only: this process, its parent (the master, in
-- master-worker mode) and the parent's children (the workers, old and new), each kept when its name
-- (/proc/<pid>/comm) is <name>: env MARATHON_LB_HAPROXY_PROCESS_NAME (default "haproxy").
--
-- Why not `pidof` (as upstream): a command is a fork of this worker, and while the child lives it
-- holds a copy of every socket HAProxy has open. A socket HAProxy closes meanwhile stays in its epoll
-- set, and its late events land on the connection that took its fd number. zdd polls this endpoint
-- once a second; asked twice a second, `pidof` failed requests through HAProxy with 502 and 400 (333
-- and 81 of 159 362 in a minute; none of 140 650 without it).
--
-- Everything is local: all lua-load files share one Lua state, so globals would collide.

local function process_name()
  local name = os.getenv("MARATHON_LB_HAPROXY_PROCESS_NAME")
  if name == nil or name == "" or not name:match("^[%w%._%-]+$") then
    return "haproxy"
  end
  return name
end

local function read_file(path)
  local f = io.open(path, "rb")
  if f == nil then return nil end
  local text = f:read("a")
  f:close()
  return text
end

-- /proc/<pid>/stat is "pid (comm) state ppid …"; comm may hold spaces and parentheses.
local function stat_of(pid)
  local stat = read_file("/proc/" .. pid .. "/stat")
  if stat == nil then return nil end
  local own, rest = stat:match("^(%d+) %(.*%) (.*)$")
  if own == nil then return nil end
  return tonumber(own), tonumber(rest:match("^%S+ (%d+)"))
end

local function comm_of(pid)
  local comm = read_file("/proc/" .. pid .. "/comm")
  return comm and (comm:gsub("%s+$", ""))
end

local function haproxy_pids()
  -- The kernel keeps 15 characters of a process name.
  local name = process_name():sub(1, 15)
  local self, parent = stat_of("self")
  if self == nil then return "" end
  local candidates = { self }
  if parent ~= nil and parent > 1 then
    candidates[#candidates + 1] = parent
    local children = read_file("/proc/" .. parent .. "/task/" .. parent .. "/children") or ""
    for pid in children:gmatch("%d+") do candidates[#candidates + 1] = tonumber(pid) end
  end
  local seen, pids = {}, {}
  for _, pid in ipairs(candidates) do
    if not seen[pid] and comm_of(pid) == name then pids[#pids + 1] = pid end
    seen[pid] = true
  end
  table.sort(pids, function(a, b) return a > b end)
  local words = {}
  for i, pid in ipairs(pids) do words[i] = tostring(pid) end
  return table.concat(words, " ")
end

-- A flood of requests reads /proc twice a second at most, not once per request.
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
