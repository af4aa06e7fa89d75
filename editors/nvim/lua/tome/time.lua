-- :TomeTime {time}: the cursor to the first line at or after a time. The server finds it
-- (tome/seekTime: the log's timestamp format detected from a sample, then a binary search
-- over the file's bytes, so it works at once after opening, before the line index is done);
-- the plugin shows it by line number when the index knows it, else by byte offset in an
-- estimated window (as `{N}%` does), and records a jumplist entry first.
-- Requires nothing from tome.
local api = vim.api
local client = require('tome.client')
local W = require('tome.window')
local longline = require('tome.longline')

local T = {}

--- Moves to the first line at or after `time` (any form docs/protocol.md's tome/seekTime
--- reads: 2026-11-26T12:00, "2026-11-26 12:00:00", "Nov 26 12:00", 1795694400…). Returns
--- the reply, or nil on error (reported).
function T.go(st, time)
  time = vim.trim(time or '')
  if time == '' then
    vim.notify('Tome: :TomeTime {time}, e.g. :TomeTime 2026-11-26T12:00', vim.log.levels.WARN)
    return nil
  end
  local res, err = client.request('tome/seekTime', { doc = st.doc, time = time })
  if not res then
    client.error('jumping to ' .. time, err)
    return nil
  end
  W.setpcmark(st)
  if res.time == nil then
    -- Every line is before the time: the end, as G.
    W.goto_end(st, 'bottom')
    api.nvim_echo({ { ('no line at or after %s (%s): at the end'):format(time, res.format), 'WarningMsg' } }, false, {})
    return res
  end
  if res.line and not (st.estimated and st.offsets and res.offset >= st.offsets[1]) then
    W.jump(st, res.line, (res.line < st.base or res.line >= st.base + st.n) and 'center' or nil)
    longline.go(st, api.nvim_win_get_cursor(0)[1], 0)
  else
    -- Past the index frontier: shown by offset, in an estimated window.
    W.show_offset(st, res.offset, 'center')
  end
  local note = res.approximate and ' (approximate: long stretches without timestamps)' or ''
  api.nvim_echo({ { ('%s (%s)%s'):format(res.time, res.format, note) } }, false, {})
  return res
end

return T
