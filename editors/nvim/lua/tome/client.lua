-- The server: one `tome serve` started on first use and shared by all Tome buffers; its
-- requests, its errors shown to the user, and the notifications it sends on its own, which go
-- to the handler a module registers for their method (status: `$/progress`, disk:
-- `tome/didChangeOnDisk`), so this module needs none of them. Also the document info requests
-- every module uses (refresh_info, and wait_index for a complete line index).
-- Requires config, state and rpc only.
local config = require('tome.config')
local state = require('tome.state')
local uv = vim.uv or vim.loop

local M = {}

local client
local exiting = false -- set by shutdown: the server's exit is then expected, not reported
local handlers = {} -- method -> function(params), for notifications from the server

--- Registers `fn(params)` for the server's notifications of `method` (one handler a method).
function M.handle(method, fn)
  handlers[method] = fn
end

--- A notification the server sent on its own: to its method's handler, if any.
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

--- Starts `tome serve` and sends `initialize` without waiting for its reply. Raises on a
--- server that cannot be started.
local function spawn()
  local c, err = require('tome.rpc').start(config.cmd(), {
    on_notify = M.dispatch,
    on_exit = function(code, signal)
      if next(state.docs) and not exiting then
        local how = signal and signal ~= 0 and ('signal ' .. signal) or ('code ' .. tostring(code))
        local dirty = false
        for _, st in pairs(state.docs) do
          dirty = dirty or st.dirty
        end
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
  return c
end

--- Waits for the reply to `initialize` of server `c` and checks it. Raises if it failed.
local function finish_initialize(c)
  local id = c.init_id
  c.init_id = nil
  local res, e = c:wait(id, 10000)
  if not res then
    c:stop()
    error('tome initialize failed: ' .. (e and e.message or '?'), 0)
  end
  if res.capabilities.positionEncoding ~= 'utf-8' then
    -- Positions would be in another unit than the byte columns this plugin sends.
    c:stop()
    error('tome server does not support utf-8 positions', 0)
  end
  c.server_info = res
  c:notify('initialized', vim.empty_dict())
end

--- The server, started on first use and shared by all Tome buffers.
function M.get()
  if not (client and not client.closed) then
    client = spawn()
  end
  if client.init_id then
    local ok, err = pcall(finish_initialize, client)
    if not ok then
      client = nil
      error(err, 0)
    end
  end
  return client
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
    if not (client and not client.closed) then
      client = spawn()
    end
    return client
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

--- The server if it runs, without starting one (for requests that only matter to a running
--- server: a close, a poll of the index).
function M.running()
  return client and not client.closed and client or nil
end

--- The process id of the running `tome serve` (nil when none runs). For scripts and tests:
--- `kill -9` of it is how the crash-recovery test simulates a crash.
function M.server_pid()
  return client and not client.closed and client.pid or nil
end

--- True while a synchronous request waits for its reply (the user is waiting on a jump, a
--- search, a save): notifications that would refill the window wait for it to finish.
function M.busy()
  return client ~= nil and not client.closed and client.waiting > 0
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
  local ok, c = pcall(M.get)
  if not ok then
    return nil, { message = c }
  end
  return c:request_sync(method, params, timeout or config.options.timeout)
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

--- Stops the server as Neovim exits (VimLeavePre).
function M.shutdown()
  exiting = true
  if client and not client.closed then
    client:stop()
  end
end

return M
