-- The jumplist and the changelist on file lines. Neovim keeps both as buffer rows, and a
-- refill gives the rows other file lines: CTRL-O after `G` on a big file would land on
-- whatever row 300 holds next. So a Tome buffer keeps its own lists, of file lines, per
-- buffer: jumps made through the server (G, gg, {N}%, :N, /, n, *, marks, :cc) are recorded
-- by the plugin before it jumps (J.jumped), jumps Neovim makes inside the window (}, %, H,
-- L…) are taken from its `''` mark on the next CursorMoved (J.take_native), and each change
-- sent to the server is recorded (J.changed). CTRL-O, CTRL-I (<Tab>), `''`, ``` `` ```, g;, g,,
-- `'.`, `` `. ``, :jumps and :changes use these lists (keymaps.lua). Lines added or removed in
-- the window move the entries below it, as for marks.
--
-- Limits: a change the server makes to the whole file (:s, :g) does not move entries; CTRL-O
-- past the oldest entry goes on with Neovim's own jumplist (other files).
-- Requires nothing from tome.
local api = vim.api

local J = {}

local MAX = 100 -- entries kept, as Vim

---@class (exact) Tome.PositionList
---@field list {[1]: integer, [2]: integer}[] file line (0-based), byte column; oldest first
---@field idx integer Vim's w_jumplistidx + 1: #list + 1 when not moving through the list
---@field native? table Neovim's `''` mark (row, col) as last seen: a change is a jump it made

local function list_of(st, name)
  st[name] = st[name] or { list = {}, idx = 1 }
  return st[name]
end

--- Before a jump from file line `line`, column `col` (Vim's setpcmark): the position goes at
--- the end of the jumplist (an older entry of the same line is dropped) and becomes the
--- previous context mark (`''`).
function J.jumped(st, line, col)
  local j = list_of(st, 'jumps')
  for i = #j.list, 1, -1 do
    if j.list[i][1] == line then
      table.remove(j.list, i)
    end
  end
  table.insert(j.list, { line, col })
  if #j.list > MAX then
    table.remove(j.list, 1)
  end
  j.idx = #j.list + 1
  st.pcmark = { line, col }
end

--- After a refill: the previous context mark Neovim has now (rows moved under it) is not a
--- jump.
function J.refilled(st)
  list_of(st, 'jumps').native = api.nvim_buf_get_mark(st.buf, "'")
end

--- On CursorMoved, before any refill: a jump Neovim made inside the window (`}`, `%`, `H`…)
--- set its previous context mark `''` to where it came from; that goes in the jumplist on its
--- file line. (Neovim's own jumplist is no use: refills move its entries.)
function J.take_native(st)
  local j = list_of(st, 'jumps')
  local m = api.nvim_buf_get_mark(st.buf, "'")
  local seen = j.native
  if seen and seen[1] == m[1] and seen[2] == m[2] then
    return
  end
  j.native = m
  if m[1] >= 1 and m[1] <= api.nvim_buf_line_count(st.buf) then
    J.jumped(st, st.base + m[1] - 1, m[2])
  end
end

--- CTRL-O (`count` < 0) and CTRL-I (> 0) from the cursor at `line`, `col`, as Vim's
--- get_jumplist: the position to go to, or nil when the list has no entry that far.
function J.move(st, count, line, col)
  local j = list_of(st, 'jumps')
  local n = #j.list
  if n == 0 then
    return nil
  end
  -- (0-based, as in Vim)
  local idx = j.idx - 1
  if idx + count < 0 or idx + count >= n then
    return nil
  end
  if idx == n then
    -- The first CTRL-O after a jump: the cursor's place goes in, so CTRL-I comes back.
    J.jumped(st, line, col)
    n = #j.list
    idx = n - 1 -- (skip the new entry)
    if idx + count < 0 then
      j.idx = idx + 1
      return nil
    end
  end
  idx = idx + count
  j.idx = idx + 1
  return j.list[idx + 1]
end

--- A change sent to the server starting at file line `line`, column `col`: Vim's changelist
--- gets it (a change on the line of the last one, near it, replaces it).
function J.changed(st, line, col)
  local c = list_of(st, 'changes')
  local last = c.list[#c.list]
  local tw = vim.bo[st.buf].textwidth
  if last and last[1] == line and math.abs(last[2] - col) <= (tw > 0 and tw or 79) then
    last[2] = col
  else
    table.insert(c.list, { line, col })
    if #c.list > MAX then
      table.remove(c.list, 1)
    end
  end
  c.idx = #c.list + 1
  st.last_change = { line, col }
end

--- g; (`count` < 0) and g, (> 0), as Vim's get_changelist: the position, or nil and the
--- error to show.
function J.change(st, count)
  local c = list_of(st, 'changes')
  local n = #c.list
  if n == 0 then
    return nil, 'E664: Changelist is empty'
  end
  local idx = c.idx - 1
  if idx + count < 0 then
    if idx == 0 then
      return nil, 'E662: At start of changelist'
    end
    idx = 0
  elseif idx + count >= n then
    if idx == n - 1 then
      return nil, 'E663: At end of changelist'
    end
    idx = n - 1
  else
    idx = idx + count
  end
  c.idx = idx + 1
  return c.list[idx + 1]
end

--- Lines added (`delta` > 0) or removed at file line `at`: entries after it move.
function J.shift(st, at, delta)
  for _, name in ipairs({ 'jumps', 'changes' }) do
    local l = st[name]
    for _, p in ipairs(l and l.list or {}) do
      if p[1] > at then
        p[1] = math.max(at, p[1] + delta)
      end
    end
  end
  for _, p in pairs({ pc = st.pcmark, change = st.last_change }) do
    if p[1] > at then
      p[1] = math.max(at, p[1] + delta)
    end
  end
end

--- The lines of :jumps or :changes (`name`: 'jumps' or 'changes'), as Vim prints them, with
--- `text_of(line)` giving an entry's text.
function J.listing(st, name, text_of)
  local l = list_of(st, name)
  local out = { name == 'jumps' and ' jump line  col file/text' or 'change line  col text' }
  local n = #l.list
  for i, p in ipairs(l.list) do
    local rel = math.abs(l.idx - i)
    out[#out + 1] = ('%s%4d %5d %4d %s'):format(i == l.idx and '>' or ' ', rel, p[1] + 1, p[2], text_of(p[1]) or '')
  end
  if l.idx > n then
    out[#out + 1] = '>'
  end
  return out
end

return J
