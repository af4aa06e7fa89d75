-- A Tome buffer's life: the open (the BufReadCmd that init.claim installs), attaching a
-- document to a buffer (options, edits, keys, autocommands) and closing it.
-- Requires config, state, client, marks, window, edit, search, keymaps, disk and encoding;
-- recovery only where an open found something to recover (recovery requires this module to
-- open and attach).
local config = require('tome.config')
local state = require('tome.state')
local client = require('tome.client')
local W = require('tome.window')
local marks = require('tome.marks')
local E = require('tome.edit')
local S = require('tome.search')
local keymaps = require('tome.keymaps')
local disk = require('tome.disk')
local encoding = require('tome.encoding')
local api = vim.api
local uv = vim.uv or vim.loop

local B = {}

--- Forgets `buf`'s document and tells the server (if it still runs) to close it.
function B.close(buf)
  local st = state.docs[buf]
  if not st then
    return
  end
  -- (its file marks go on their real line numbers, for when it is opened again and ShaDa)
  marks.detach(st)
  state.docs[buf] = nil
  local c = client.running(st.doc)
  if c then
    c:request('tome/close', { doc = st.doc }, function() end)
  end
end

--- `nvim +N FILE`, `nvim + FILE` and `nvim +/pat FILE`: Neovim runs the command on the
--- window's lines once the file is read; when startup is over (VimEnter), this repeats it on
--- the whole file. (Other +commands are left as Neovim ran them.)
---@param st Tome.BufState
function B.startup_command(st)
  local cmd
  for _, a in ipairs(vim.v.argv) do
    if a == '+' or a:match('^%+%d+$') or a:match('^%+/') then
      cmd = a
    end
  end
  if not cmd then
    return
  end
  api.nvim_create_autocmd('VimEnter', {
    once = true,
    callback = function()
      if state.docs[st.buf] ~= st or api.nvim_get_current_buf() ~= st.buf then
        return
      end
      if cmd == '+' then
        W.motion_G(st)
      elseif cmd:match('^%+%d+$') then
        W.goto_line(st, math.max(1, tonumber(cmd:sub(2))))
      else
        S.search(st, cmd:sub(3), false)
      end
    end,
  })
end

--- Makes `buf` show document `info` (a reply shaped like `tome/open`'s): the window, edits,
--- keys, autocommands. `path` is the file (nil for a document without one). `early`: lines the
--- open's reply brought ({ first, count, reply }), read by the first fill instead of asking.
---@return Tome.BufState
function B.attach(buf, info, path, early)
  local st = state.new(buf, info.doc, path)
  state.take_info(st, info)
  state.docs[buf] = st
  st.first_viewport = early

  local bo = vim.bo[buf]
  bo.swapfile = false
  -- Undo is the server's. One level of Vim's (not -1) so that each change has Vim's undo
  -- sequence number: edit.lua sends the changes of one command as one server undo step.
  bo.undolevels = 0
  bo.buftype = 'acwrite'
  bo.modeline = false
  bo.fileformat = 'unix' -- line breaks are the file's own; edit.lua converts what it sends
  bo.readonly = info.readOnly

  marks.adopt(st) -- (file marks Neovim has for this file hold file lines)
  marks.from_server(st, info.bookmarks) -- (and the server's bookmarks A-Z, over those)
  W.fill(st, 0)
  -- ('fileencoding', 'bomb'; a compressed file is not modifiable: window.lua's refills unlock it)
  encoding.apply(st)
  E.attach(st)
  if config.options.mappings then
    keymaps.map(st)
  end
  if vim.v.vim_did_enter == 0 then
    B.startup_command(st)
  end
  local group = api.nvim_create_augroup('tome_buf_' .. buf, { clear = true })
  api.nvim_create_autocmd('BufWriteCmd', {
    group = group,
    buffer = buf,
    callback = function(a)
      local s = state.docs[buf]
      if not s then
        return
      end
      -- `:w` names the buffer (its file, or tome://recovered/… for a document without one);
      -- `:w {file}` and `:saveas {file}` name another file.
      local target = a.file
      if target == '' or target:match('^tome://recovered/') or target == api.nvim_buf_get_name(buf) then
        target = s.path
      end
      if encoding.refuse_write(s, target) then
        return
      end
      if not target then
        -- A recovered document has no file yet: like an unnamed buffer, it needs a name.
        return vim.notify('Tome: this buffer has no file yet; write it with :w {file}', vim.log.levels.ERROR)
      end
      E.write(s, target)
    end,
  })
  local function moved()
    local s = state.docs[buf]
    if s and s.append_pending then
      disk.show_append(s)
    end
    if s and not s.applying and api.nvim_get_current_buf() == buf then
      -- (a jump Neovim made in the window, while its row is still that file line)
      require('tome.jumps').take_native(s)
      S.check_quickfix(s)
      W.after_move(s)
    end
  end
  api.nvim_create_autocmd({ 'CursorMoved', 'WinScrolled' }, { group = group, buffer = buf, callback = moved })
  -- InsertLeave comes before the command that inserted is done: a Visual-block insert (CTRL-V
  -- I) copies the text to the other lines after it. A refill then would lose the copies.
  api.nvim_create_autocmd('InsertLeave', {
    group = group,
    buffer = buf,
    callback = function()
      local s = state.docs[buf]
      if s then
        require('tome.reach').insert_left(s)
      end
      vim.schedule(moved)
    end,
  })
  api.nvim_create_autocmd({ 'BufWinEnter', 'BufEnter' }, {
    group = group,
    buffer = buf,
    callback = function()
      local s = state.docs[buf]
      if s then
        W.update_windows(s)
        S.check_quickfix(s)
        if s.append_pending then
          disk.show_append(s)
        end
      end
    end,
  })
  api.nvim_create_autocmd({ 'BufUnload', 'BufWipeout' }, {
    group = group,
    buffer = buf,
    callback = function()
      B.close(buf)
    end,
  })
  W.update_windows(st)
  require('tome.highlight').attach(st)
  return st
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
--- `enc`: the encoding to read it in (Vim's name or a WHATWG label, from `++enc`); without
--- it, the one chosen for this buffer's document before (`:e!` keeps it), else detected.
function B.open(buf, path, interrupted, enc)
  path = vim.fn.fnamemodify(path, ':p')
  local old = state.docs[buf]
  local keep_line = old and old.base and api.nvim_get_current_buf() == buf and W.cursor_line(old)
  -- (`:e!` unloads the buffer first: the choice is kept in a buffer variable, for this file)
  local chosen = vim.b[buf].tome_encoding
  local label = enc and encoding.label(enc) or (type(chosen) == 'table' and chosen.path == path and chosen.label) or nil
  B.close(buf)
  local t0 = uv.hrtime()
  local info, err, asked
  if interrupted == nil and label == nil then
    info, err, asked = client.take_early_open(path) -- (sent at startup: init.claim)
  end
  if info == nil and err == nil then
    info, err = client.request('tome/open', { path = path, interruptedSave = interrupted, encoding = label })
  end
  local interrupted_data
  if not info and type(err) == 'table' and err.code == -33014 then
    interrupted_data = err.data or {}
    info, err = client.request('tome/open', { path = path, interruptedSave = 'keep', encoding = label })
  end
  if not info then
    local msg = label and encoding.error_message(enc or label, err)
    if msg then
      api.nvim_echo({ { msg, 'ErrorMsg' } }, true, {})
    else
      client.error('opening ' .. path, err)
    end
    return false
  end
  local early = asked and type(info.viewport) == 'table'
    and { first = asked.first, count = asked.count, reply = info.viewport }
  local st = B.attach(buf, info, info.path and info.path ~= '' and vim.fn.fnamemodify(info.path, ':p') or path, early)
  vim.b[buf].tome_encoding = label and { path = path, label = label } or nil
  local function set_filetype()
    local ft = api.nvim_buf_is_valid(buf) and state.docs[buf] == st and vim.filetype.match({ filename = path })
    if ft then
      vim.bo[buf].filetype = ft
    end
  end
  if vim.v.vim_did_enter == 0 then
    -- `nvim FILE`: the first screen first; the filetype (its detection loads a few ms of
    -- Lua, then syntax and ftplugins run) right after it.
    vim.schedule(set_filetype)
  else
    set_filetype()
  end
  if api.nvim_get_current_buf() == buf then
    -- Neovim leaves the cursor on line 0 after a BufReadCmd that sets the lines itself.
    api.nvim_win_set_cursor(0, { 1, 0 })
    if keep_line then
      W.jump(st, keep_line, 'center')
    end
  end
  -- (Required here, not at the top: recovery requires this module, to open and attach.)
  if type(info.recovery) == 'table' then
    st.recovery = info.recovery
    require('tome.recovery').offer(st, info.recovery)
  end
  if interrupted_data then
    require('tome.recovery').tell_interrupted(st, interrupted_data)
  end
  tell_warnings(info.warnings)
  st.open_ms = (uv.hrtime() - t0) / 1e6
  return true
end

return B
