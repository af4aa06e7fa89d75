-- The servers: one `tome serve` on this machine, started on first use and shared by all its
-- Tome buffers, and one on each other host a buffer shows a file of (|tome-remote|: started
-- through ssh, remote.lua), shared by that host's buffers; their requests, their errors shown
-- to the user, and the notifications they send on their own, which go to the handler a module
-- registers for their method (status: `$/progress`, disk: `tome/didChangeOnDisk`), so this
-- module needs none of them. Also the document info requests every module uses (refresh_info,
-- and wait_index for a complete line index).
--
-- Why ids are translated: each server numbers its documents, filters and clips from 1, and the
-- plugin keys everything by those numbers. The ids of a remote session are therefore
-- `session * 2^32 + id` on this side (exact in a Lua number) and the server's own on the wire;
-- a remote server's paths are shown as tome:// URLs. Requests then find their server by the
-- ids they carry (or the URL they open), so no other module has to know where a file is. The
-- local server's ids and paths are its own (session 0): nothing is translated for it.
-- Requires config, state, rpc and remote.
local config = require('tome.config')
local state = require('tome.state')
local remote = require('tome.remote')
local uv = vim.uv or vim.loop

local M = {}

local BASE = 2 ^ 32 -- (the servers' ids are far below it: one per open, filter or clip)
local ID_KEYS = { doc = true, filter = true, clip = true }

--- A server and what it is for: `c` the rpc client (nil before the first start), `remote`
--- the parsed URL of its host (nil: this machine), `lost` why a remote one is gone (its ids
--- then fail at once with that message; a new connection is a new session, new ids).
---@type table<integer, {c?: tome.Client, remote?: table, lost?: string, handle?: table}>
local sessions = { [0] = {} }
local by_host = {} -- remote key ('user@host:port') -> the session of its current connection
local next_session = 1
local exiting = false -- set by shutdown: the servers' exits are then expected, not reported
local handlers = {} -- method -> function(params), for notifications from the servers

--- The session a document, filter or clip id belongs to.
local function session_of(id)
  return math.floor(id / BASE)
end

-- Copies of `t` for the wire, ids made the server's own (tables only are copied; a table's
-- metatable, e.g. vim.empty_dict()'s, is kept for the encoder).
local function to_server(t)
  if type(t) ~= 'table' then
    return t
  end
  local out = setmetatable({}, getmetatable(t))
  for k, v in pairs(t) do
    if ID_KEYS[k] and type(v) == 'number' then
      out[k] = v % BASE
    else
      out[k] = to_server(v)
    end
  end
  return out
end

-- A remote server's reply or notification made this side's, in place: ids into the session's
-- range, paths into tome:// URLs of its host.
local function from_server(s, idx, t)
  if idx == 0 or type(t) ~= 'table' then
    return t
  end
  for k, v in pairs(t) do
    if ID_KEYS[k] and type(v) == 'number' then
      t[k] = idx * BASE + v
    elseif k == 'path' and type(v) == 'string' and v ~= '' then
      t[k] = remote.url(s.remote, v)
    elseif type(v) == 'table' then
      from_server(s, idx, v)
    end
  end
  return t
end

--- Registers `fn(params)` for the server's notifications of `method` (one handler a method).
function M.handle(method, fn)
  handlers[method] = fn
end

--- A notification a server sent on its own: to its method's handler, if any.
function M.dispatch(method, params)
  local fn = handlers[method]
  if fn then
    fn(params)
  end
end

function M.error(what, err)
  local msg = type(err) == 'table' and (err.message or vim.inspect(err)) or tostring(err)
  vim.notify(('Tome: %s: %s'):format(what, msg), vim.log.levels.ERROR)
end

-- Whether a Tome buffer shows a document of session `idx` (with unsaved changes: `dirty`).
local function session_docs(idx)
  local any, dirty = false, false
  for _, st in pairs(state.docs) do
    if session_of(st.doc) == idx then
      any, dirty = true, dirty or st.dirty
    end
  end
  return any, dirty
end

-- The last line the server (or ssh) wrote to stderr: why a connection failed.
local function last_words(c)
  local tail = vim.trim(c.stderr_tail or '')
  return tail:match('([^\n]*)$') or ''
end

--- Starts the server of session `idx` and sends `initialize` without waiting for its reply.
--- Raises on a server that cannot be started.
local function spawn(idx)
  local s = sessions[idx]
  local c, err
  c, err = require('tome.rpc').start(s.remote and remote.command(s.remote) or config.cmd(), {
    on_notify = function(method, params)
      M.dispatch(method, from_server(s, idx, params))
    end,
    on_exit = function(code, signal)
      local how = signal and signal ~= 0 and ('signal ' .. signal) or ('code ' .. tostring(code))
      local any, dirty = session_docs(idx)
      if s.remote then
        -- A dropped connection (ssh killed, the network gone): the buffers keep what they
        -- show; their requests fail at once until :e! opens them again on a new connection.
        local words = last_words(c)
        s.lost = ('the connection to %s was lost (%s%s): :e! reconnects'):format(s.remote.key, how,
          words ~= '' and (': ' .. words) or '')
        if any and not exiting then
          local journal = ' Unsaved changes are in the journal on %s: the reopen offers them (:TomeRecover).'
          vim.notify(('Tome: %s.%s'):format(s.lost, dirty and journal:format(s.remote.key)
            or ' The buffers keep the lines they show.'), vim.log.levels.ERROR)
        end
      elseif any and not exiting then
        vim.notify(('Tome: the server exited (%s).%s'):format(how, dirty
          and ' Unsaved changes are in its journal: :e! reopens the file and offers them (:TomeRecover).' or ''),
          vim.log.levels.ERROR)
      end
    end,
  })
  if not c then
    error(err, 0)
  end
  c.init_id = c:request('initialize', {
    processId = uv.os_getpid(),
    clientInfo = { name = 'tome.nvim' },
    capabilities = {
      general = { positionEncodings = { 'utf-8' } },
      window = { workDoneProgress = true },
    },
  })
  s.c = c
  s.handle = nil
  return c
end

--- Waits for the reply to `initialize` of server `c` and checks it. Raises if it failed.
local function finish_initialize(c)
  local id = c.init_id
  c.init_id = nil
  local res, e = c:wait(id, config.options.timeout)
  if not res then
    c:stop()
    local words = last_words(c)
    error('tome initialize failed: ' .. (e and e.message or '?')
      .. (words ~= '' and e and not e.message:find(words, 1, true) and (' (' .. words .. ')') or ''), 0)
  end
  if res.capabilities.positionEncoding ~= 'utf-8' then
    -- Positions would be in another unit than the byte columns this plugin sends.
    c:stop()
    error('tome server does not support utf-8 positions', 0)
  end
  c.server_info = res
  c:notify('initialized', vim.empty_dict())
end

-- A session's server as the modules use it: the rpc client's request, notify, wait and
-- request_sync, with ids and paths translated (nothing for the local server).
local Handle = {}
Handle.__index = Handle

function Handle:request(method, params, cb)
  local s, idx = self.s, self.idx
  return self.c:request(method, idx == 0 and params or to_server(params), cb and function(err, res)
    cb(err, from_server(s, idx, res))
  end)
end

function Handle:notify(method, params)
  self.c:notify(method, self.idx == 0 and params or to_server(params))
end

function Handle:wait(id, timeout_ms)
  local res, err = self.c:wait(id, timeout_ms)
  if err and self.s.lost then
    err = { code = err.code, message = self.s.lost }
  end
  return from_server(self.s, self.idx, res), err
end

function Handle:request_sync(method, params, timeout_ms)
  return self:wait(self:request(method, params), timeout_ms)
end

-- The handle of session `idx`, starting its server if needed. Raises if it cannot be started,
-- or if the connection of a remote session was lost.
local function get_session(idx)
  local s = sessions[idx]
  if not s then
    error('no such Tome session: ' .. tostring(idx), 0)
  end
  if s.lost then
    error(s.lost, 0)
  end
  if not (s.c and not s.c.closed) then
    if s.remote and s.c then
      error(s.lost or ('the connection to ' .. s.remote.key .. ' is closed: :e! reconnects'), 0)
    end
    spawn(idx)
  end
  if s.c.init_id then
    local ok, err = pcall(finish_initialize, s.c)
    if not ok then
      if s.remote then
        s.lost = err
        by_host[s.remote.key] = nil -- (the next open tries a new connection)
      else
        s.c = nil
      end
      error(err, 0)
    end
  end
  if not (s.handle and s.handle.c == s.c) then
    s.handle = setmetatable({ c = s.c, s = s, idx = idx }, Handle)
  end
  return s.handle
end

-- The session of host `r` (a remote.parse result): its current connection, or a new one.
local function host_session(r)
  local idx = by_host[r.key]
  local s = idx and sessions[idx]
  if s and not s.lost and not (s.c and s.c.closed) then
    return idx
  end
  idx = next_session
  next_session = next_session + 1
  sessions[idx] = { remote = r }
  by_host[r.key] = idx
  return idx
end

--- The server of document `doc` (or filter, or clip id; nil: this machine's), started on first
--- use. Raises if it cannot be started or its connection was lost.
function M.get(doc)
  return get_session(type(doc) == 'number' and session_of(doc) or 0)
end

-- `tome/open` requests sent at startup by M.open_early: path -> request id.
local early_opens = {}
local early_cleanup = false -- the VimEnter autocommand that closes early opens nobody took

--- At startup, for a file Neovim's arguments name: starts the server and sends `initialize`
--- and `tome/open` of `path` (with `viewport`: the first lines, in the same reply) at once,
--- without waiting (the server serves requests sent right
--- after `initialize` once it is done: docs/protocol.md), so that the server starts and maps
--- the file while Neovim goes on loading its plugins. B.open takes the reply
--- (M.take_early_open). An early open nobody took is closed once startup is over.
function M.open_early(path, viewport)
  if early_opens[path] or vim.v.vim_did_enter ~= 0 then
    return
  end
  local ok, c = pcall(function()
    local s = sessions[0]
    if not (s.c and not s.c.closed) then
      spawn(0)
    end
    return s.c
  end)
  if not ok then
    return -- (the open proper reports it)
  end
  early_opens[path] = { id = c:request('tome/open', { path = path, viewport = viewport }), viewport = viewport }
  if not early_cleanup and vim.v.vim_did_enter == 0 then
    early_cleanup = true
    vim.api.nvim_create_autocmd('VimEnter', {
      once = true,
      callback = function()
        for p, early in pairs(early_opens) do
          early_opens[p] = nil
          local id = early.id
          c.callbacks[id] = function(_, res)
            if res and res.doc then
              c:request('tome/close', { doc = res.doc }, function() end)
            end
          end
          local msg = c.responses[id]
          if msg then
            c.responses[id] = nil
            c.callbacks[id](msg.error, msg.result)
          end
        end
      end,
    })
  end
end

--- The reply to the early `tome/open` of `path` (M.open_early), waiting for it: result, err,
--- and the `viewport` params it was sent with; nothing if none was sent.
function M.take_early_open(path)
  local early = early_opens[path]
  if not early then
    return
  end
  early_opens[path] = nil
  local ok, c = pcall(M.get)
  if not ok then
    return nil, { message = c }
  end
  local res, err = c:wait(early.id, config.options.timeout)
  return res, err, early.viewport
end

--- The server of `doc` (as M.get) if it runs, without starting one (for requests that only
--- matter to a running server: a close, a poll of the index).
function M.running(doc)
  local idx = type(doc) == 'number' and session_of(doc) or 0
  local s = sessions[idx]
  if not (s and s.c and not s.c.closed and not s.lost) then
    return nil
  end
  local ok, h = pcall(get_session, idx)
  return ok and h or nil
end

--- The process id of the running server of `doc` (default: this machine's; nil when none
--- runs): for a remote host, its ssh. For scripts and tests: `kill -9` of it is how the
--- crash-recovery test simulates a crash, and the remote test a dropped connection.
function M.server_pid(doc)
  local s = sessions[type(doc) == 'number' and session_of(doc) or 0]
  return s and s.c and not s.c.closed and s.c.pid or nil
end

--- True while a synchronous request waits for its reply (the user is waiting on a jump, a
--- search, a save): notifications that would refill the window wait for it to finish.
function M.busy()
  for _, s in pairs(sessions) do
    if s.c and not s.c.closed and s.c.waiting > 0 then
      return true
    end
  end
  return false
end

-- The session a request goes to, and its params with a remote URL made the remote path:
-- by the ids it carries, else by the URL it opens or saves as, else this machine's. A remote
-- document saves only to its own host. Returns idx, params; or nil, error message.
local function route(method, params)
  if type(params) ~= 'table' then
    return 0, params
  end
  local id = params.doc or params.filter or params.clip
  local idx = type(id) == 'number' and session_of(id) or nil
  local r = type(params.path) == 'string' and remote.parse(params.path)
  if r and (method == 'tome/open' or method == 'tome/saveAs') then
    if idx == nil then
      idx = host_session(r)
    end
    local s = sessions[idx]
    if not s.remote then
      return nil, ('a file of this machine saves on this machine only, not on %s'):format(r.key)
    elseif s.remote.key ~= r.key then
      return nil, ('a file on %s saves on %s only, not on %s'):format(s.remote.key, s.remote.key, r.key)
    end
    params = vim.tbl_extend('force', params, { path = r.path })
  elseif idx and idx > 0 and method == 'tome/saveAs' and type(params.path) == 'string' then
    local key = sessions[idx].remote.key
    return nil, ('a file on %s saves on %s only: :w tome://%s//path'):format(key, key, key)
  end
  return idx or 0, params
end

--- A synchronous request; errors are returned (result, err), never thrown.
function M.request(method, params, timeout)
  -- Changes made in the buffer and not sent yet (edit.lua sends each once the buffer holds
  -- it, from on_lines; a change Neovim reports in parts may still wait) go first, so this
  -- request sees them: a refill (else it would show the old text and the change would be
  -- counted twice in the version), a search, an undo or a save typed right after an edit.
  local doc = type(params) == 'table' and params.doc
  if doc then
    for _, st in pairs(state.docs) do
      if st.doc == doc and st.pending and st.flush_edits then
        st.flush_edits()
      end
    end
  end
  local idx, out = route(method, params)
  if not idx then
    return nil, { message = out }
  end
  local ok, c = pcall(get_session, idx)
  if not ok then
    return nil, { message = c }
  end
  return c:request_sync(method, out, timeout or config.options.timeout)
end

--- Asks for the document's info and keeps it in `st`. Returns the info (nil on error, shown).
---@param st Tome.BufState
function M.refresh_info(st)
  local info, err = M.request('tome/info', { doc = st.doc })
  if not info then
    M.error('info', err)
    return nil
  end
  st.info, st.size, st.line_count = info, info.size, info.lineCount
  st.index_percent = info.indexComplete and 100 or info.indexPercent
  st.dirty = info.dirty
  state.take_journal(st, info)
  return info
end

--- Waits (showing progress; Ctrl-C stops) until the line index is complete.
---@param st Tome.BufState
function M.wait_index(st)
  local info = M.refresh_info(st)
  while info and not info.lineCount.exact do
    local ok = vim.wait(50, function()
      return false
    end)
    if not ok and vim.fn.getchar(1) == 3 then
      return nil
    end
    info = M.refresh_info(st)
  end
  return info
end

--- Stops the servers as Neovim exits (VimLeavePre).
function M.shutdown()
  exiting = true
  for _, s in pairs(sessions) do
    if s.c and not s.c.closed then
      s.c:stop()
    end
  end
end

return M
