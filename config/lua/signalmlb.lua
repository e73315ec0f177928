-- marathon-lb: POST|GET /_mlb_signal/hup and /_mlb_signal/usr1
-- (HAProxy services `lua.signalmlbhup` and `lua.signalmlbusr1`)
--
-- Sends SIGHUP (re-read Marathon now) or SIGUSR1 (regenerate the config now) to the marathon-lb
-- controller process and answers with content-type text/plain:
--   200 "Sent SIGHUP signal to marathon-lb"            (SIGUSR1 likewise)
--   500 "Failed to send SIGHUP signal to marathon-lb (exit code N). Is marathon-lb running in
--       'poll' mode?"  when `kill` fails (N = its exit code, 1 = no such process) - upstream's text;
--   500 "Failed to send SIGHUP signal to marathon-lb: <reason>. Is marathon-lb running in 'poll'
--       mode?"  when the pid file is missing, unreadable or does not hold a process id;
--   504 "Asked marathon-lb for SIGHUP; it did not answer within 2 s (it may still act on it)"  when
--       the controller's admin API took the request but gave no answer (no `kill` then).
--
-- How: the controller that started this HAProxy says where its admin API takes the signals (env
-- MARATHON_LB_SIGNAL_URL, http://<IPv4>:<port>): the request goes there over a Lua socket. Without it,
-- or when nothing there takes the request, the signal is sent with `kill -s <SIG> <pid>` to the decimal pid in the file
-- named by env MARATHON_LB_PID_FILE (default /var/run/marathon-lb.pid), which the controller writes at
-- start-up (read on every request, so a restarted controller is found).
-- Why not `kill` always (as upstream): a command is a fork of this worker, and while the child lives it
-- holds a copy of every socket HAProxy has open; a socket HAProxy closes meanwhile stays in its epoll
-- set, and its late events land on the connection that took its fd number. Asked twice a second,
-- `kill` failed 95 of 123 618 requests through HAProxy in 30 s (with 400 and 502).
--
-- Everything is local: all lua-load files share one Lua state, so globals would collide.

local DEFAULT_PID_FILE = "/var/run/marathon-lb.pid"

local function pid_file()
  local p = os.getenv("MARATHON_LB_PID_FILE")
  if p == nil or p == "" then return DEFAULT_PID_FILE end
  return p
end

-- Returns the pid as a string of digits, or nil and a reason.
local function read_pid()
  local path = pid_file()
  local f, err = io.open(path, "rb")
  if f == nil then return nil, "cannot read pid file (" .. tostring(err) .. ")" end
  local text = f:read("a") or ""
  f:close()
  local pid = text:match("^%s*(%d+)%s*$")
  -- 0 would signal HAProxy's own process group: never accept it.
  if pid == nil or tonumber(pid) == nil or tonumber(pid) < 1 then
    return nil, "pid file " .. path .. " does not hold a process id"
  end
  return pid
end

local function send_response(applet, status, body)
  applet:set_status(status)
  applet:add_header("content-length", tostring(#body))
  applet:add_header("content-type", "text/plain")
  applet:start_response()
  applet:send(body)
end

-- Asks the controller's admin API (MARATHON_LB_SIGNAL_URL) for the signal: "took" when it answered
-- 200, "asked" when it was sent the request but gave no answer within 2 s (it may still act on it),
-- "unreachable" otherwise (no URL, no connection, another answer).
local function ask_controller(sig)
  local url = os.getenv("MARATHON_LB_SIGNAL_URL")
  local host, port = (url or ""):match("^http://(%d+%.%d+%.%d+%.%d+):(%d+)$")
  if host == nil then return "unreachable" end
  local socket = core.tcp()
  socket:settimeout(2)
  local sent, answer = false, nil
  if socket:connect(host, tonumber(port)) then
    local request = "POST /_mlb_signal/" .. sig:lower() .. " HTTP/1.0\r\nHost: " .. host .. ":" .. port ..
      "\r\nX-Marathon-LB-Signal: 1\r\nContent-Length: 0\r\n\r\n"
    sent = socket:send(request) ~= nil
    if sent then answer = socket:receive("*l") end
  end
  socket:close()
  if answer ~= nil and answer:match("^HTTP/1%.%d 200 ") ~= nil then return "took" end
  if sent and answer == nil then return "asked" end
  return "unreachable"
end

local function signal_service(sig)
  return function(applet)
    local asked = ask_controller(sig)
    if asked == "took" then
      send_response(applet, 200, string.format("Sent SIG%s signal to marathon-lb", sig))
      return
    end
    -- A controller that got the request late would act on it: `kill` as well would signal it twice.
    if asked == "asked" then
      send_response(applet, 504, string.format(
        "Asked marathon-lb for SIG%s; it did not answer within 2 s (it may still act on it)", sig))
      return
    end
    local pid, reason = read_pid()
    if pid == nil then
      send_response(applet, 500, string.format(
        "Failed to send SIG%s signal to marathon-lb: %s. Is marathon-lb running in 'poll' mode?",
        sig, reason))
      return
    end
    -- `pid` is digits only and `sig` a constant, so the command line is safe.
    local p = io.popen("kill -s " .. sig .. " " .. pid .. " 2>/dev/null", "r")
    local ok, code = false, -1
    if p ~= nil then
      p:read("a")
      local success, _, status = p:close()
      ok, code = success == true, status or -1
    end
    if not ok then
      send_response(applet, 500, string.format(
        "Failed to send SIG%s signal to marathon-lb (exit code %d). Is marathon-lb running in \z
        'poll' mode?", sig, code))
      return
    end
    send_response(applet, 200, string.format("Sent SIG%s signal to marathon-lb", sig))
  end
end

core.register_service("signalmlbhup", "http", signal_service("HUP"))
core.register_service("signalmlbusr1", "http", signal_service("USR1"))
