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
      M.on_notify(method, params)
    end,
    on_exit = function(code, signal)
      if next(M.docs) and not M.exiting then
        local how = signal and signal ~= 0 and ('signal ' .. signal) or ('code ' .. tostring(code))
        local dirty = false
        for _, st in pairs(M.docs) do
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

--- Notifications the server sends on its own.
function M.on_notify(method, params)
  if method == 'tome/didChangeOnDisk' then
    M.on_disk_change(params)
  else
    require('tome.status').on_notify(method, params)
  end
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
  local ok, c = pcall(M.client)
  if not ok then
    return nil, { message = c }
  end
  return c:request_sync(method, params, timeout or config.options.timeout)
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
            if info.lineCount.exact and info.version == st.version and not M.busy() then
              -- The last line users see (a final line break ends the last line, as in Vim):
              -- the status line's count then agrees with G.
              require('tome.window').last_line(st, false)
            end
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
    end
    -- (checked on its own: `:edit` of another Tome file in this window keeps 'statuscolumn'
    -- but Neovim 0.12 gives the new buffer its default 'statusline')
    if config.options.statusline and wo.statusline ~= STATUSLINE then
      wo.statusline = STATUSLINE
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

--- `tome/didChangeOnDisk`: the server watches every open file (no polling here) and says what
--- another program did to it. An append was already added to the document: show it. Any
--- other change is reported once, with :TomeReload to take the file's new content.
function M.on_disk_change(p)
  if type(p) ~= 'table' then
    return
  end
  for _, st in pairs(M.docs) do
    if st.doc == p.doc then
      st.disk_events = (st.disk_events or 0) + 1
      if p.change == 'appended' then
        st.dirty = p.dirty
        st.append_pending = true
        M.show_append(st)
      else
        M.report_disk_change(st, p)
      end
    end
  end
end

function M.report_disk_change(st, p)
  st.changed_on_disk = p.change
  st.warned = st.warned or {}
  if not st.warned[p.change] then
    st.warned[p.change] = true
    local name = vim.fn.fnamemodify(st.path or '', ':~:.')
    local offer = ''
    if p.change ~= 'deleted' then -- (the server's message says :w writes it again)
      offer = ' :TomeReload reads it again' .. (p.dirty and ' (dropping your unsaved changes).' or '.')
    end
    vim.notify(('Tome: %s: %s.%s'):format(name, p.message or p.change, offer), vim.log.levels.WARN)
  end
  api.nvim_exec_autocmds('User', {
    pattern = 'TomeFileChanged',
    data = { buf = st.buf, path = st.path, change = p.change, message = p.message },
  })
end

--- Shows lines appended to the file (the server already added them to the document). Windows
--- whose cursor is on the last line, and all of them with :TomeFollow, go on to the new end
--- (like `tail -f`); the others stay where they are. Not while the user types (Insert mode)
--- or waits for a request: InsertLeave, or a timer, comes back here.
function M.show_append(st)
  if M.docs[st.buf] ~= st or not st.append_pending then
    return
  end
  if api.nvim_get_current_buf() == st.buf and api.nvim_get_mode().mode:match('^[iR]') then
    return
  end
  if M.busy() or st.applying or st.saving then
    return vim.defer_fn(function()
      M.show_append(st)
    end, 50)
  end
  st.append_pending = nil
  -- The last line as it was before the append (known when the window reached the end).
  local last = st.last and st.last.version == st.version and st.last.line
  local wins, follow = vim.fn.win_findbuf(st.buf), {}
  for _, win in ipairs(wins) do
    local row = api.nvim_win_get_cursor(win)[1]
    follow[win] = st.follow or (last and st.base + row - 1 >= last) or false
  end
  -- Edits already sent were numbered before the append: let them land, then take the version.
  vim.wait(2000, function()
    return (st.edits_in_flight or 0) == 0
  end, 5)
  local info = M.refresh_info(st)
  if not info then
    return
  end
  st.version, st.last = info.version, nil
  if info.lineCount.exact then
    W().last_line(st, false) -- the count the status line shows
  else
    M.watch_index(st) -- the appended part is being indexed
  end
  if st.at_end or vim.tbl_contains(vim.tbl_values(follow), true) then
    local views = {}
    for _, win in ipairs(wins) do
      views[win] = api.nvim_win_call(win, vim.fn.winsaveview)
    end
    if W().fill(st, st.base) then
      for _, win in ipairs(wins) do
        api.nvim_win_call(win, function()
          if follow[win] then
            local new_last = W().last_line(st, true)
            if new_last then
              W().jump(st, new_last, 'bottom')
            end
          else
            vim.fn.winrestview(views[win])
          end
        end)
      end
    end
  end
  M.update_windows(st)
  vim.cmd('redrawstatus!')
  api.nvim_exec_autocmds('User', {
    pattern = 'TomeFileChanged',
    data = { buf = st.buf, path = st.path, change = 'appended' },
  })
end

--- :TomeFollow: keep the cursor on the last line as the file grows (toggle).
function M.follow(buf, on)
  local st = M.docs[buf or api.nvim_get_current_buf()]
  if not st then
    return vim.notify('Tome: not a Tome buffer', vim.log.levels.WARN)
  end
  if on == nil then
    on = not st.follow
  end
  st.follow = on or nil
  if on and api.nvim_get_current_buf() == st.buf then
    local last = W().last_line(st, true)
    if last then
      W().jump(st, last, 'bottom')
    end
  end
  vim.notify(on and 'Tome: following the end of the file' or 'Tome: not following', vim.log.levels.INFO)
  vim.cmd('redrawstatus!')
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
  if client and not client.closed then
    client:request('tome/close', { doc = st.doc }, function() end)
  end
end

--- Sets `st` (the document state) from a `tome/open`-shaped reply.
local function take_info(st, info)
  st.info, st.size, st.line_count = info, info.size, info.lineCount
  st.index_percent = info.indexComplete and 100 or info.indexPercent
  st.version, st.dirty, st.line_ending = info.version, info.dirty, info.lineEnding
  st.last = nil
end

--- Until the line index of `st` is complete, asks for its progress now and then: after
--- `tome/reload`, and for appended lines, the server indexes without reporting progress.
function M.watch_index(st)
  if (st.index_percent >= 100 and st.line_count and st.line_count.exact) or st.index_timer then
    return
  end
  st.index_timer = true
  local function tick()
    if M.docs[st.buf] ~= st or not client or client.closed then
      st.index_timer = nil
      return
    end
    client:request('tome/info', { doc = st.doc }, function(_, info)
      if not info or M.docs[st.buf] ~= st then
        st.index_timer = nil
        return
      end
      st.line_count, st.size = info.lineCount, info.size
      st.index_percent = info.indexComplete and 100 or info.indexPercent
      if info.lineCount.exact then
        st.index_timer = nil
        if info.version == st.version and not M.busy() then
          W().last_line(st, false)
        end
        M.update_windows(st)
        vim.cmd('redrawstatus!')
      else
        vim.defer_fn(tick, 200)
      end
    end)
  end
  vim.defer_fn(tick, 200)
end

--- Makes `buf` show document `info` (a reply shaped like `tome/open`'s): the window, edits,
--- keys, autocommands. `path` is the file (nil for a document without one).
function M.attach(buf, info, path)
  local st = {
    buf = buf,
    doc = info.doc,
    path = path,
    untitled = path == nil or nil,
    unsafe = {},
  }
  take_info(st, info)
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
      if not s then
        return
      end
      -- `:w` names the buffer (its file, or tome://recovered/… for a document without one);
      -- `:w {file}` and `:saveas {file}` name another file.
      local target = a.file
      if target == '' or target:match('^tome://') then
        target = s.path
      end
      if not target then
        -- A recovered document has no file yet: like an unnamed buffer, it needs a name.
        return vim.notify('Tome: this buffer has no file yet; write it with :w {file}', vim.log.levels.ERROR)
      end
      require('tome.edit').write(s, target)
    end,
  })
  api.nvim_create_autocmd({ 'CursorMoved', 'WinScrolled', 'InsertLeave' }, {
    group = group,
    buffer = buf,
    callback = function()
      local s = M.docs[buf]
      if s and s.append_pending then
        M.show_append(s)
      end
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
        if s.append_pending then
          M.show_append(s)
        end
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
  M.update_windows(st)
  return st
end

--- Tells the user (once, at open) that an earlier session left unsaved changes to this file.
local function offer_recovery(st, rec)
  local name = vim.fn.fnamemodify(st.path, ':~:.')
  local one = rec.changes == 1
  local n = ('%d unsaved change%s'):format(rec.changes, one and '' or 's')
  local were, them = one and 'was' or 'were', one and 'it' or 'them'
  local msg
  if rec.fits then
    msg = ('Tome: %s to %s from an earlier session %s found. '
      .. ':TomeRecover restores %s, :TomeDiscardRecovery deletes %s.'):format(n, name, were, them, them)
  else
    msg = ('Tome: %s to %s from an earlier session %s found, but the file changed since. '
      .. ':TomeRecover opens %s in a new buffer (the file as it is now, with %s), '
      .. ':TomeDiscardRecovery deletes %s.'):format(n, name, were, them, one and 'that change' or 'those changes', them)
  end
  st.recovery_notice = msg
  -- After the open: messages given while a file is read are overwritten by its own.
  vim.schedule(function()
    if M.docs[st.buf] ~= st or not st.recovery then
      return
    end
    vim.notify(msg, vim.log.levels.WARN)
    if config.options.recovery_prompt then
      vim.ui.select({ 'Recover', 'Discard', 'Decide later' }, {
        prompt = ('Tome: %s to %s from an earlier session:'):format(n, name),
      }, function(choice)
        if choice == 'Recover' then
          M.recover(st.buf)
        elseif choice == 'Discard' then
          M.discard_recovery(st.buf)
        end
      end)
    end
  end)
end

--- Tells the user that an in-place save of the file was interrupted and left a backup, which
--- the server never restores by itself (like Vim's ATTENTION for a swap file, but after the
--- file is shown as it is): :TomeRestoreBackup or :TomeDiscardBackup decide.
local function tell_interrupted(st, data)
  local name = vim.fn.fnamemodify(st.path, ':~:.')
  local msg = ('Tome: a save of %s was interrupted (the server died while writing it); the file as it was '
    .. 'before is in %s.%s Shown as it is now. :TomeRestoreBackup puts the earlier file back, '
    .. ':TomeDiscardBackup keeps it as it is and deletes the backup.'):format(
    name,
    data.backup or '?',
    data.changedSince and ' The file was changed by another program since: restoring would lose that.' or ''
  )
  st.interrupted = data
  vim.schedule(function()
    if M.docs[st.buf] ~= st then
      return
    end
    vim.notify(msg, vim.log.levels.WARN)
    if config.options.recovery_prompt then
      vim.ui.select({ 'Restore backup', 'Keep file as it is', 'Decide later' }, {
        prompt = ('Tome: an interrupted save of %s left a backup:'):format(name),
      }, function(choice)
        if choice == 'Restore backup' then
          M.resolve_interrupted(st.buf, 'restore')
        elseif choice == 'Keep file as it is' then
          M.resolve_interrupted(st.buf, 'discard')
        end
      end)
    end
  end)
end

--- The server's `warnings` of an open (an ignored backup, a file journaled elsewhere).
local function tell_warnings(warnings)
  if type(warnings) ~= 'table' or #warnings == 0 then
    return
  end
  vim.schedule(function()
    for _, w in ipairs(warnings) do
      vim.notify('Tome: ' .. tostring(w.message), vim.log.levels.WARN)
    end
  end)
end

--- Opens `path` through Tome into buffer `buf` (the BufReadCmd of big files, and :Tome).
--- `interrupted` answers the server's question about an interrupted save ('restore',
--- 'discard' or 'keep'); without it, such a file opens as it is and the user is told.
function M.open(buf, path, interrupted)
  path = vim.fn.fnamemodify(path, ':p')
  local old = M.docs[buf]
  local keep_line = old and old.base and api.nvim_get_current_buf() == buf and W().cursor_line(old)
  M.close(buf)
  local t0 = uv.hrtime()
  local info, err = M.request('tome/open', { path = path, interruptedSave = interrupted })
  local interrupted_data
  if not info and type(err) == 'table' and err.code == -33014 then
    interrupted_data = err.data or {}
    info, err = M.request('tome/open', { path = path, interruptedSave = 'keep' })
  end
  if not info then
    M.error('opening ' .. path, err)
    return false
  end
  local st = M.attach(buf, info, info.path and info.path ~= '' and vim.fn.fnamemodify(info.path, ':p') or path)
  local ft = vim.filetype.match({ filename = path })
  if ft then
    vim.bo[buf].filetype = ft
  end
  if api.nvim_get_current_buf() == buf then
    -- Neovim leaves the cursor on line 0 after a BufReadCmd that sets the lines itself.
    api.nvim_win_set_cursor(0, { 1, 0 })
    if keep_line then
      W().jump(st, keep_line, 'center')
    end
  end
  if type(info.recovery) == 'table' then
    st.recovery = info.recovery
    offer_recovery(st, info.recovery)
  end
  if interrupted_data then
    tell_interrupted(st, interrupted_data)
  end
  tell_warnings(info.warnings)
  st.open_ms = (uv.hrtime() - t0) / 1e6
  return true
end

--- :TomeRestoreBackup / :TomeDiscardBackup: answers the question of an interrupted save by
--- opening the file again with `answer` ('restore' or 'discard').
function M.resolve_interrupted(buf, answer)
  buf = buf or api.nvim_get_current_buf()
  local st = M.docs[buf]
  if not st or not st.interrupted then
    return vim.notify('Tome: no interrupted save to decide about in this buffer', vim.log.levels.WARN)
  end
  if st.dirty then
    return vim.notify('Tome: this buffer has unsaved changes; undo them or save elsewhere first', vim.log.levels.WARN)
  end
  M.open(buf, st.path, answer)
end

local function current(buf)
  local st = M.docs[buf or api.nvim_get_current_buf()]
  if not st then
    vim.notify('Tome: not a Tome buffer', vim.log.levels.WARN)
  end
  return st
end

--- :TomeReload: read the file again from disk (`tome/reload`; drops unsaved changes).
function M.reload(buf)
  local st = current(buf)
  if not st then
    return
  end
  if st.untitled then
    return vim.notify('Tome: this buffer has no file to reload', vim.log.levels.WARN)
  end
  local line = api.nvim_get_current_buf() == st.buf and st.base and W().cursor_line(st)
  vim.wait(2000, function()
    return (st.edits_in_flight or 0) == 0
  end, 5)
  local info, err = M.request('tome/reload', { doc = st.doc })
  if not info then
    return M.error('reloading ' .. vim.fn.fnamemodify(st.path, ':~:.'), err)
  end
  take_info(st, info)
  st.changed_on_disk, st.warned, st.append_pending = nil, nil, nil
  if line then
    W().jump(st, line, 'center', true)
  else
    W().fill(st, st.base or 0)
  end
  M.watch_index(st)
  vim.notify(('Tome: %s read again from disk'):format(vim.fn.fnamemodify(st.path, ':~:.')), vim.log.levels.INFO)
end

local RECOVERY_ERRORS = {
  [-33003] = 'it was edited in this session before :TomeRecover (the changes apply to the file as opened)',
  [-33010] = 'the file changed since those changes were journaled',
  [-33005] = 'the file is gone: there is nothing to replay the changes onto',
  [-32602] = 'there is nothing to recover',
}

local function recovery_error(st, what, err)
  local why = err and RECOVERY_ERRORS[err.code]
  local msg = err and err.message or tostring(err)
  vim.notify(('Tome: %s %s failed: %s%s'):format(what, vim.fn.fnamemodify(st.path or '', ':~:.'),
    why and (why .. ' — ') or '', msg), vim.log.levels.ERROR)
end

--- A name for a new buffer that is not taken yet.
local function free_name(name)
  local candidate, i = name, 1
  while vim.fn.bufexists(candidate) == 1 do
    i = i + 1
    candidate = ('%s (%d)'):format(name, i)
  end
  return candidate
end

--- :TomeRecover: the unsaved changes of an earlier session, found at open. If they still fit
--- the file they are replayed into this buffer (`tome/recover`; it becomes modified); if the
--- file changed since, into a new buffer without a file (`tome/recoverAsNew`; `:w {file}`
--- saves it), leaving this one as it is.
function M.recover(buf)
  local st = current(buf)
  if not st then
    return
  end
  if not st.recovery then
    return vim.notify('Tome: nothing to recover for this buffer', vim.log.levels.WARN)
  end
  if st.recovery.fits then
    if st.dirty then
      -- The server would refuse (-33003); it is clearer said before asking.
      return recovery_error(st, 'recovering into', {
        code = -33003,
        message = 'undo your changes (or :TomeReload) first, or :TomeDiscardRecovery',
      })
    end
    local res, err = M.request('tome/recover', { doc = st.doc }, 24 * 3600 * 1000)
    if not res then
      return recovery_error(st, 'recovering into', err)
    end
    st.recovery, st.recovery_notice = nil, nil
    local line = api.nvim_get_current_buf() == st.buf and W().cursor_line(st) or st.base
    local info = M.refresh_info(st)
    if info then
      st.version, st.last = info.version, nil
    end
    if api.nvim_get_current_buf() == st.buf then
      W().jump(st, line, nil, true)
    else
      W().fill(st, st.base)
    end
    vim.bo[st.buf].modified = st.dirty
    vim.notify(('Tome: recovered %d change%s%s; :w saves the file'):format(res.applied, res.applied == 1 and '' or 's',
      res.stoppedEarly and (' (replay stopped early: ' .. res.stoppedEarly .. ')') or ''),
      res.stoppedEarly and vim.log.levels.WARN or vim.log.levels.INFO)
    return true
  end
  local res, err = M.request('tome/recoverAsNew', { doc = st.doc }, 24 * 3600 * 1000)
  if not res then
    return recovery_error(st, 'recovering the changes to', err)
  end
  local nb = api.nvim_create_buf(true, false)
  api.nvim_buf_set_name(nb, free_name('tome://recovered/' .. vim.fn.fnamemodify(st.path, ':t')))
  vim.b[nb].tome_claimed = true
  api.nvim_create_autocmd('BufReadCmd', {
    group = api.nvim_create_augroup('tome_read_' .. nb, { clear = true }),
    buffer = nb,
    callback = function(a)
      local s = M.docs[a.buf]
      if s and s.untitled then
        -- :e! on a document without a file: show the server's text again.
        W().recentre(s)
      elseif s then
        M.open(a.buf, s.path)
      end
    end,
  })
  api.nvim_set_current_buf(nb)
  local nst = M.attach(nb, res.document, nil)
  nst.recovered_from = st.path
  local ft = vim.filetype.match({ filename = st.path })
  if ft then
    vim.bo[nb].filetype = ft
  end
  api.nvim_win_set_cursor(0, { 1, 0 })
  vim.bo[nb].modified = true
  vim.notify(('Tome: %d change%s to %s recovered into this new buffer, over the file as it is now%s. '
    .. 'Check it, then save it with :w {file}.'):format(res.applied, res.applied == 1 and '' or 's',
    vim.fn.fnamemodify(st.path, ':~:.'),
    res.stoppedEarly and (' (replay stopped early: ' .. res.stoppedEarly .. ')') or ''), vim.log.levels.WARN)
  return nb
end

--- :TomeDiscardRecovery: delete the unsaved changes an earlier session left for this file.
function M.discard_recovery(buf)
  local st = current(buf)
  if not st then
    return
  end
  local res, err = M.request('tome/discardRecovery', { doc = st.doc })
  if not res then
    return recovery_error(st, 'discarding the earlier changes to', err)
  end
  st.recovery, st.recovery_notice = nil, nil
  vim.notify(res.discarded and 'Tome: the unsaved changes of the earlier session were deleted'
    or 'Tome: nothing to discard', vim.log.levels.INFO)
  return res.discarded
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
