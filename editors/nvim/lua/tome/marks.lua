-- Marks a-z on file lines. Neovim keeps marks on buffer rows, and a refill replaces the rows
-- (the window now shows other file lines): a mark set on line 3 000 would be lost, or worse
-- point at whatever the row holds next. Before each refill the plugin records the buffer's
-- marks as file lines (`M.save`), after it puts back those the new window shows
-- (`M.restore`); marks outside the window are kept here and followed by `'x`, `` `x ``,
-- `d'x`, `y'x` and ranges (`:'a,'bd`) through `M.get`. Lines added or removed in the window
-- move the kept marks below it, as Vim moves marks.
--
-- An estimated window (window.lua: past the index frontier, numbers not known yet) holds no
-- marks: `m` there first waits for the index (keymaps.lua), kept marks are shown again once it
-- has its numbers, and every kept mark lies above it (a mark's line was indexed when it was set,
-- and the index only moves on), so nothing there moves them.
--
-- Limits: uppercase (file) marks are not kept (the jumplist and changelist: jumps.lua); a change the
-- server makes to the whole file (:s, :g) does not move kept marks.
-- Requires nothing from tome.
local api = vim.api

local M = {}

local LETTERS = 'abcdefghijklmnopqrstuvwxyz'

--- Before a refill, while `st.base` is still the old window's first line: takes the buffer's
--- marks as file lines. A kept mark of a line the window showed, which the buffer no longer
--- has, was deleted with its line (as in Vim).
---@param st Tome.BufState
function M.save(st)
  st.marks = st.marks or {}
  if st.estimated then
    return
  end
  local rows = api.nvim_buf_line_count(st.buf)
  for c in LETTERS:gmatch('.') do
    local m = api.nvim_buf_get_mark(st.buf, c)
    local kept = st.marks[c]
    if m[1] > 0 then
      st.marks[c] = { st.base + m[1] - 1, m[2] }
    elseif kept and kept[1] >= st.base and kept[1] < st.base + rows then
      st.marks[c] = nil
    end
  end
end

--- After a refill: the buffer's marks are those the new window shows, on their rows.
---@param st Tome.BufState
function M.restore(st)
  for c in LETTERS:gmatch('.') do
    pcall(api.nvim_buf_del_mark, st.buf, c)
  end
  if st.estimated then
    return
  end
  for c, m in pairs(st.marks or {}) do
    local row = m[1] - st.base + 1
    if row >= 1 and row <= api.nvim_buf_line_count(st.buf) then
      pcall(api.nvim_buf_set_mark, st.buf, c, row, m[2], {})
    end
  end
end

--- The file line (0-based) and byte column of mark `c`, or nil when it is not set.
---@param st Tome.BufState
function M.get(st, c)
  local m = api.nvim_buf_get_mark(st.buf, c)
  if m[1] > 0 then
    return st.base + m[1] - 1, m[2]
  end
  local kept = st.marks and st.marks[c]
  if kept and c:match('^%l$') then
    return kept[1], kept[2]
  end
end

--- Lines added (`delta` > 0) or removed in the window: kept marks below the window move.
---@param st Tome.BufState
function M.shift(st, delta)
  if delta == 0 or not st.marks or st.estimated then
    return
  end
  -- (called after the change: the window had `delta` fewer rows before it)
  local below = st.base + api.nvim_buf_line_count(st.buf) - delta
  for _, m in pairs(st.marks) do
    if m[1] >= below then
      m[1] = m[1] + delta
    end
  end
end

return M
