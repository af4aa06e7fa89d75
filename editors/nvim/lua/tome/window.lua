-- The windowed buffer: a Tome buffer holds file lines [base, base + n) and nothing else, so
-- Neovim's memory stays flat whatever the file's size. Motions that leave the window ask the
-- server for the right window and put the cursor on the same real line. Also the options of
-- the windows showing it: real line numbers ('statuscolumn') and the status line.
-- Requires config, state, client and marks.
local config = require('tome.config')
local state = require('tome.state')
local client = require('tome.client')
local marks = require('tome.marks')
local api = vim.api

local W = {}

--- How many lines the buffer holds: the setting, but never less than three screens so a
--- Ctrl-F from anywhere in the window still lands inside it.
function W.size()
  return math.min(1000, math.max(config.window(), 3 * vim.o.lines))
end

function W.margin()
  return math.max(config.margin(), vim.o.lines + 2)
end

-- Replaces the buffer's text without sending it to the server as an edit.
local function set_lines(st, lines)
  -- Changes not sent yet are read from the buffer: send them before it is replaced.
  if st.flush_edits then
    st.flush_edits()
  end
  st.applying = true
  local ok, err = pcall(api.nvim_buf_set_lines, st.buf, 0, -1, false, lines)
  st.applying = false
  if not ok then
    error(err)
  end
end

--- The last line a user sees (0-based), or nil when the index is not complete and `wait` is
--- false. A file ending in a line break has an empty last line in the protocol's count; like
--- Vim, we do not show it.
function W.last_line(st, wait)
  if st.last and st.last.version == st.version then
    return st.last.line
  end
  local info = client.refresh_info(st)
  if not info then
    return nil
  end
  if not info.lineCount.exact then
    if not wait then
      return nil
    end
    info = client.wait_index(st)
    if not info then
      return nil
    end
  end
  local count = info.lineCount.known
  local res = client.request('tome/viewport', { doc = st.doc, first = count - 1, count = 1 })
  if not res then
    return nil
  end
  local hide = count > 1 and res.lines[1] and res.lines[1].byteLength == 0
  st.last = { version = res.version, line = hide and count - 2 or count - 1 }
  return st.last.line
end

--- The params of a viewport for the window: lines whole within the byte budgets (see
--- config.lua), exact bytes for lines that are not valid UTF-8.
function W.params(st, first, count)
  return {
    doc = st.doc,
    first = first,
    count = count,
    rawBytes = true,
    wholeLines = { maxLineBytes = config.options.line_bytes, maxBytes = config.options.window_bytes },
  }
end

local MiB = 1024 * 1024

local function mib(n)
  return n % MiB == 0 and ('%d MiB'):format(n / MiB) or ('%.1f MiB'):format(n / MiB)
end

--- The buffer text of viewport line `l` (its exact bytes: Neovim lines hold any bytes), and,
--- when the buffer cannot hold the line as it is in the file, why (its columns are then not
--- the file's: edits touching it are refused, see edit.lua).
function W.line_text(l)
  local text, exact = l.text, not l.invalid
  if l.base64 then
    local ok, bytes = pcall(vim.base64.decode, l.base64)
    if ok then
      text, exact = bytes, true
    end
  end
  if l.cutAfter or l.cutBefore then
    local o = config.options
    if l.byteLength > o.line_bytes then
      return text, ('%s long, over the %s a line may take in the buffer (line_bytes)'):format(mib(l.byteLength),
        mib(o.line_bytes))
    end
    return text, ('not held whole: the lines above it in the window take the %s it may hold (window_bytes)'):format(
      mib(o.window_bytes))
  elseif not exact then
    -- (a server without `rawBytes`, or bad base64: U+FFFD for each invalid byte)
    return text, 'invalid UTF-8'
  end
  return text
end

--- Makes [first, first + size) the window (clamped to the file). Returns true on success.
function W.fill(st, first)
  local count = W.size()
  first = math.max(0, math.floor(first))
  local known = st.line_count and st.line_count.known or 0
  if st.line_count and st.line_count.exact and first + count > known then
    local last = W.last_line(st, false)
    if last then
      first = math.max(0, math.min(first, last + 1 - count))
    end
  end
  local res, err = client.request('tome/viewport', W.params(st, first, count))
  if not res and err and err.code == -33002 then
    -- Past the end (the file shrank, or an estimate was off): show the end instead.
    local last = W.last_line(st, true)
    if last then
      first = math.max(0, last + 1 - count)
      res, err = client.request('tome/viewport', W.params(st, first, count))
    end
  end
  if not res then
    client.error('reading lines', err)
    return false
  end
  local rl = res.lines
  local n = #rl
  local at_end = n < count or (res.lineCount.exact and n > 0 and rl[n].number == res.lineCount.known - 1)
  local hide = at_end and n > 1 and rl[n].byteLength == 0 and rl[n - 1].breakLength > 0
  if hide then
    n = n - 1
  end
  -- The window may also end on the last line shown, the empty line after it left out.
  at_end = at_end or (st.last ~= nil and st.last.version == res.version and n > 0 and rl[n].number == st.last.line)
  local lines, unsafe = {}, {}
  for i = 1, n do
    local l = rl[i]
    lines[i], unsafe[i - 1] = W.line_text(l)
  end
  if n == 0 then
    lines = { '' }
  end
  marks.save(st) -- (on the old window's lines)
  st.base, st.n, st.at_end, st.hide_last = first, math.max(n, 1), at_end, hide
  st.version, st.line_count, st.unsafe = res.version, res.lineCount, unsafe
  if at_end and res.lineCount.exact then
    st.last = { version = res.version, line = first + st.n - 1 }
  end
  set_lines(st, lines)
  marks.restore(st)
  vim.bo[st.buf].modified = st.dirty
  W.update_windows(st)
  return true
end

--- Real line numbers: 'statuscolumn' calls this (as require'tome'.lnum()) for each screen line.
function W.lnum()
  if vim.v.virtnum ~= 0 then
    return ''
  end
  local win = vim.g.statusline_winid
  local buf = win and api.nvim_win_is_valid(win) and api.nvim_win_get_buf(win) or api.nvim_get_current_buf()
  local st = state.docs[buf]
  return tostring(st and st.base and st.base + vim.v.lnum or vim.v.lnum)
end

-- (Through the entry point: these strings are what users see in :set statuscolumn?, and the
-- tests check them.)
local STATUSCOLUMN = "%=%{v:lua.require'tome'.lnum()} "
local STATUSLINE = "%<%f %h%w%r%=%{v:lua.require'tome'.status()}  %l:%c%V "

--- Window options for windows showing `st`: real line numbers, status line part.
---@param st Tome.BufState
function W.update_windows(st)
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

--- The current file line of the cursor (0-based).
function W.cursor_line(st)
  return st.base + api.nvim_win_get_cursor(0)[1] - 1
end

--- Refills the window centred on the cursor, keeping what the screen shows in place.
function W.recentre(st, line)
  local view = vim.fn.winsaveview()
  line = line or (st.base + view.lnum - 1)
  local top = st.base + view.topline - 1
  if not W.fill(st, line - math.floor(W.size() / 2)) then
    return
  end
  view.lnum = math.max(1, math.min(st.n, line - st.base + 1))
  view.topline = math.max(1, math.min(view.lnum, top - st.base + 1))
  vim.fn.winrestview(view)
end

--- Refills when the cursor is within `before`/`after` lines of an edge of the window that is
--- not an edge of the file.
function W.ensure(st, before, after)
  if not st.base then
    return
  end
  local row = api.nvim_win_get_cursor(0)[1]
  local n = api.nvim_buf_line_count(st.buf)
  if (st.base > 0 and row - 1 < before) or (not st.at_end and n - row < after) then
    W.recentre(st)
  end
end

--- After a motion (and on CursorMoved): keep a margin around the cursor. Not in Insert mode,
--- where replacing the text under the user would break the insert being typed.
function W.after_move(st)
  local mode = api.nvim_get_mode().mode
  if mode:sub(1, 1) == 'n' and not st.applying then
    local m = W.margin()
    W.ensure(st, m, m)
  end
end

--- Puts the cursor on file line `line` (0-based), refilling if needed. `view`: 'center',
--- 'bottom', 'top' or nil (Vim's own scrolling). `force` refills even inside the window.
function W.jump(st, line, view, force)
  line = math.max(0, math.floor(line))
  local known = st.line_count and st.line_count.known or 0
  if line >= known - 1 or (st.line_count and st.line_count.exact) then
    local last = W.last_line(st, line >= known - 1)
    if last and line > last then
      line = last
    end
  end
  local m = W.margin()
  local inside = line >= st.base and line < st.base + st.n
  local near = (st.base > 0 and line - st.base < m) or (not st.at_end and st.base + st.n - 1 - line < m)
  if force or not inside or near then
    if not W.fill(st, line - math.floor(W.size() / 2)) then
      return false
    end
  end
  local row = math.max(1, math.min(line - st.base + 1, api.nvim_buf_line_count(st.buf)))
  vim.cmd('keepjumps normal! ' .. row .. 'G')
  if view == 'center' then
    vim.cmd('normal! zz')
  elseif view == 'bottom' then
    vim.cmd('normal! zb')
  elseif view == 'top' then
    vim.cmd('normal! zt')
  end
  return true
end

--- The line (0-based) holding byte `offset`, waiting for the index when needed.
function W.line_of_offset(st, offset)
  local function ask()
    return client.request('tome/viewport', { doc = st.doc, around = offset, before = 0, count = 1 })
  end
  local res = ask()
  -- Past the index frontier the number is null: wait for the index, then ask again.
  if res and res.lines[1] and res.lines[1].number == nil then
    client.wait_index(st)
    res = ask()
  end
  if not res or not res.lines[1] or not res.lines[1].number then
    return nil
  end
  return res.lines[1].number, offset - res.lines[1].offset
end

-- Motions. Each is called from a <Cmd> mapping, so v:count is the count the user typed.

function W.goto_line(st, n) -- 1-based, as in :N and {count}G
  W.jump(st, n - 1, 'center')
end

function W.motion_G(st)
  if vim.v.count > 0 then
    return W.goto_line(st, vim.v.count)
  end
  local last = W.last_line(st, true)
  if last then
    W.jump(st, last, 'bottom')
  end
end

function W.motion_gg(st)
  W.jump(st, math.max(1, vim.v.count1) - 1, vim.v.count > 0 and 'center' or nil)
end

function W.motion_percent(st)
  if vim.v.count == 0 then
    return vim.cmd('normal! %')
  end
  local last = W.last_line(st, true)
  if last then
    -- Vim's formula: ({count} * number-of-lines + 99) / 100.
    local n = math.floor((math.min(vim.v.count, 100) * (last + 1) + 99) / 100)
    W.jump(st, n - 1, 'center')
  end
end

--- j/k (and <Down>/<Up>): a big count jumps through the server; otherwise make room and let
--- Vim move, so 'curswant' and folds behave as usual.
function W.motion_vertical(st, key, dir)
  local count = vim.v.count1
  if count > W.margin() then
    local target = W.cursor_line(st) + dir * count
    return W.jump(st, target, 'center')
  end
  W.ensure(st, count + 1, count + 1)
  vim.cmd('normal! ' .. count .. key)
  W.after_move(st)
end

--- Ctrl-D/U/F/B: scroll by screens; more than the window can hold goes through the server.
function W.motion_scroll(st, key, dir)
  local count = vim.v.count1
  local h = api.nvim_win_get_height(0)
  local dist = (key == '\6' or key == '\2') and count * h or h
  if dist + h > W.margin() then
    return W.jump(st, W.cursor_line(st) + dir * dist, 'center')
  end
  W.ensure(st, dist + h, dist + h)
  vim.cmd('normal! ' .. (vim.v.count > 0 and count or '') .. key)
  W.after_move(st)
end

return W
