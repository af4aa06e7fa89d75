-- Lines of any length: a line too long to hold whole (over `line_bytes`, or past the window's
-- `window_bytes`) is held as a slice of its bytes, [a, a + #row) of the line, on its buffer row.
-- The server's viewport gives each such line a narrow slice at first; when the cursor works on
-- one, the slice is fetched again around it (`slice_bytes` wide, by offset with `tome/getText`,
-- never cutting a character) as it nears a cut edge, like the window's lines are refilled near
-- the window's edges. Buffer columns of a sliced row are then `a` bytes left of the line's:
-- edit.lua sends changes there at real columns (L.map_change), search, undo and jumps put the
-- cursor at real columns (L.go), and longkeys.lua makes the motions reach the whole line.
--
-- Each sliced row is one `Tome.Slice` in `st.slices` (buffer row, 0-based, as `st.unsafe`).
-- Requires config, state, client and bytes.
local config = require('tome.config')
local client = require('tome.client')
local bytes = require('tome.bytes')
local api = vim.api

local L = {}

---@class (exact) Tome.Slice
---@field a integer bytes of the line left of the row's text
---@field rest? integer bytes of the line right of it (nil: the line's end is not known yet)
---@field o? integer byte offset of the line's start (nil: an edit above may have moved it)

local MiB = 1024 * 1024
local ns = api.nvim_create_namespace('tome_slices')

--- The width of a slice fetched around the cursor (config `slice_bytes`, 64 KiB to 4 MiB).
function L.width()
  return math.max(64 * 1024, math.min(4 * MiB, config.options.slice_bytes or MiB))
end

--- How close to a cut edge the cursor may come before the slice moves (a quarter of it).
function L.margin()
  return math.floor(L.width() / 4)
end

--- The slice of viewport line `l` whose exact bytes `text` the row holds, or nil when it is
--- held whole.
function L.of_viewport(l, text)
  if not (l.cutBefore or l.cutAfter) then
    return nil
  end
  local a = l.startColumn or 0 -- (UTF-8 positions: bytes; an invalid byte is one column)
  return { a = a, rest = l.lengthKnown ~= false and math.max(0, l.byteLength - a - #text) or nil, o = l.offset }
end

--- The slice of buffer row `row0` (0-based) of `st`, or nil.
---@return Tome.Slice?
function L.get(st, row0)
  return st.slices and st.slices[row0]
end

--- The real (line) byte column of buffer column `col` on row `row0`.
function L.real(st, row0, col)
  local s = L.get(st, row0)
  return (s and s.a or 0) + col
end

--- The cursor's real byte column (0-based) in the current window.
function L.cursor_col(st)
  local r, c = unpack(api.nvim_win_get_cursor(0))
  return L.real(st, r - 1, c)
end

--- The length in bytes of the line on row `row0` (nil when not known yet).
function L.line_length(st, row0)
  local s = L.get(st, row0)
  local n = #(api.nvim_buf_get_lines(st.buf, row0, row0 + 1, false)[1] or '')
  if not s then
    return n
  end
  return s.rest and s.a + n + s.rest or nil
end

local function group(n)
  return (tostring(n):reverse():gsub('(%d%d%d)', '%1,'):reverse():gsub('^,', ''))
end

local function human(n)
  if n >= MiB then
    return ('%.1f MiB'):format(n / MiB)
  end
  return n >= 1024 and ('%.1f KiB'):format(n / 1024) or (n .. ' B')
end

--- The cut edges shown as virtual text: `«12,345,678` before a row that starts inside its line
--- (the byte offset of its first byte), `» 11.0 MiB more` after one that ends inside it.
function L.decorate(st)
  if not api.nvim_buf_is_valid(st.buf) then
    return
  end
  api.nvim_buf_clear_namespace(st.buf, ns, 0, -1)
  local n = api.nvim_buf_line_count(st.buf)
  for row0, s in pairs(st.slices or {}) do
    if row0 < n then
      if s.a > 0 then
        pcall(api.nvim_buf_set_extmark, st.buf, ns, row0, 0, {
          virt_text = { { '«' .. group(s.a) .. ' ', 'NonText' } },
          virt_text_pos = 'inline',
          right_gravity = false,
        })
      end
      if s.rest ~= 0 then
        pcall(api.nvim_buf_set_extmark, st.buf, ns, row0, 0, {
          virt_text = { { '» ' .. (s.rest and human(s.rest) .. ' more' or 'more'), 'NonText' } },
          virt_text_pos = 'eol',
        })
      end
    end
  end
end

--- The status line's words for the cursor on a sliced row (nil elsewhere): its real column
--- and the bytes the row shows.
function L.status(st, win)
  local r, c = unpack(api.nvim_win_get_cursor(win))
  local s = L.get(st, r - 1)
  if not s then
    return nil
  end
  local len = L.line_length(st, r - 1)
  local n = #(api.nvim_buf_get_lines(st.buf, r - 1, r, false)[1] or '')
  return ('col %s of %s · slice %s-%s'):format(group(s.a + c + 1), len and group(len) or '?', human(s.a),
    human(s.a + n))
end

-- Replaces the text of row `row0` without sending it as an edit (a new slice of its line).
local function set_row(st, row0, text)
  if st.flush_edits then
    st.flush_edits()
  end
  st.applying = true
  local locked = not vim.bo[st.buf].modifiable -- (a compressed document: see window.lua)
  if locked then
    vim.bo[st.buf].modifiable = true
  end
  local ok, err = pcall(api.nvim_buf_set_lines, st.buf, row0, row0 + 1, false, { text })
  if locked then
    vim.bo[st.buf].modifiable = false
  end
  st.applying = false
  vim.bo[st.buf].modified = st.dirty
  if not ok then
    error(err)
  end
end

--- Where the line of row `row0` starts and how long it is, asked of the server: {o, len}
--- (len nil while the line's end lies past the index, which is then waited for), or nil.
function L.line_info(st, row0)
  local params = { doc = st.doc, count = 1, window = { start = 0, width = 1 } }
  if st.estimated then
    params.around, params.before = st.offsets[row0 + 1], 0
  else
    params.first = st.base + row0
  end
  for _ = 1, 2 do
    local res, err = client.request('tome/viewport', params)
    local l = res and res.lines[1]
    if not l then
      client.error('reading the line', err)
      return nil
    end
    if l.lengthKnown ~= false then
      return { o = l.offset, len = l.byteLength }
    end
    client.wait_index(st)
  end
end

--- Makes row `row0` hold the bytes of its line around real column `at`: from `from` to `to`
--- (real columns, clamped to the line; default the slice width centred on `at`), moved to
--- character boundaries. The cursor, when on the row, goes to real column `at`. Returns true.
function L.show(st, row0, at, from, to)
  local info = L.line_info(st, row0)
  if not info then
    return false
  end
  local len = info.len
  at = math.max(0, math.min(at, math.max(0, len - 1)))
  if not from then
    local w = L.width()
    from = math.max(0, math.min(at - math.floor(w / 2), len - w))
    to = from + w
  end
  from, to = math.max(0, math.min(from, at)), math.min(len, math.max(to, at + 1))
  -- Four bytes on each side, to find the characters the edges fall in.
  local x0, x1 = math.max(0, from - 4), math.min(len, to + 4)
  local res, err = client.request('tome/getText', {
    doc = st.doc,
    offsets = { start = info.o + x0, ['end'] = info.o + x1 },
    rawBytes = true,
    maxBytes = x1 - x0,
  })
  local text = res and bytes.of_text(res)
  if not text then
    client.error('reading the line', err or 'no exact bytes')
    return false
  end
  local a = from > 0 and x0 + bytes.char_start(text, from - x0 + 1) - 1 or 0
  local b = to < len and x0 + bytes.char_start(text, to - x0 + 1) - 1 or len
  if b <= a and len > 0 then
    b = x0 + bytes.char_end(text, a - x0 + 1)
  end
  local cur = api.nvim_get_current_buf() == st.buf and api.nvim_win_get_cursor(0)
  set_row(st, row0, text:sub(a - x0 + 1, b - x0))
  st.slices = st.slices or {}
  st.slices[row0] = (a > 0 or b < len) and { a = a, rest = len - b, o = info.o } or nil
  L.decorate(st)
  if cur and cur[1] == row0 + 1 then
    L.put_cursor(st, row0, at)
  end
  return true
end

--- Puts the cursor on row `row0` at real column `col` (on the start of the character there),
--- the row holding it already.
function L.put_cursor(st, row0, col)
  local s = L.get(st, row0)
  local c = col - (s and s.a or 0)
  local text = api.nvim_buf_get_lines(st.buf, row0, row0 + 1, false)[1] or ''
  c = math.max(0, math.min(c, #text - 1))
  if c > 0 then
    c = c - vim.str_utf_start(text, c + 1)
  end
  api.nvim_win_set_cursor(0, { row0 + 1, math.max(0, c) })
end

--- Puts the cursor on buffer row `row` (1-based) at real byte column `col` of its line,
--- moving the slice when the row does not hold that column with room around it.
function L.go(st, row, col)
  local row0 = row - 1
  local s = L.get(st, row0)
  if s then
    local n = #(api.nvim_buf_get_lines(st.buf, row0, row0 + 1, false)[1] or '')
    local c = col - s.a
    local m = L.margin()
    local room_left = s.a == 0 or c >= m
    local room_right = s.rest == 0 or n - c > m
    if c < 0 or c >= n or not room_left or not room_right then
      api.nvim_win_set_cursor(0, { row, 0 })
      return L.show(st, row0, col)
    end
  end
  pcall(api.nvim_win_set_cursor, 0, { row, 0 })
  L.put_cursor(st, row0, col)
  return true
end

--- After a move (CursorMoved, Normal mode): a cursor within the margin of a cut edge of its row
--- gets a new slice around it; a slice grown for one command (longkeys.cover) goes back to
--- its width.
function L.after_move(st)
  local r, c = unpack(api.nvim_win_get_cursor(0))
  local s = L.get(st, r - 1)
  if not s then
    return
  end
  local text = api.nvim_buf_get_lines(st.buf, r - 1, r, false)[1] or ''
  local n = #text
  local m = L.margin()
  if s.a == 0 and s.rest ~= 0 and n > 0 and c >= n - 1 + vim.str_utf_start(text, n) then
    -- A vertical move stopped at the end of the row, short of the column it keeps ('curswant'):
    -- that column of the line (`$`: its end; else screen cells counted as bytes).
    local want = vim.fn.winsaveview().curswant
    if want >= vim.v.maxcol then
      L.show(st, r - 1, math.huge)
      return vim.cmd('normal! $')
    elseif want > vim.fn.virtcol('.') - 1 then
      return L.show(st, r - 1, want)
    end
  end
  if (s.a > 0 and c < m) or (s.rest ~= 0 and n - c <= m) or n > 2 * L.width() then
    L.show(st, r - 1, s.a + c)
  end
end

--- How the change on_bytes reports (rows and buffer columns, before the change) maps onto the
--- file: the real start and end columns on its first and last rows, and `st.slices` updated
--- for the rows after it. Nil and why when the change would reach bytes the rows do not show
--- (joining a row whose line goes on past its slice with the next, for example).
---@return integer? start column, integer|string end column or why
function L.map_change(st, sr, sc, oer, oec, ner, nec)
  local slices = st.slices
  if not slices or not next(slices) then
    return sc, (oer == 0 and sc or 0) + oec
  end
  local ec = (oer == 0 and sc or 0) + oec
  local s0, s1 = slices[sr], slices[sr + oer]
  local inrow = oer == 0 and ner == 0
  local rs, re
  local whole = false -- the change replaces the whole line of row sr (cc, S)
  if not s0 then
    rs = sc
  elseif inrow then
    rs = s0.a + sc
    if sc == 0 and (s0.a > 0 or s0.rest ~= 0) then
      -- A change from the row's start to its end is one of the whole line (cc, S).
      local now = api.nvim_buf_get_lines(st.buf, sr, sr + 1, false)[1] or ''
      if #now == nec and s0.rest then
        whole, rs = true, 0
      end
    end
  elseif sc == 0 and (oer > 0 or nec == 0) then
    rs = 0 -- whole rows from this one's start (dd, O, a linewise put): from the line's start
  else
    rs = s0.a + sc
    if oer > 0 and s0.rest ~= 0 then
      return nil, 'it joins a line shown in part with the next'
    end
  end
  if oer == 0 then
    re = whole and (s0.a + ec + s0.rest) or rs + (ec - sc)
  elseif not s1 then
    re = ec
  elseif ec == 0 then
    re = 0
    -- (the row keeps its hidden start only if nothing comes before it on its line now)
    if s1.a > 0 and not (nec == 0 and (ner > 0 or rs == 0)) then
      return nil, 'it joins a line shown in part with the one before'
    end
  else
    re = s1.a + ec
    if s1.a > 0 then
      return nil, 'it joins a line shown in part with the one before'
    end
  end
  -- The slices after the change: rows below move; the rows it makes get the cut edges of the
  -- rows it started and ended in.
  local new = {}
  for r, s in pairs(slices) do
    if r < sr then
      new[r] = s
    elseif r > sr + oer then
      new[r - oer + ner] = { a = s.a, rest = s.rest } -- (its line may have moved: no offset)
    end
  end
  if inrow then
    if s0 and not whole then
      new[sr] = s0
    end
  else
    local first_a = (s0 and rs > 0) and s0.a or 0
    local last_rest = s1 and s1.rest or 0
    if ner == 0 then
      local a = first_a
      if sc == 0 and rs == 0 and nec == 0 and ec == 0 and s1 then
        a = s1.a
      end
      new[sr] = { a = a, rest = last_rest }
    else
      new[sr] = { a = first_a, rest = 0, o = s0 and rs > 0 and s0.o or nil }
      new[sr + ner] = { a = (ec == 0 and nec == 0 and s1) and s1.a or 0, rest = last_rest }
    end
  end
  for r, s in pairs(new) do
    if s.a == 0 and s.rest == 0 then
      new[r] = nil
    end
  end
  st.slices = new
  return rs, re
end

--- The byte offset of real column `col` of row `row0`, when its line's start is known.
function L.offset(st, row0, col)
  local s = L.get(st, row0)
  if s and s.o then
    return s.o + col
  end
  if st.estimated and st.offsets then
    local o = st.offsets[row0 + 1]
    return o and o + col
  end
  return nil
end

return L
