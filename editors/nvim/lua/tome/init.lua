-- Tome for Neovim: big files open through `tome serve` into a windowed buffer.
-- See :help tome. Modules: rpc (JSON-RPC client), window (the windowed buffer and motions),
-- edit (edits, undo, save), search, status (progress, status line), health.
local config = require('tome.config')
local api = vim.api
local uv = vim.uv or vim.loop

local M = {}

---@type table<integer, table> buffer -> document state
M.docs = {}
local client

function M.setup(opts)
  config.options = vim.tbl_deep_extend('force', vim.deepcopy(config.defaults), opts or {})
end

function M.error(what, err)
  local msg = type(err) == 'table' and (err.message or vim.inspect(err)) or tostring(err)
  vim.notify(('Tome: %s: %s'):format(what, msg), vim.log.levels.ERROR)
end

--- The server, started on first use and shared by all Tome buffers.
function M.client()
  if client and not client.closed then
    return client
  end
  local c, err = require('tome.rpc').start(config.cmd(), {
    on_notify = function(method, params)
      require('tome.status').on_notify(method, params)
    end,
    on_exit = function(code)
      if next(M.docs) and not M.exiting then
        vim.notify(('Tome: the server exited (code %s)'):format(code), vim.log.levels.ERROR)
      end
    end,
  })
  if not c then
    error(err, 0)
  end
  local res, e = c:request_sync('initialize', {
    processId = uv.os_getpid(),
    clientInfo = { name = 'tome.nvim' },
    capabilities = {
      general = { positionEncodings = { 'utf-8' } },
      window = { workDoneProgress = true },
    },
  }, 10000)
  if not res then
    c:stop()
    error('tome initialize failed: ' .. (e and e.message or '?'), 0)
  end
  if res.capabilities.positionEncoding ~= 'utf-8' then
    -- Columns below are byte columns: a server that cannot do utf-8 would misplace edits.
    c:stop()
    error('tome server does not support utf-8 positions', 0)
  end
  c.server_info = res
  c:notify('initialized', vim.empty_dict())
  client = c
  return c
end

--- A synchronous request; errors are returned (result, err), never thrown.
function M.request(method, params, timeout)
  local ok, c = pcall(M.client)
  if not ok then
    return nil, { message = c }
  end
  return c:request_sync(method, params, timeout or config.options.timeout)
end

function M.stat(path)
  local s = uv.fs_stat(path)
  return s and { size = s.size, mtime = s.mtime.sec * 1e9 + s.mtime.nsec, ino = s.ino } or nil
end

function M.refresh_info(st)
  local info, err = M.request('tome/info', { doc = st.doc })
  if not info then
    M.error('info', err)
    return nil
  end
  st.info, st.size, st.line_count = info, info.size, info.lineCount
  st.index_percent = info.indexComplete and 100 or info.indexPercent
  st.dirty = info.dirty
  return info
end

--- Waits (showing progress; Ctrl-C stops) until the line index is complete.
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

function M.on_index_progress(doc, pct, done)
  for _, st in pairs(M.docs) do
    if st.doc == doc then
      st.index_percent = done and 100 or pct
      if done then
        -- The count is exact now; ask for it without blocking the user.
        M.client():request('tome/info', { doc = doc }, function(_, info)
          if info and M.docs[st.buf] == st then
            st.line_count, st.size = info.lineCount, info.size
            M.update_windows(st)
          end
        end)
      end
    end
  end
end

--- Real line numbers: 'statuscolumn' calls this for each screen line.
function M.lnum()
  if vim.v.virtnum ~= 0 then
    return ''
  end
  local win = vim.g.statusline_winid
  local buf = win and api.nvim_win_is_valid(win) and api.nvim_win_get_buf(win) or api.nvim_get_current_buf()
  local st = M.docs[buf]
  return tostring(st and st.base and st.base + vim.v.lnum or vim.v.lnum)
end

function M.status(buf)
  return require('tome.status').status(buf)
end

local STATUSCOLUMN = "%=%{v:lua.require'tome'.lnum()} "
local STATUSLINE = "%<%f %h%w%r%=%{v:lua.require'tome'.status()}  %l:%c%V "

--- Window options for windows showing `st`: real line numbers, status line part.
function M.update_windows(st)
  local total = st.line_count and (st.line_count.estimate or st.line_count.known) or 1
  for _, win in ipairs(vim.fn.win_findbuf(st.buf)) do
    local wo = vim.wo[win]
    if wo.statuscolumn ~= STATUSCOLUMN then
      wo.statuscolumn = STATUSCOLUMN
      wo.number = true
      wo.relativenumber = false
      wo.foldenable = false
      if config.options.statusline then
        wo.statusline = STATUSLINE
      end
    end
    wo.numberwidth = math.max(4, #tostring(total) + 2)
  end
end

local function W()
  return require('tome.window')
end

--- Pending work from the cmdline <CR> mapping (an expr mapping cannot change the buffer).
local pending
function M._run_pending()
  local p, st = pending, M.docs[api.nvim_get_current_buf()]
  pending = nil
  if not p or not st then
    return
  end
  if p.kind == 'line' then
    if p.n == '$' then
      local last = W().last_line(st, true)
      if last then
        W().jump(st, last, 'center')
      end
    else
      W().goto_line(st, math.max(1, tonumber(p.n)))
    end
  else
    require('tome.search').search(st, p.pattern, p.backward)
  end
end

--- Cmdline <CR>: `:{N}`, `:$`, `/pat`, `?pat` go through the server; anything else runs as usual.
function M._cmdline_cr()
  local t, line = vim.fn.getcmdtype(), vim.fn.getcmdline()
  if t == ':' then
    local n = line:match('^%s*(%d+)%s*$') or line:match('^%s*(%$)%s*$')
    if n then
      vim.fn.histadd(':', line)
      pending = { kind = 'line', n = n }
      return '<C-c><Cmd>lua require("tome")._run_pending()<CR>'
    end
  elseif t == '/' or t == '?' then
    pending = { kind = 'search', pattern = line, backward = t == '?' }
    return '<C-c><Cmd>lua require("tome")._run_pending()<CR>'
  end
  return '<CR>'
end

local function map_keys(st)
  local buf = st.buf
  local function nmap(lhs, fn)
    vim.keymap.set('n', lhs, function()
      local s = M.docs[buf]
      if s then
        fn(s)
      end
    end, { buffer = buf, desc = 'Tome: ' .. lhs })
  end
  local Wm = W()
  nmap('G', Wm.motion_G)
  nmap('gg', Wm.motion_gg)
  nmap('%', Wm.motion_percent)
  for _, k in ipairs({ { 'j', 1 }, { '<Down>', 1 }, { 'k', -1 }, { '<Up>', -1 } }) do
    local key = api.nvim_replace_termcodes(k[1], true, false, true)
    nmap(k[1], function(s)
      Wm.motion_vertical(s, key, k[2])
    end)
  end
  for _, k in ipairs({ { '<C-d>', 1 }, { '<C-u>', -1 }, { '<C-f>', 1 }, { '<C-b>', -1 } }) do
    local key = api.nvim_replace_termcodes(k[1], true, false, true)
    nmap(k[1], function(s)
      Wm.motion_scroll(s, key, k[2])
    end)
  end
  local E = require('tome.edit')
  nmap('u', function(s)
    E.undo(s, false)
  end)
  nmap('<C-r>', function(s)
    E.undo(s, true)
  end)
  local S = require('tome.search')
  nmap('n', function(s)
    S.again(s, false)
  end)
  nmap('N', function(s)
    S.again(s, true)
  end)
  vim.keymap.set('c', '<CR>', M._cmdline_cr, { buffer = buf, expr = true, desc = 'Tome: :N and / through the server' })
end

function M.watch_disk(st)
  if st.poll then
    st.poll:stop()
  end
  -- A stat every second (fs_poll) survives renames and editors' atomic saves, unlike inotify.
  st.poll = uv.new_fs_poll()
  st.poll:start(st.path, 1000, function()
    vim.schedule(function()
      M.check_disk(st)
    end)
  end)
end

--- Reports once that the file changed on disk (not by our own save).
function M.check_disk(st)
  if M.docs[st.buf] ~= st or st.saving then
    return
  end
  local now = M.stat(st.path)
  local same = now and st.stat and now.size == st.stat.size and now.mtime == st.stat.mtime and now.ino == st.stat.ino
  if same or st.warned_disk then
    return
  end
  st.warned_disk = true
  st.changed_on_disk = true
  vim.notify(('Tome: %s changed on disk. :TomeReload shows the new content%s.'):format(
    vim.fn.fnamemodify(st.path, ':~:.'), st.dirty and ' (your unsaved changes are dropped)' or ''), vim.log.levels.WARN)
  api.nvim_exec_autocmds('User', { pattern = 'TomeFileChanged', data = { buf = st.buf, path = st.path } })
end

function M.check_quickfix(st)
  local qf = vim.fn.getqflist({ id = 0, idx = 0, title = 0 })
  if not qf.title or not qf.title:match('^Tome: ') then
    return
  end
  local key = qf.id .. ':' .. qf.idx
  if st.qf_seen == key then
    return
  end
  local item = vim.fn.getqflist({ id = qf.id, idx = qf.idx, items = 0 }).items[1]
  if not item or item.bufnr ~= st.buf or type(item.user_data) ~= 'table' or not item.user_data.tome_line then
    return
  end
  st.qf_seen = key
  W().jump(st, item.user_data.tome_line, 'center')
  pcall(api.nvim_win_set_cursor, 0, { api.nvim_win_get_cursor(0)[1], item.col - 1 })
end

function M.close(buf)
  local st = M.docs[buf]
  if not st then
    return
  end
  M.docs[buf] = nil
  if st.poll then
    st.poll:stop()
  end
  if client and not client.closed then
    client:request('tome/close', { doc = st.doc }, function() end)
  end
end

--- Opens `path` through Tome into buffer `buf` (the BufReadCmd of big files, and :Tome).
function M.open(buf, path)
  path = vim.fn.fnamemodify(path, ':p')
  local old = M.docs[buf]
  local keep_line = old and old.base and api.nvim_get_current_buf() == buf and W().cursor_line(old)
  M.close(buf)
  local t0 = uv.hrtime()
  local info, err = M.request('tome/open', { path = path })
  if not info then
    M.error('opening ' .. path, err)
    return false
  end
  local st = {
    buf = buf,
    doc = info.doc,
    path = info.path and vim.fn.fnamemodify(info.path, ':p') or path,
    version = info.version,
    dirty = false,
    line_ending = info.lineEnding,
    unsafe = {},
    stat = M.stat(path),
  }
  st.info, st.size, st.line_count = info, info.size, info.lineCount
  st.index_percent = info.indexComplete and 100 or info.indexPercent
  M.docs[buf] = st

  local bo = vim.bo[buf]
  bo.swapfile = false
  bo.undolevels = -1 -- undo is the server's; Vim's would hold copies of what the window showed
  bo.buftype = 'acwrite'
  bo.modeline = false
  bo.fileformat = 'unix' -- line breaks are the file's own; edit.lua converts what it sends
  bo.readonly = info.readOnly

  W().fill(st, 0)
  require('tome.edit').attach(st)
  if config.options.mappings then
    map_keys(st)
  end
  local group = api.nvim_create_augroup('tome_buf_' .. buf, { clear = true })
  api.nvim_create_autocmd('BufWriteCmd', {
    group = group,
    buffer = buf,
    callback = function(a)
      local s = M.docs[buf]
      if s then
        require('tome.edit').write(s, a.file ~= '' and a.file or s.path)
      end
    end,
  })
  api.nvim_create_autocmd({ 'CursorMoved', 'WinScrolled', 'InsertLeave' }, {
    group = group,
    buffer = buf,
    callback = function()
      local s = M.docs[buf]
      if s and not s.applying and api.nvim_get_current_buf() == buf then
        M.check_quickfix(s)
        W().after_move(s)
      end
    end,
  })
  api.nvim_create_autocmd({ 'BufWinEnter', 'BufEnter' }, {
    group = group,
    buffer = buf,
    callback = function()
      local s = M.docs[buf]
      if s then
        M.update_windows(s)
        M.check_quickfix(s)
        M.check_disk(s)
      end
    end,
  })
  api.nvim_create_autocmd({ 'BufUnload', 'BufWipeout' }, {
    group = group,
    buffer = buf,
    callback = function()
      M.close(buf)
    end,
  })
  M.watch_disk(st)
  M.update_windows(st)
  local ft = vim.filetype.match({ filename = path })
  if ft then
    bo.filetype = ft
  end
  if api.nvim_get_current_buf() == buf then
    -- Neovim leaves the cursor on line 0 after a BufReadCmd that sets the lines itself.
    api.nvim_win_set_cursor(0, { 1, 0 })
    if keep_line then
      W().jump(st, keep_line, 'center')
    end
  end
  st.open_ms = (uv.hrtime() - t0) / 1e6
  return true
end

--- :TomeReload: reopen the file from disk (drops unsaved changes).
function M.reload(buf)
  buf = buf or api.nvim_get_current_buf()
  local st = M.docs[buf]
  if not st then
    return vim.notify('Tome: not a Tome buffer', vim.log.levels.WARN)
  end
  M.open(buf, st.path)
end

--- Whether `path` should open through Tome.
function M.is_big(path)
  if not path or path == '' or path:match('^%a[%w+.-]*://') then
    return false
  end
  local s = uv.fs_stat(path)
  return s ~= nil and s.type == 'file' and s.size >= config.options.threshold
end

--- Makes `buf` read through Tome when it is (re)loaded: a buffer-local BufReadCmd, installed
--- when the buffer is created, so files under the threshold are read by Neovim as usual.
function M.claim(buf, force)
  if not api.nvim_buf_is_valid(buf) or vim.b[buf].tome_claimed then
    return
  end
  local name = api.nvim_buf_get_name(buf)
  if not force and not M.is_big(name) then
    return
  end
  vim.b[buf].tome_claimed = true
  api.nvim_create_autocmd('BufReadCmd', {
    group = api.nvim_create_augroup('tome_read_' .. buf, { clear = true }),
    buffer = buf,
    callback = function(a)
      M.open(a.buf, api.nvim_buf_get_name(a.buf))
    end,
  })
end

--- :Tome {file}: open any file through Tome, whatever its size.
function M.edit(path)
  path = vim.fn.fnamemodify(path, ':p')
  local buf = vim.fn.bufadd(path)
  M.claim(buf, true)
  if api.nvim_buf_is_loaded(buf) and not M.docs[buf] then
    -- Already read by Neovim (a small file): read it again, through Tome this time.
    vim.cmd('buffer ' .. buf)
    vim.cmd('edit!')
  else
    vim.cmd('buffer ' .. buf)
  end
end

function M.shutdown()
  M.exiting = true
  if client and not client.closed then
    client:stop()
  end
end

return M
