-- Where `u` and CTRL-R put the cursor, as Vim does. Vim keeps, with each undo step, the
-- cursor from before its change; after an undo or redo the cursor goes to the first changed
-- line, at that saved column when the saved cursor was on this line (one line above, for `o`,
-- moves it there), else at the first non-blank. Undo is the server's (it knows where the
-- change was, not where the cursor was), so the plugin keeps the cursors here, one per server
-- undo step, in step with the server's count (`undoSteps` of tome/edit: a change that joins
-- the step before, such as typing, adds none).
-- (A reload or a recovery sets st.undo_positions to nil: their steps have no cursors.)
-- Requires nothing from tome.
local U = {}

---@class (exact) Tome.UndoPositions
---@field cursors table<integer, {[1]: integer, [2]: integer}> step -> file line (0-based), byte column
---@field at integer steps applied (what `u` would undo is step `at`)

local function model(st)
  st.undo_positions = st.undo_positions or { cursors = {}, at = 0 }
  return st.undo_positions
end

--- A change was applied with the cursor `cursor` (file line, column; nil: not known) before it: `steps` is the
--- server's undo step count now (nil: one more step).
function U.changed(st, steps, cursor)
  local m = model(st)
  steps = steps or m.at + 1
  if steps <= m.at then
    return -- joined the step before
  end
  for k in pairs(m.cursors) do
    if k >= steps then
      m.cursors[k] = nil -- redo steps are gone
    end
  end
  m.cursors[steps] = cursor
  m.at = steps
end

--- An undo (`redo` false) or redo of one step was applied: returns the cursor saved with
--- that step (nil when not known).
function U.step(st, redo)
  local m = model(st)
  if redo then
    m.at = m.at + 1
    return m.cursors[m.at]
  end
  local cursor = m.cursors[m.at]
  m.at = math.max(0, m.at - 1)
  return cursor
end

--- Where Vim puts the cursor after undoing or redoing a step saved with `cursor`, given the
--- first changed line `line` (0-based) and a function giving a line's text: line, col.
function U.place(cursor, line, text_of)
  if cursor[1] + 1 == line and line > 0 then
    line = line - 1
  end
  if cursor[1] == line then
    return line, cursor[2]
  end
  local text = text_of(line) or ''
  return line, #(text:match('^%s*'))
end

return U
