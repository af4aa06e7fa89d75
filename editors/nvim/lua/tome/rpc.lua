-- A small JSON-RPC 2.0 client for `tome serve`, with LSP's Content-Length framing.
--
-- Why not vim.lsp.start: the LSP client attaches to buffers, sends didOpen/didChange with the
-- whole text and expects textDocument/* semantics, which is exactly what a multi-GB file must
-- avoid; its API for custom requests and progress also changed between 0.10 and 0.12. This
-- client is ~150 lines of vim.uv and behaves the same on every Neovim since 0.10. Requires nothing.
local uv = vim.uv or vim.loop

local M = {}

---@class tome.Client
local Client = {}
Client.__index = Client

local function decode(s)
  -- luanil: JSON null becomes nil, so `range == nil` tests work.
  return vim.json.decode(s, { luanil = { object = true, array = true } })
end

--- Starts `cmd` (a list) and returns a client. `opts.on_notify(method, params)` runs on the main
--- loop (scheduled) for every notification the server sends on its own (`$/progress`,
--- `tome/didChangeOnDisk`); `opts.on_exit(code, signal)` likewise.
function M.start(cmd, opts)
  opts = opts or {}
  local self = setmetatable({
    next_id = 1,
    responses = {}, -- id -> message, for synchronous waiters
    callbacks = {}, -- id -> function(err, result), for asynchronous requests
    pending = '',
    need = nil, -- the length of a body being gathered in `parts` (`got` bytes so far)
    stderr_tail = '',
    on_notify = opts.on_notify or function() end,
    on_exit = opts.on_exit or function() end,
    closed = false,
    waiting = 0, -- request_sync calls waiting for their reply (nested waits count each)
  }, Client)
  self.stdin = uv.new_pipe(false)
  self.stdout = uv.new_pipe(false)
  self.stderr = uv.new_pipe(false)
  local handle, pid = uv.spawn(cmd[1], {
    args = vim.list_slice(cmd, 2),
    stdio = { self.stdin, self.stdout, self.stderr },
  }, function(code, signal)
    self.closed = true
    vim.schedule(function()
      self.on_exit(code, signal)
    end)
  end)
  if not handle then
    for _, p in ipairs({ self.stdin, self.stdout, self.stderr }) do
      p:close()
    end
    return nil, ('cannot start %s: %s'):format(cmd[1], tostring(pid))
  end
  self.handle, self.pid = handle, pid
  self.stdout:read_start(function(_, data)
    if data then
      self:_feed(data)
    end
  end)
  self.stderr:read_start(function(_, data)
    if data then
      -- Keep only the tail: the server's log is for error reports, not to grow forever.
      self.stderr_tail = (self.stderr_tail .. data):sub(-4096)
    end
  end)
  return self
end

function Client:_write(msg)
  if self.closed then
    return false
  end
  local body = vim.json.encode(msg)
  self.stdin:write(('Content-Length: %d\r\n\r\n%s'):format(#body, body))
  return true
end

-- Runs in a fast (libuv) context: only pure Lua, pipe writes and vim.schedule here.
-- `pending` holds what is not parsed yet before a body starts (a header, small); a body is
-- gathered in `parts` (`got` bytes of `need`) and joined once: appending each 64 KiB read to one
-- string would copy a 16 MiB reply some 250 times (hundreds of MiB of garbage in Neovim).
function Client:_feed(data)
  if self.need then
    table.insert(self.parts, data)
    self.got = self.got + #data
    if self.got < self.need then
      return
    end
    local all = table.concat(self.parts)
    self.parts, self.got = nil, nil
    local body = all:sub(1, self.need)
    self.pending = all:sub(self.need + 1)
    self.need = nil
    local ok, msg = pcall(decode, body)
    if ok and type(msg) == 'table' then
      self:_dispatch(msg)
    end
  else
    self.pending = self.pending .. data
  end
  while true do
    local hdr_end = self.pending:find('\r\n\r\n', 1, true)
    if not hdr_end then
      return
    end
    local len = tonumber(self.pending:sub(1, hdr_end):lower():match('content%-length:%s*(%d+)'))
    if not len then
      -- Unframed garbage: drop the header block and go on (the server never does this).
      self.pending = self.pending:sub(hdr_end + 4)
    else
      if #self.pending < hdr_end + 3 + len then
        -- The body goes on in later reads.
        local start = self.pending:sub(hdr_end + 4)
        self.pending = ''
        self.need, self.parts, self.got = len, { start }, #start
        return
      end
      local body = self.pending:sub(hdr_end + 4, hdr_end + 3 + len)
      self.pending = self.pending:sub(hdr_end + 4 + len)
      local ok, msg = pcall(decode, body)
      if ok and type(msg) == 'table' then
        self:_dispatch(msg)
      end
    end
  end
end

function Client:_dispatch(msg)
  if msg.method and msg.id ~= nil then
    -- A request from the server. The only one Tome sends is progress creation.
    if msg.method == 'window/workDoneProgress/create' then
      self:_write({ jsonrpc = '2.0', id = msg.id, result = vim.NIL })
    else
      self:_write({ jsonrpc = '2.0', id = msg.id, error = { code = -32601, message = 'not supported' } })
    end
  elseif msg.method then
    -- A notification from the server: `$/progress`, `tome/didChangeOnDisk`. Handled on the
    -- main loop, in the order received.
    vim.schedule(function()
      self.on_notify(msg.method, msg.params)
    end)
  elseif msg.id ~= nil then
    local cb = self.callbacks[msg.id]
    if cb then
      self.callbacks[msg.id] = nil
      vim.schedule(function()
        cb(msg.error, msg.result)
      end)
    else
      self.responses[msg.id] = msg
    end
  end
end

--- Sends a request; `cb(err, result)` runs on the main loop. Returns the id.
function Client:request(method, params, cb)
  local id = self.next_id
  self.next_id = id + 1
  if cb then
    self.callbacks[id] = cb
  end
  if not self:_write({ jsonrpc = '2.0', id = id, method = method, params = params or vim.empty_dict() }) then
    self.callbacks[id] = nil
    if cb then
      vim.schedule(function()
        cb({ code = -1, message = 'tome server is not running' })
      end)
    end
  end
  return id
end

function Client:notify(method, params)
  self:_write({ jsonrpc = '2.0', method = method, params = params or vim.empty_dict() })
end

--- Sends a request and waits for its reply (Neovim keeps processing events meanwhile, so
--- progress notifications are shown). Returns result, err. Ctrl-C cancels the request.
function Client:request_sync(method, params, timeout_ms)
  return self:wait(self:request(method, params), timeout_ms)
end

--- Waits for the reply to request `id` (sent without a callback). Returns result, err, as
--- request_sync does.
function Client:wait(id, timeout_ms)
  self.waiting = self.waiting + 1
  local done, ok, code = pcall(vim.wait, timeout_ms or 10000, function()
    return self.responses[id] ~= nil or self.closed
  end, 1)
  self.waiting = self.waiting - 1
  if not done then
    error(ok, 0)
  end
  local msg = self.responses[id]
  self.responses[id] = nil
  if not msg then
    if not ok then
      -- Timed out or interrupted: tell the server to stop working on it.
      self:notify('$/cancelRequest', { id = id })
      self.callbacks[id] = function() end
      return nil, { code = -32800, message = code == -2 and 'interrupted' or 'timed out' }
    end
    return nil, { code = -1, message = 'tome server exited: ' .. self.stderr_tail }
  end
  return msg.result, msg.error
end

function Client:stop()
  if self.closed then
    return
  end
  -- shutdown then exit, as the protocol's lifecycle asks; do not block Neovim's exit long.
  self:request_sync('shutdown', nil, 500)
  self:notify('exit')
  vim.defer_fn(function()
    if not self.closed and self.handle then
      self.handle:kill('sigterm')
    end
  end, 500)
end

return M
