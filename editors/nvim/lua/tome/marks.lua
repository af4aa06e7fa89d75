-- Marks on file lines. Neovim keeps marks on buffer rows, and a refill replaces the rows (the
-- window now shows other file lines): a mark set on line 3 000 would be lost, or worse point
-- at whatever the row holds next. Before each refill the plugin records the buffer's marks as
-- file lines (`M.save`), after it puts back those the new window shows (`M.restore`); marks
-- outside the window are kept here and followed by `'x`, `` `x ``, `d'x`, `y'x` and ranges
-- (`:'a,'bd`) through `M.get`, and listed by `:marks` (`M.listing`). Lines added or removed in
-- the window move the kept marks below it, as Vim moves marks.
--
-- Kept this way: a-z (per buffer, `st.marks`), the marks `:marks` lists (`"` `[` `]` `^` `<`
-- `>`, also in `st.marks`; `'` and `.` are jumps.lua's), and A-Z, the file marks (one each for
-- all buffers: `M.files`). A file mark outside the window stays set in Neovim too, on its
-- buffer at a placeholder row past the last one (`setpos()` allows it, and lines added or
-- removed in the window keep it past the end): so `:delmarks A`, or `mA` in another buffer,
-- seen as Neovim's mark gone or moved, are obeyed wherever they were typed, and `'A` from
-- another buffer at least switches to the Tome buffer. When a Tome buffer is closed or Neovim
-- exits (`M.detach`), its file marks are set on their real line numbers (past the rows, where
-- `setpos()` allows it): ShaDa writes those, and a Tome buffer opened later takes the file
-- marks Neovim has for it as file lines (`M.adopt`) before its first fill.
--
-- An estimated window (window.lua: past the index frontier, numbers not known yet) holds no
-- marks: `m` there first waits for the index (keymaps.lua), kept marks are shown again once it
-- has its numbers, and every kept mark lies above it (a mark's line was indexed when it was set,
-- and the index only moves on), so nothing there moves them.
--
-- A-Z are also the server's bookmarks of the file (`tome/setBookmark`, docs/protocol.md): `mA`
-- sets bookmark "A" where the cursor is, a file mark deleted (`:delmarks A`) or set in another
-- buffer deletes it; the server moves them with the edits and keeps them in its state
-- directory, and `tome/open` offers them again for the unchanged file, which `M.from_server`
-- takes as the buffer's file marks (over ShaDa's). So `'A` works after quitting Neovim even
-- without ShaDa, and not on a file changed since (the server drops them then).
--
-- Limits: a change the server makes to the whole file (:s, :g) does not move kept marks (its
-- reply does not say which lines went). Requires state and client.
local state = require('tome.state')
local client = require('tome.client')
local api = vim.api

local M = {}

local LOWER = 'abcdefghijklmnopqrstuvwxyz'
local UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
-- The other marks of a buffer that :marks lists and a refill would move ('^' cannot be set
-- by the API: after a refill it is read from the kept ones only).
local KEPT = LOWER .. '"[]^<>'

---@class (exact) Tome.FileMark
---@field buf integer the Tome buffer it is in
---@field line integer file line, 0-based (while outside the window, or the buffer closed)
---@field col integer byte column

---@type table<string, Tome.FileMark> A-Z -> the file mark, when it is in a Tome buffer
M.files = {}

-- Bookmarks A-Z the server offered at open without a position (its index did not reach them
-- yet): letter -> the buffer's state. They become file marks when the index completes
-- (`M.index_done`), or when one is needed (a jump to it waits for the index, as `m` does).
---@type table<string, Tome.BufState>
local pending = {}

local function rows(buf)
  return api.nvim_buf_is_loaded(buf) and api.nvim_buf_line_count(buf) or 0
end

--- Sets Neovim's file mark `c` on `buf` at row `row` (1-based; past the last row for a mark
--- outside the window), column `col`.
local function set_native(c, buf, row, col)
  pcall(vim.fn.setpos, "'" .. c, { buf, row, col + 1, 0 })
end

--- A file mark that Neovim still has where this module left it: the entry, else nil (it was
--- deleted, or set again elsewhere: Neovim's own then).
--- Tells the server that file mark `c` of Tome buffer `buf` is gone (if the buffer is still
--- open: a closed one keeps its bookmarks).
local function unbookmark(buf, c)
  local st = state.docs[buf]
  local rpc = st and client.running(st.doc)
  if rpc then
    rpc:request('tome/deleteBookmark', { doc = st.doc, name = c }, function() end)
  end
end

local function file_entry(c)
  local e = M.files[c]
  if not e then
    return nil
  end
  local ok, m = pcall(api.nvim_get_mark, c, {})
  if not ok or m[1] == 0 or m[3] ~= e.buf then
    M.files[c] = nil
    unbookmark(e.buf, c)
    return nil
  end
  return e, m[1], m[2]
end

--- Where file mark `c` is when it is in a Tome buffer: the buffer, the file line (0-based) and
--- byte column; nil when it is not set or Neovim has it (another buffer).
---@return integer?, integer?, integer?
function M.file_mark(c)
  if not M.files[c] and pending[c] then
    M.resolve(c)
  end
  local e, row, col = file_entry(c)
  if not e then
    return nil
  end
  local st = state.docs[e.buf]
  if st and st.base and not st.estimated and row <= rows(e.buf) then
    -- (in the window: Neovim keeps it on its row)
    return e.buf, st.base + row - 1, col
  end
  return e.buf, e.line, e.col
end

--- After `mA` (any A-Z) at the cursor in `st`'s buffer: the mark is this module's.
---@param st Tome.BufState
function M.set_file(st, c, line, col)
  local e = M.files[c] or (pending[c] and { buf = pending[c].buf })
  if e and e.buf ~= st.buf then
    unbookmark(e.buf, c)
  end
  pending[c] = nil
  M.files[c] = { buf = st.buf, line = line, col = col }
  local rpc = client.running(st.doc)
  if rpc then
    -- (after the edits typed before it: the position is of the text the server has then)
    if st.pending and st.flush_edits then
      st.flush_edits()
    end
    rpc:request('tome/setBookmark', {
      doc = st.doc,
      name = c,
      position = { line = line, character = col },
    }, function(err)
      if err then
        client.error('bookmark', err)
      end
    end)
  end
end

--- After `M.adopt`, before the first fill: the bookmarks A-Z the server kept for this file
--- (`bookmarks` of the `tome/open` reply) are its file marks.
---@param st Tome.BufState
function M.from_server(st, bookmarks)
  for _, b in ipairs(bookmarks or {}) do
    local c = type(b.name) == 'string' and b.name:match('^%u$')
    local e = c and M.files[c]
    -- (a letter in use in another open Tome buffer stays that one's)
    if c and not (e and e.buf ~= st.buf and state.docs[e.buf]) then
      if type(b.position) == 'table' then
        M.files[c] = { buf = st.buf, line = b.position.line, col = b.position.character }
        set_native(c, st.buf, b.position.line + 1, b.position.character)
      else
        M.files[c] = nil
        pending[c] = st
      end
    end
  end
end

--- Before the first fill of a Tome buffer: file marks Neovim has on it hold file lines (ShaDa's,
--- or those `M.detach` left when the buffer was closed).
---@param st Tome.BufState
function M.adopt(st)
  -- (and `"`, the cursor when the buffer was last left: line 1 for a file just read, as Vim)
  local last = api.nvim_buf_get_mark(st.buf, '"')
  st.marks = { ['"'] = last[1] > 0 and { last[1] - 1, last[2] } or nil }
  for c in UPPER:gmatch('.') do
    local ok, m = pcall(api.nvim_get_mark, c, {})
    if ok and m[1] > 0 and m[3] == st.buf then
      local e = M.files[c]
      if not (e and e.buf == st.buf) then
        M.files[c] = { buf = st.buf, line = m[1] - 1, col = m[2] }
      end
    end
  end
end

--- Before a refill, while `st.base` is still the old window's first line: takes the buffer's
--- marks as file lines. A kept mark a-z of a line the window showed, which the buffer no longer
--- has, was deleted with its line (as in Vim); a file mark is never deleted with its line.
---@param st Tome.BufState
function M.save(st)
  st.marks = st.marks or {}
  if st.estimated or not st.base then
    return
  end
  local n = api.nvim_buf_line_count(st.buf)
  for c in KEPT:gmatch('.') do
    local m = api.nvim_buf_get_mark(st.buf, c)
    local kept = st.marks[c]
    if m[1] > 0 and m[1] <= n then
      st.marks[c] = { st.base + m[1] - 1, m[2] }
    elseif kept and kept[1] >= st.base and kept[1] < st.base + n and c ~= '^' then
      st.marks[c] = nil
    end
  end
  for c in UPPER:gmatch('.') do
    local m = api.nvim_buf_get_mark(st.buf, c)
    local e = M.files[c]
    if m[1] > 0 and m[1] <= n then
      M.files[c] = { buf = st.buf, line = st.base + m[1] - 1, col = m[2] }
    elseif m[1] == 0 and e and e.buf == st.buf then
      -- (deleted, or set in another buffer since)
      M.files[c] = nil
      unbookmark(st.buf, c)
    end
  end
end

--- Puts file mark `c` (entry `e`) of `st`'s buffer in Neovim: on its row when the window
--- (`n` rows) shows its line, else past the last row: on its real number when that is past
--- it (so that Neovim's `:marks` in other buffers shows it), else on row n + 1.
local function place(st, c, e, n)
  local row = e.line - (st.base or 0) + 1
  if not st.estimated and row >= 1 and row <= n and pcall(api.nvim_buf_set_mark, st.buf, c, row, e.col, {}) then
    return
  end
  set_native(c, st.buf, math.max(e.line + 1, n + 1), e.col)
end

--- Takes the pending bookmarks of `st` that `list` (a `tome/bookmarks` reply) places.
local function take_positions(st, list)
  for _, b in ipairs(list or {}) do
    if pending[b.name] == st and type(b.position) == 'table' then
      pending[b.name] = nil
      local e = { buf = st.buf, line = b.position.line, col = b.position.character }
      M.files[b.name] = e
      place(st, b.name, e, rows(st.buf))
    end
  end
end

--- The index of `st`'s document is complete (status.lua): its pending bookmarks get lines.
---@param st Tome.BufState
function M.index_done(st)
  local any = false
  for _, p in pairs(pending) do
    any = any or p == st
  end
  local rpc = any and client.running(st.doc)
  if rpc then
    rpc:request('tome/bookmarks', { doc = st.doc }, function(_, res)
      if res and state.docs[st.buf] == st then
        take_positions(st, res.bookmarks)
      end
    end)
  end
end

--- Pending bookmark `c` is needed now (a jump to it): waits for the index, then takes it.
function M.resolve(c)
  local st = pending[c]
  if state.docs[st.buf] ~= st then
    pending[c] = nil
    return
  end
  if client.wait_index(st) then
    local res = client.request('tome/bookmarks', { doc = st.doc })
    take_positions(st, res and res.bookmarks)
  end
end

--- After a refill: the buffer's marks are those the new window shows, on their rows; its file
--- marks outside it wait past the last row.
---@param st Tome.BufState
function M.restore(st)
  for c in KEPT:gmatch('.') do
    pcall(api.nvim_buf_del_mark, st.buf, c)
  end
  local n = api.nvim_buf_line_count(st.buf)
  for c in UPPER:gmatch('.') do
    local e = M.files[c]
    if e and e.buf == st.buf then
      place(st, c, e, n)
    end
  end
  if st.estimated then
    return
  end
  for c, m in pairs(st.marks or {}) do
    local row = m[1] - st.base + 1
    if row >= 1 and row <= n then
      pcall(api.nvim_buf_set_mark, st.buf, c, row, m[2], {})
    end
  end
end

--- When a Tome buffer is closed (or Neovim exits): its file marks go on their real line
--- numbers (ShaDa stores those; `M.adopt` takes them back when the file is opened again).
---@param st Tome.BufState
function M.detach(st)
  M.save(st)
  for c in UPPER:gmatch('.') do
    local e = file_entry(c)
    if e and e.buf == st.buf then
      set_native(c, st.buf, e.line + 1, e.col)
    end
  end
end

--- The file line (0-based) and byte column of mark `c` in `st`'s buffer, or nil when it is
--- not set (or, for A-Z, is in another buffer).
---@param st Tome.BufState
function M.get(st, c)
  if c:match('^%u$') then
    local buf, line, col = M.file_mark(c)
    if buf == st.buf then
      return line, col
    end
    if buf then
      return nil
    end
  end
  local m = api.nvim_buf_get_mark(st.buf, c)
  if m[1] > 0 and m[1] <= api.nvim_buf_line_count(st.buf) then
    return st.base + m[1] - 1, m[2]
  end
  local kept = st.marks and st.marks[c]
  if kept and KEPT:find(c, 1, true) then
    return kept[1], kept[2]
  end
end

--- Lines added (`delta` > 0) or removed in the window: kept marks below the window move.
---@param st Tome.BufState
function M.shift(st, delta)
  if delta == 0 or st.estimated then
    return
  end
  -- (called after the change: the window had `delta` fewer rows before it)
  local below = st.base + api.nvim_buf_line_count(st.buf) - delta
  for _, m in pairs(st.marks or {}) do
    if m[1] >= below then
      m[1] = m[1] + delta
    end
  end
  local n = api.nvim_buf_line_count(st.buf)
  for c in UPPER:gmatch('.') do
    local e, row = file_entry(c)
    if e and e.buf == st.buf and row > n then
      -- (Neovim moved the placeholder too: put it back on the real number)
      if e.line >= below then
        e.line = e.line + delta
      end
      place(st, c, e, n)
    end
  end
end

--- Before Neovim exits: every Tome buffer's file marks on their real line numbers, for ShaDa.
function M.detach_all()
  for _, st in pairs(state.docs) do
    M.detach(st)
  end
end

--- `:delmarks {names}` (already run by Neovim, which checked `names`) or `:delmarks!` (`bang`):
--- the kept marks go too. As Neovim's clrallmarks(), `:delmarks!` also clears `[ ] ^ .` and
--- the changelist, and puts `"` on line 1.
---@param st Tome.BufState
function M.delete(st, names, bang)
  st.marks = st.marks or {}
  if bang then
    for c in (LOWER .. '[]^'):gmatch('.') do
      st.marks[c] = nil
    end
    st.marks['"'] = { 0, 0 }
    st.last_change, st.changes = nil, nil
    return M.restore(st)
  end
  local i = 1
  while i <= #names do
    local from, to = names:sub(i, i), names:sub(i, i)
    if names:sub(i + 1, i + 1) == '-' and i + 2 <= #names then
      to = names:sub(i + 2, i + 2)
      i = i + 2
    end
    for b = from:byte(), to:byte() do
      local c = string.char(b)
      if c:match('%u') then
        local e = M.files[c] or (pending[c] and { buf = pending[c].buf })
        M.files[c], pending[c] = nil, nil
        if e then
          unbookmark(e.buf, c)
        end
      elseif c == '.' then
        st.last_change = nil
      else
        st.marks[c] = nil
      end
    end
    i = i + 1
  end
  M.restore(st)
end

-- Vim's mark_line(): the text of a line as :marks shows it (leading white space skipped, cut
-- to the screen's width less `lead` columns, unprintable characters as ^X).
local function mark_text(text, lead)
  if not text then
    return '-invalid-'
  end
  text = text:gsub('^[ \t]+', '')
  local out, width = {}, 0
  for ch in text:gmatch('[%z\1-\127\192-\255][\128-\191]*') do
    local shown = ch
    if #ch == 1 and (ch:byte() < 32 or ch:byte() == 127) then
      shown = '^' .. string.char(ch:byte() == 127 and 63 or ch:byte() + 64)
    end
    width = width + vim.fn.strdisplaywidth(shown)
    if width >= vim.o.columns - lead then
      break
    end
    out[#out + 1] = shown
  end
  return table.concat(out)
end

--- The lines of `:marks [arg]` in `st`'s buffer, as Vim prints them (ex_marks): {text,
--- highlight} pairs, each line after the first starting with "\n". `text_of(line)` gives a file
--- line's text (nil past the end). Marks in other buffers are Neovim's, as it shows them.
---@param st Tome.BufState
function M.listing(st, arg, text_of)
  local out = {}
  local function show(c, line, col, name)
    if line == nil or (arg and not arg:find(c, 1, true)) then
      return
    end
    if #out == 0 then
      out[1] = { 'mark line  col file/text', 'Title' }
    end
    out[#out + 1] = { ('\n %s %6d %4d '):format(c, line + 1, col) }
    if name then
      out[#out + 1] = { name }
    else
      out[#out + 1] = { mark_text(text_of(line), 15), 'Directory' }
    end
  end
  local pc = st.pcmark or { 0, 0 }
  show("'", pc[1], pc[2])
  for c in LOWER:gmatch('.') do
    show(c, M.get(st, c))
  end
  for c in (UPPER .. '0123456789'):gmatch('.') do
    local buf, line, col = M.file_mark(c)
    local name
    if not buf then
      local ok, m = pcall(api.nvim_get_mark, c, {})
      if ok and m[1] > 0 then
        buf, line, col, name = m[3], m[1] - 1, m[2], m[4]
        if buf == st.buf and c:match('%u') then
          -- (set on a row of the window, not through `m`: marks.get reads the row)
          line, col = M.get(st, c)
        end
      end
    end
    if buf == st.buf then
      show(c, line, col)
    elseif buf then
      -- (as Vim's buflist_nr2name: the buffer's name, the home directory as ~)
      name = buf > 0 and vim.fn.bufname(buf) or name
      show(c, line, col, vim.fn.fnamemodify(name, ':~'))
    end
  end
  show('"', M.get(st, '"'))
  show('[', M.get(st, '['))
  show(']', M.get(st, ']'))
  show('^', M.get(st, '^'))
  local ch = st.last_change
  show('.', ch and ch[1], ch and ch[2])
  -- (as Vim: shown as where they jump to)
  local sl, sc = M.get(st, '<')
  local el, ec = M.get(st, '>')
  if sl and (not el or sl < el or (sl == el and sc < ec)) then
    show('<', sl, sc)
    show('>', el, ec)
  else
    show('<', el, ec)
    show('>', sl, sc)
  end
  if #out == 0 then
    if arg then
      return { { ('E283: No marks matching "%s"'):format(arg), 'ErrorMsg' } }
    end
    return { { 'No marks set' } }
  end
  return out
end

--- :TomeBookmarks: the document's bookmarks (A-Z from `mA`, and any other name a client set)
--- in the window's location list, with real line numbers and each line's text, after a first
--- entry that is only a title (the list starts on it, so that choosing any bookmark is a jump,
--- which search.lua's S.check_quickfix follows: the rows of a Tome buffer are not its lines).
---@param st Tome.BufState
function M.list(st)
  local res, err = client.request('tome/bookmarks', { doc = st.doc })
  if not res then
    return client.error('bookmarks', err)
  end
  if #res.bookmarks == 0 then
    return api.nvim_echo({ { 'No bookmarks' } }, false, {})
  end
  local items = { { text = ('%d bookmarks of %s'):format(#res.bookmarks, st.path or ''), valid = 0 } }
  for _, b in ipairs(res.bookmarks) do
    local line = type(b.position) == 'table' and b.position.line or nil
    local col = line and b.position.character or 0
    local text = ''
    local params = { doc = st.doc, count = 1, window = { start = 0, width = 200 } }
    if line then
      params.first = line
    else
      -- (not indexed that far yet: the viewport around its offset has the number if known)
      params.around, params.before = b.offset, 0
    end
    local vp = client.request('tome/viewport', params)
    local l = vp and vp.lines[1]
    if l then
      text = l.text
      line = line or l.number
    end
    items[#items + 1] = {
      bufnr = st.buf,
      lnum = (line or 0) + 1,
      col = col + 1,
      text = b.name .. ': ' .. text,
      user_data = { tome_line = line, tome_offset = b.offset },
    }
  end
  vim.fn.setloclist(0, {}, ' ', { title = 'Tome: bookmarks', items = items, idx = 1 })
  local loc = vim.fn.getloclist(0, { id = 0, idx = 0 })
  st.loc_seen = loc.id .. ':' .. loc.idx -- (the title)
  vim.cmd('lopen')
end

return M
