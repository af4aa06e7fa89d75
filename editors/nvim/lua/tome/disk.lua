-- What other programs do to an open file. The server watches every open file (no polling
-- here) and says what changed (`tome/didChangeOnDisk`, registered with the client below): an
-- append was already added to the document and is shown (followed, like `tail -f`, from the
-- last line or with :TomeFollow); any other change is reported once, and :TomeReload takes the
-- file's new content. Requires state, client, window and status.
local state = require('tome.state')
local client = require('tome.client')
local W = require('tome.window')
local status = require('tome.status')
local api = vim.api

local D = {}

--- `tome/didChangeOnDisk`: an append is shown, other changes are reported.
function D.on_change(p)
  if type(p) ~= 'table' then
    return
  end
  for _, st in pairs(state.docs) do
    if st.doc == p.doc then
      st.disk_events = (st.disk_events or 0) + 1
      if p.change == 'appended' then
        st.dirty = p.dirty
        st.append_pending = true
        D.show_append(st)
      else
        D.report_change(st, p)
      end
    end
  end
end

---@param st Tome.BufState
function D.report_change(st, p)
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
---@param st Tome.BufState
function D.show_append(st)
  if state.docs[st.buf] ~= st or not st.append_pending then
    return
  end
  if api.nvim_get_current_buf() == st.buf and api.nvim_get_mode().mode:match('^[iR]') then
    return
  end
  if client.busy() or st.applying or st.saving then
    return vim.defer_fn(function()
      D.show_append(st)
    end, 50)
  end
  st.append_pending = nil
  -- The last line as it was before the append (known when the window reached the end).
  local last = st.last and st.last.version == st.version and st.last.line
  local wins, follow = vim.fn.win_findbuf(st.buf), {}
  for _, win in ipairs(wins) do
    local row = api.nvim_win_get_cursor(win)[1]
    follow[win] = st.follow or (last and st.base + row - 1 >= last)
      or (st.estimated and st.at_end and row >= api.nvim_buf_line_count(st.buf)) or false
  end
  -- Edits already sent were numbered before the append: let them land, then take the version.
  vim.wait(2000, function()
    return (st.edits_in_flight or 0) == 0
  end, 5)
  local info = client.refresh_info(st)
  if not info then
    return
  end
  st.version, st.last = info.version, nil
  if info.lineCount.exact then
    W.last_line(st, false) -- the count the status line shows
  else
    status.watch_index(st) -- the appended part is being indexed
  end
  if st.at_end or vim.tbl_contains(vim.tbl_values(follow), true) then
    local views = {}
    for _, win in ipairs(wins) do
      views[win] = api.nvim_win_call(win, vim.fn.winsaveview)
    end
    if W.refill(st) then
      for _, win in ipairs(wins) do
        api.nvim_win_call(win, function()
          if follow[win] then
            W.goto_end(st, 'bottom')
          else
            vim.fn.winrestview(views[win])
          end
        end)
      end
    end
  end
  W.update_windows(st)
  vim.cmd('redrawstatus!')
  api.nvim_exec_autocmds('User', {
    pattern = 'TomeFileChanged',
    data = { buf = st.buf, path = st.path, change = 'appended' },
  })
end

--- :TomeFollow: keep the cursor on the last line as the file grows (toggle).
function D.follow(buf, on)
  local st = state.current(buf)
  if not st then
    return
  end
  if on == nil then
    on = not st.follow
  end
  st.follow = on or nil
  if on and api.nvim_get_current_buf() == st.buf then
    W.goto_end(st, 'bottom')
  end
  vim.notify(on and 'Tome: following the end of the file' or 'Tome: not following', vim.log.levels.INFO)
  vim.cmd('redrawstatus!')
end

--- :TomeReload: read the file again from disk (`tome/reload`; drops unsaved changes).
function D.reload(buf)
  local st = state.current(buf)
  if not st then
    return
  end
  if st.untitled then
    return vim.notify('Tome: this buffer has no file to reload', vim.log.levels.WARN)
  end
  local line = api.nvim_get_current_buf() == st.buf and st.base and W.cursor_line(st)
  vim.wait(2000, function()
    return (st.edits_in_flight or 0) == 0
  end, 5)
  local info, err = client.request('tome/reload', { doc = st.doc })
  if not info then
    return client.error('reloading ' .. vim.fn.fnamemodify(st.path, ':~:.'), err)
  end
  state.take_info(st, info)
  st.changed_on_disk, st.warned, st.append_pending = nil, nil, nil
  st.undo_positions = nil -- (the server's undo history starts again)
  if line then
    W.jump(st, line, 'center', true)
  else
    W.fill(st, st.base or 0)
  end
  status.watch_index(st)
  vim.notify(('Tome: %s read again from disk'):format(vim.fn.fnamemodify(st.path, ':~:.')), vim.log.levels.INFO)
end

client.handle('tome/didChangeOnDisk', D.on_change)

return D
