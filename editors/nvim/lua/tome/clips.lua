-- Big registers kept by the server (|tome-registers|; tome/clip and tome/paste in
-- docs/protocol.md). A linewise yank or delete of more than `register_bytes` does not read
-- the lines into Neovim: the server keeps them as a clip (O(1), whatever their size) and the
-- register holds one placeholder line naming the clip. `p`, `P`, `gp`, `gP`, `]p` and `[p`
-- of such a register in a Tome buffer paste the clip on the server, so yanking and pasting
-- 500 MiB costs Neovim nothing.
--
-- Registers stay Neovim's: which register a yank or delete fills, the unnamed register's
-- pointer and the shift of "1.."9 are done by Neovim itself (the same command typed on an empty
-- line of a scratch buffer), then the placeholder is written where that went. So `:registers`
-- shows the placeholder, `"ap` of a small register is Neovim's own, and a placeholder pasted
-- outside a Tome buffer is its text.
--
-- Limits: charwise and blockwise registers are always Neovim's; appending (`"Ayy`) and the
-- clipboard registers never hold a clip; the server keeps the last 64 clips of its session
-- (older placeholders, and those of another Neovim kept by ShaDa, are refused by name).
-- Requires state, client, config, window, bytes; excmd and reach lazily (they require this file).
local state = require('tome.state')
local client = require('tome.client')
local config = require('tome.config')
local W = require('tome.window')
local api = vim.api

local C = {}

-- Tells this Neovim's placeholders from those of another (ShaDa keeps registers; a server's
-- clips end with its session).
local session = ('%x'):format(vim.fn.getpid() * 65536 + (vim.uv.hrtime() % 65536))

--- Lines and bytes of each clip this session took: for `gp` (the cursor goes below what was
--- pasted) and for reading a clip back.
local lines_of, sizes = {}, {}

-- (the end of a placeholder line, as getreg() gives it: with its line break)
local PLACEHOLDER = '{tome%-clip (%x+) (%d+)}\n?$'

local human = require('tome.bytes').human

--- Whether a yank or delete into register `reg` may go to a clip: the unnamed, named and
--- numbered registers (not appending to one, not the clipboard, not the black hole).
function C.eligible(reg)
  return reg == nil or reg == '' or reg == '"' or reg:match('^[%l%d]$') ~= nil
end

--- The clip id register `reg` names, or nil (and a message when it names one that is gone).
function C.of_register(reg)
  if vim.fn.getregtype(reg) ~= 'V' then
    return nil
  end
  local text = vim.fn.getreg(reg)
  if #text > 1000 then
    return nil
  end
  local from, id = text:match(PLACEHOLDER)
  if not from then
    return nil
  end
  if from ~= session then
    return nil, 'this register held lines kept by a Tome server that has ended; they are gone'
  end
  return tonumber(id)
end

local scratch

--- Does to the registers what a linewise yank (`yank_only`) or delete into `reg` does, as
--- Neovim does it, and puts `text` (one line) where it went.
local function fill(reg, yank_only, text)
  if not (scratch and api.nvim_buf_is_valid(scratch)) then
    scratch = api.nvim_create_buf(false, true)
    vim.bo[scratch].undolevels = -1
  end
  api.nvim_buf_set_lines(scratch, 0, -1, false, { '' })
  local prefix = (reg == nil or reg == '' or reg == '"') and '' or ('"' .. reg)
  api.nvim_buf_call(scratch, function()
    vim.cmd('noautocmd keepjumps normal! ' .. prefix .. (yank_only and 'yy' or 'dd'))
  end)
  local target = prefix == '' and (yank_only and '0' or '1') or reg
  vim.fn.setreg(target, { text }, 'l')
end

--- Yank (`yank_only`) or delete into `reg` of file lines [first, last], bytes [a, b): takes
--- them as a clip and fills the register with its placeholder. The delete itself is the
--- caller's. Returns true, or nil and a message.
function C.take(st, a, b, first, last, reg, yank_only)
  local res, e = client.request('tome/clip', {
    doc = st.doc,
    version = st.version,
    offsets = { start = a, ['end'] = b },
    wholeLines = true,
  })
  if not res then
    return nil, 'Tome: the lines were not kept: ' .. ((e and e.message) or 'no reply')
  end
  local n = last - first + 1
  lines_of[res.clip], sizes[res.clip] = n, res.bytes
  local name = vim.fn.fnamemodify(api.nvim_buf_get_name(st.buf), ':t')
  local fmt = '[Tome: %d lines, %s of %s, kept by the server; p pastes them in Tome buffers] {tome-clip %s %d}'
  local text = fmt:format(
    n,
    human(res.bytes),
    name,
    session,
    res.clip
  )
  fill(reg, yank_only, text)
  return true
end

--- Whether register `reg` gets a clip for bytes [a, b) rather than the text.
function C.wanted(reg, a, b)
  return C.eligible(reg) and b - a > config.register_bytes()
end

local function refuse(why)
  api.nvim_echo({ { 'Tome: ' .. why, 'ErrorMsg' } }, true, {})
end

--- `key` (p P gp gP ]p [p) of clip `id`, `count` times, at the cursor of Tome buffer `st`:
--- pasted on the server as one undo step.
function C.put(st, id, key, count)
  if not W.exact(st, 'to paste') then
    return
  end
  local X = require('tome.excmd')
  local cur = W.cursor_line(st)
  local col = api.nvim_win_get_cursor(0)[2]
  local after = key == 'p' or key == 'gp' or key == ']p'
  local line = after and cur + 1 or cur
  local last = W.last_line(st, true)
  local at = last and X.line_offset(st, line)
  if not at then
    return refuse('cannot find where to paste')
  end
  local undo = 'new'
  if after and cur == last and at > 0 then
    -- After a last line without a line break: the break first, in the same undo step.
    local tail = client.request('tome/getText', { doc = st.doc, offsets = { start = at - 1, ['end'] = at } })
    if tail and tail.text ~= '\n' and tail.text ~= '\r' then
      local brk = vim.bo[st.buf].fileformat == 'dos' and '\r\n' or '\n'
      local r, e = client.request('tome/edit', {
        doc = st.doc,
        version = st.version,
        edits = { { offsets = { start = at, ['end'] = at }, text = brk } },
        undo = 'new',
      })
      if not r then
        return refuse((e and e.message) or 'the paste was refused')
      end
      st.version, undo = r.version, 'join'
      at = at + #brk
    end
  end
  local res, e = client.request('tome/paste', {
    doc = st.doc,
    version = st.version,
    clip = id,
    offset = at,
    count = math.max(count, 1),
    undo = undo,
  }, 24 * 3600 * 1000)
  if not res then
    if e and e.data and e.data.kind == 'unknownClip' then
      return refuse('the server no longer keeps the lines of this register (it keeps the last 64)')
    end
    return refuse((e and e.message) or 'the paste was refused')
  end
  st.version, st.dirty = res.version, true
  st.command_cursor = { cur, col }
  X.land(st, line)
  st.command_cursor = nil
  -- `.` pastes it again (reach.lua's R.dot)
  require('tome.reach').remember(st, { put = id, key = key, count = count })
  if key == 'gp' or key == 'gP' then
    local below = line + (lines_of[id] or 0) * math.max(count, 1)
    W.jump(st, math.min(below, W.last_line(st, true) or below))
    vim.cmd('keepjumps normal! 0')
  end
end

local queued

function C.run_queued()
  local q, st = queued, state.docs[api.nvim_get_current_buf()]
  queued = nil
  if not (q and st) then
    return
  end
  if not q.id then
    return refuse(q.gone)
  end
  C.put(st, q.id, q.key, q.count)
end

--- Maps p P gp gP ]p [p in Tome buffer `buf`: a register holding a clip is pasted by the
--- server, any other is Neovim's own (the key as typed, with its count and register).
function C.map(buf)
  for _, key in ipairs({ 'p', 'P', 'gp', 'gP', ']p', '[p' }) do
    vim.keymap.set('n', key, function()
      local st = state.docs[buf]
      if not (st and st.base) then
        return key
      end
      local id, gone = C.of_register(vim.v.register)
      if not (id or gone) then
        return key
      end
      queued = { key = key, count = vim.v.count, id = id, gone = gone }
      return '<Cmd>lua require("tome.clips").run_queued()<CR>'
    end, { buffer = buf, expr = true, desc = 'Tome: ' .. key .. ' of lines kept by the server' })
  end
end

--- Writes register `reg` to `path` as `writefile(getreg(reg, 1, 1), path, 'b')` would write
--- the lines it stands for (no line break after the last), from the server when it holds a
--- clip: in parts, never whole in Neovim. Returns false when the register is not a clip of
--- this session. (For the differential test: it compares registers.)
function C.write_register(reg, path)
  local id = C.of_register(reg)
  local total = id and sizes[id]
  if not total then
    return false
  end
  local B = require('tome.bytes')
  local out = assert(io.open(path, 'wb'))
  local at, part = 0, 2 * 1024 * 1024
  while at < total do
    local e = math.min(at + part, total)
    local params = { clip = id, offsets = { start = at, ['end'] = e }, rawBytes = true }
    local res = client.request('tome/readClip', params, 60000)
    local chunk = res and B.of_text(res)
    if not chunk then
      out:close()
      error('Tome: cannot read the lines kept for register ' .. reg)
    end
    if e == total then
      chunk = chunk:gsub('\n$', '')
    end
    out:write(chunk)
    at = e
  end
  out:close()
  return true
end

return C
