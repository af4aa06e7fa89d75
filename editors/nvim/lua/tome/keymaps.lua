-- The buffer-local keys of a Tome buffer (with `mappings = true`): motions, undo/redo and n/N
-- through the server, and a cmdline <CR> that sends `:{N}`, `:$`, `/pat` and `?pat` there too,
-- and the ex commands that act on ranges of lines (excmd.lua: :s, :g, :v, :d, :m, :t, :j…);
-- the operator-pending and Visual keys of reach.lua, the keys along long lines of longkeys.lua.
-- Jumps land at the line's column on a row holding a slice of a long line (longline.lua).
-- Also `'A` and `` `A `` in every buffer, for file marks kept in Tome buffers (K.map_global).
-- Requires state, window, edit, search, marks, reach, clips, longline and longkeys.
local state = require('tome.state')
local W = require('tome.window')
local E = require('tome.edit')
local S = require('tome.search')
local M = require('tome.marks')
local longline = require('tome.longline')
local api = vim.api

local K = {}

--- File line `l`'s text (its first `width` characters), or nil past the end.
local function line_text(st, l, width)
  local res = require('tome.client').request('tome/viewport', {
    doc = st.doc,
    first = l,
    count = 1,
    window = { start = 0, width = width },
  })
  local got = res and res.lines[1]
  return got and got.number == l and got.text or nil
end

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
  elseif p.kind == 'undo' then
    E.undo_command(st, p.line)
  elseif p.kind == 'marks' then
    api.nvim_echo(
      M.listing(st, p.arg, function(l)
        return line_text(st, l, math.max(100, vim.o.columns))
      end),
      false,
      {}
    )
  elseif p.kind == 'delmarks' then
    local ok, err = pcall(vim.cmd, p.line)
    if not ok then
      return api.nvim_echo({ { tostring(err):gsub('^.-(E%d+:)', '%1'), 'ErrorMsg' } }, true, {})
    end
    M.delete(st, p.names, p.bang)
  elseif p.kind == 'listing' then
    -- :jumps and :changes with real line numbers (jumps.lua), each entry's text from the server.
    local lines = require('tome.jumps').listing(st, p.name, function(l)
      return line_text(st, l, 100)
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
    -- :marks [arg], :delm[arks][!] {marks}: on the marks kept on file lines (marks.lua).
    local rest = line:match('^%s*marks(.*)$')
    if rest and (rest == '' or rest:match('^%s')) then
      rest = vim.trim(rest)
      vim.fn.histadd(':', line)
      pending = { kind = 'marks', arg = rest ~= '' and rest or nil }
      return '<C-c><Cmd>lua require("tome.keymaps").run_pending()<CR>'
    end
    local word, bang, names = line:match('^%s*(delm%a*)(!?)%s*(.-)%s*$')
    if word and ('delmarks'):sub(1, #word) == word then
      vim.fn.histadd(':', line)
      pending = { kind = 'delmarks', line = line, names = names, bang = bang == '!' }
      return '<C-c><Cmd>lua require("tome.keymaps").run_pending()<CR>'
    end
    if E.is_undo_command(line) then
      vim.fn.histadd(':', line)
      pending = { kind = 'undo', line = line }
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

--- `'A` or `` `A `` (`key`, `c`) to a file mark kept in a Tome buffer (marks.lua), from any
--- buffer: to that buffer (opened again if it was closed), then to the mark's file line.
function K.file_jump(key, c)
  local buf = M.file_mark(c)
  if not buf then
    return
  end
  if buf ~= api.nvim_get_current_buf() then
    local ok, err = pcall(vim.cmd, 'buffer ' .. buf)
    if not ok then
      return api.nvim_echo({ { tostring(err):gsub('^.-(E%d+:)', '%1'), 'ErrorMsg' } }, true, {})
    end
  end
  local st = state.docs[buf]
  local _, line, col = M.file_mark(c)
  if not st or not line then
    return
  end
  W.jump(st, line)
  if key == '`' then
    pcall(api.nvim_win_set_cursor, 0, { api.nvim_win_get_cursor(0)[1], col })
  else
    vim.cmd('keepjumps normal! ^')
  end
end

local global_jump
--- From the global mapping below: the jump it chose.
function K.run_global_jump()
  local j = global_jump
  global_jump = nil
  if j then
    -- (Vim's jump to another file: the place left goes in the jumplist)
    vim.cmd("normal! m'")
    K.file_jump(j[1], j[2])
  end
end

--- Normal-mode `'` and `` ` `` in every buffer (Tome buffers map their own): `'A` to a file
--- mark kept in a Tome buffer goes to its file line; anything else is typed as it was. Set
--- once, when the first Tome buffer is mapped, and not over a global mapping of the user's.
local mapped_global = false
function K.map_global()
  if mapped_global then
    return
  end
  mapped_global = true
  local taken = {}
  for _, m in ipairs(api.nvim_get_keymap('n')) do
    taken[m.lhs] = true
  end
  for _, key in ipairs({ "'", '`' }) do
    if not taken[key] then
      vim.keymap.set('n', key, function()
        local c = vim.fn.getcharstr()
        if c:match('^%u$') and M.file_mark(c) then
          global_jump = { key, c }
          return api.nvim_replace_termcodes('<Cmd>lua require("tome.keymaps").run_global_jump()<CR>', true, false, true)
        end
        return key .. c
      end, { expr = true, replace_keycodes = false, desc = "Tome: 'A to a file mark in a Tome buffer" })
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
  -- Marks outside the window (marks.lua): 'x `x (a-z, and A-Z in this buffer or another Tome
  -- buffer); '' `` (the previous context mark) and '. `. (the last change) from jumps.lua.
  for _, key in ipairs({ "'", '`' }) do
    vim.keymap.set('n', key, function()
      local s = state.docs[buf]
      local c = vim.fn.getcharstr()
      if not s or not (c:match('^%a$') or c == "'" or c == '`' or c == '.') then
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
        if not line and c:match('%u') then
          -- A file mark in another buffer: there (Neovim's own jump when it is not a Tome
          -- buffer's), the place left going in this buffer's jumplist.
          local other = M.file_mark(c)
          local native = api.nvim_get_mark(c, {})[1] > 0
          if other or native then
            W.setpcmark(s)
            if other then
              return K.file_jump(key, c)
            end
            local ok, err = pcall(vim.cmd, 'normal! ' .. key .. c)
            return ok or api.nvim_echo({ { tostring(err):gsub('^.-(E%d+:)', '%1'), 'ErrorMsg' } }, true, {})
          end
        end
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
  -- m{a-zA-Z}: marks are kept on real lines, so in an estimated window (window.lua) setting one
  -- first waits for the index to number the window. A-Z are kept by marks.lua for every buffer;
  -- m' and m` add to the jumplist on file lines (jumps.lua) as Vim's setpcmark.
  vim.keymap.set('n', 'm', function()
    local s = state.docs[buf]
    local c = vim.fn.getcharstr()
    if not s then
      return vim.cmd('normal! m' .. c)
    end
    if c:match('^%a$') and s.estimated and not W.exact(s, 'to set a mark') then
      return
    end
    if c == "'" or c == '`' then
      return W.setpcmark(s)
    end
    vim.cmd('normal! m' .. c)
    if c:match('^%u$') then
      M.set_file(s, c, W.cursor_line(s), api.nvim_win_get_cursor(0)[2])
    end
  end, { buffer = buf, desc = 'Tome: set a mark' })
  K.map_global()
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
  -- (Vim's g- and g+ walk its undo tree by time; the server's history is linear: the same as u
  -- and CTRL-R there)
  nmap('g-', function(s)
    E.undo(s, false)
  end)
  nmap('g+', function(s)
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
  require('tome.clips').map(buf)
  -- Motions and operators along lines held as slices (longkeys.lua).
  require('tome.longkeys').map(buf)
  vim.keymap.set('c', '<CR>', K.cmdline_cr, { buffer = buf, expr = true, desc = 'Tome: :N and / through the server' })
end

return K
