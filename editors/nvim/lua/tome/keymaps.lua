-- The buffer-local keys of a Tome buffer (with `mappings = true`): motions, undo/redo and n/N
-- through the server, and a cmdline <CR> that sends `:{N}`, `:$`, `/pat` and `?pat` there too,
-- and the ex commands that act on ranges of lines (excmd.lua: :s, :g, :v, :d, :m, :t, :j…);
-- the operator-pending and Visual keys of reach.lua, the keys along long lines of longkeys.lua.
-- Jumps land at the line's column on a row holding a slice of a long line (longline.lua).
-- Requires state, window, edit, search, marks, reach, longline and longkeys.
local state = require('tome.state')
local W = require('tome.window')
local E = require('tome.edit')
local S = require('tome.search')
local longline = require('tome.longline')
local api = vim.api

local K = {}

--- Pending work from the cmdline <CR> mapping (an expr mapping cannot change the buffer).
local pending
function K.run_pending()
  local p, st = pending, state.docs[api.nvim_get_current_buf()]
  pending = nil
  if not p or not st then
    return
  end
  if p.kind == 'ex' then
    require('tome.excmd').run(st, p.line)
  elseif p.kind == 'listing' then
    -- :jumps and :changes with real line numbers (jumps.lua), each entry's text from the server.
    local client = require('tome.client')
    local lines = require('tome.jumps').listing(st, p.name, function(l)
      local res = client.request('tome/viewport', {
        doc = st.doc,
        first = l,
        count = 1,
        window = { start = 0, width = 100 },
      })
      return res and res.lines[1] and res.lines[1].text
    end)
    local chunks = {}
    for i, l in ipairs(lines) do
      chunks[#chunks + 1] = { l .. (i < #lines and '\n' or ''), i == 1 and 'Title' or nil }
    end
    api.nvim_echo(chunks, false, {})
  elseif p.kind == 'line' then
    if p.n == '$' then
      W.goto_end(st, 'center')
    else
      W.goto_line(st, math.max(1, tonumber(p.n)))
    end
  else
    S.search(st, p.pattern, p.backward)
  end
end

--- Cmdline <CR>: `:{N}`, `:$`, `/pat`, `?pat` and the line commands of excmd.lua go through
--- the server; anything else runs as usual.
function K.cmdline_cr()
  local t, line = vim.fn.getcmdtype(), vim.fn.getcmdline()
  if t == ':' then
    local n = line:match('^%s*(%d+)%s*$') or line:match('^%s*(%$)%s*$')
    if n then
      vim.fn.histadd(':', line)
      pending = { kind = 'line', n = n }
      return '<C-c><Cmd>lua require("tome.keymaps").run_pending()<CR>'
    end
    local listing = line:match('^%s*(ju%a*)%s*$') or line:match('^%s*(changes)%s*$')
    if listing and (listing == 'changes' or ('jumps'):sub(1, #listing) == listing) then
      pending = { kind = 'listing', name = listing == 'changes' and 'changes' or 'jumps' }
      return '<C-c><Cmd>lua require("tome.keymaps").run_pending()<CR>'
    end
    if require('tome.excmd').handles(line) then
      vim.fn.histadd(':', line)
      pending = { kind = 'ex', line = line }
      return '<C-c><Cmd>lua require("tome.keymaps").run_pending()<CR>'
    end
  elseif t == '/' or t == '?' then
    -- After an operator (d/pat) or in Visual mode: reach.lua runs it over the whole file.
    local queued = require('tome.reach').take_search(line, t == '?')
    if queued then
      return queued
    end
    pending = { kind = 'search', pattern = line, backward = t == '?' }
    return '<C-c><Cmd>lua require("tome.keymaps").run_pending()<CR>'
  end
  return '<CR>'
end

--- CTRL-O (`dir` -1) or CTRL-I past the ends of a Tome buffer's own jumplist: to the nearest
--- entry of Neovim's jumplist in another buffer that way (Neovim's entries for this buffer
--- are rows of old windows), or nothing.
function K.native_jump(st, dir, count)
  local jl, pos = unpack(vim.fn.getjumplist())
  local i = pos + 1 -- (1-based index of the current entry; #jl + 1 at the end)
  local steps = 0
  while true do
    i = i + dir
    if i < 1 or i > #jl then
      return
    end
    steps = steps + 1
    if jl[i].bufnr ~= st.buf then
      count = count - 1
      if count == 0 then
        local key = dir < 0 and '\15' or '\9'
        return vim.cmd('normal! ' .. steps .. key)
      end
    end
  end
end

--- Maps the keys in `st.buf`. Each mapping looks the state up when used: `:e!` gives the
--- buffer a new one.
---@param st Tome.BufState
function K.map(st)
  local buf = st.buf
  local function nmap(lhs, fn)
    vim.keymap.set('n', lhs, function()
      local s = state.docs[buf]
      if s then
        fn(s)
      end
    end, { buffer = buf, desc = 'Tome: ' .. lhs })
  end
  nmap('G', W.motion_G)
  -- CTRL-End: as G, on the last character.
  nmap('<C-End>', function(s)
    W.motion_G(s)
    vim.cmd('normal! $')
  end)
  nmap('gg', W.motion_gg)
  nmap('%', W.motion_percent)
  for _, k in ipairs({ { 'j', 1 }, { '<Down>', 1 }, { 'k', -1 }, { '<Up>', -1 } }) do
    local key = api.nvim_replace_termcodes(k[1], true, false, true)
    nmap(k[1], function(s)
      W.motion_vertical(s, key, k[2])
    end)
  end
  for _, k in ipairs({ { '<C-d>', 1 }, { '<C-u>', -1 }, { '<C-f>', 1 }, { '<C-b>', -1 } }) do
    local key = api.nvim_replace_termcodes(k[1], true, false, true)
    nmap(k[1], function(s)
      W.motion_scroll(s, key, k[2])
    end)
  end
  -- Marks outside the window (marks.lua): 'x `x; '' `` (the previous context mark) and '. `.
  -- (the last change) from jumps.lua.
  local M = require('tome.marks')
  for _, key in ipairs({ "'", '`' }) do
    vim.keymap.set('n', key, function()
      local s = state.docs[buf]
      local c = vim.fn.getcharstr()
      if not s or not (c:match('^%l$') or c == "'" or c == '`' or c == '.') then
        return vim.cmd('normal! ' .. key .. c)
      end
      local line, col
      if c == "'" or c == '`' then
        -- (before any jump: the first line, as Vim has it after opening a file)
        local pc = s.pcmark or { 0, 0 }
        line, col = pc[1], pc[2]
      elseif c == '.' then
        local ch = s.last_change
        if not ch then
          return api.nvim_echo({ { 'E20: Mark not set', 'ErrorMsg' } }, true, {})
        end
        line, col = ch[1], ch[2]
      else
        line, col = M.get(s, c)
        if not line then
          return api.nvim_echo({ { 'E20: Mark not set', 'ErrorMsg' } }, true, {})
        end
      end
      W.setpcmark(s) -- (the jumplist, as a mark jump does)
      W.jump(s, line)
      if key == '`' and not c:match('^%l$') then
        longline.go(s, api.nvim_win_get_cursor(0)[1], col) -- (a column of the line)
      elseif key == '`' then
        pcall(api.nvim_win_set_cursor, 0, { api.nvim_win_get_cursor(0)[1], col })
      else
        vim.cmd('keepjumps normal! ^')
      end
    end, { buffer = buf, desc = 'Tome: jump to a mark' })
  end
  -- m{a-z}: marks are kept on real lines, so in an estimated window (window.lua) setting one
  -- first waits for the index to number the window.
  vim.keymap.set('n', 'm', function()
    local s = state.docs[buf]
    local c = vim.fn.getcharstr()
    if s and c:match('^%l$') and s.estimated and not W.exact(s, 'to set a mark') then
      return
    end
    vim.cmd('normal! m' .. c)
  end, { buffer = buf, desc = 'Tome: set a mark' })
  -- CTRL-O, CTRL-I (<Tab>): the jumplist on file lines (jumps.lua); past its ends, Neovim's own
  -- (other files).
  local Jm = require('tome.jumps')
  for _, k in ipairs({ { '<C-o>', -1 }, { '<Tab>', 1 } }) do
    nmap(k[1], function(s)
      local count = vim.v.count1
      local pos = Jm.move(s, k[2] * count, W.cursor_line(s), longline.cursor_col(s))
      if not pos then
        return K.native_jump(s, k[2], count)
      end
      W.jump(s, pos[1])
      longline.go(s, api.nvim_win_get_cursor(0)[1], pos[2])
    end)
  end
  -- g; g,: the changelist on file lines.
  for _, k in ipairs({ { 'g;', -1 }, { 'g,', 1 } }) do
    nmap(k[1], function(s)
      local pos, why = Jm.change(s, k[2] * vim.v.count1)
      if not pos then
        return api.nvim_echo({ { why, 'ErrorMsg' } }, true, {})
      end
      W.jump(s, pos[1])
      longline.go(s, api.nvim_win_get_cursor(0)[1], pos[2])
    end)
  end
  nmap('u', function(s)
    E.undo(s, false)
  end)
  nmap('<C-r>', function(s)
    E.undo(s, true)
  end)
  for _, star in ipairs({ { '*', false, true }, { '#', true, true }, { 'g*', false, false }, { 'g#', true, false } }) do
    nmap(star[1], function(s)
      S.star(s, star[2], star[3])
    end)
  end
  nmap('n', function(s)
    S.again(s, false)
  end)
  nmap('N', function(s)
    S.again(s, true)
  end)
  -- Operators with far motions, counts and Visual selections past the window (reach.lua).
  require('tome.reach').map(buf)
  -- Motions and operators along lines held as slices (longkeys.lua).
  require('tome.longkeys').map(buf)
  vim.keymap.set('c', '<CR>', K.cmdline_cr, { buffer = buf, expr = true, desc = 'Tome: :N and / through the server' })
end

return K
