-- The buffer-local keys of a Tome buffer (with `mappings = true`): motions, undo/redo and n/N
-- through the server, and a cmdline <CR> that sends `:{N}`, `:$`, `/pat` and `?pat` there too,
-- and the ex commands that act on ranges of lines (excmd.lua: :s, :g, :v, :d, :m, :t, :j…).
-- Requires state, window, edit and search.
local state = require('tome.state')
local W = require('tome.window')
local E = require('tome.edit')
local S = require('tome.search')
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
    if require('tome.excmd').handles(line) then
      vim.fn.histadd(':', line)
      pending = { kind = 'ex', line = line }
      return '<C-c><Cmd>lua require("tome.keymaps").run_pending()<CR>'
    end
  elseif t == '/' or t == '?' then
    pending = { kind = 'search', pattern = line, backward = t == '?' }
    return '<C-c><Cmd>lua require("tome.keymaps").run_pending()<CR>'
  end
  return '<CR>'
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
  -- Operators to the first or last line (or line {count}): the lines may lie outside the
  -- window, so they run as the line command that does the same (excmd.lua).
  local X = require('tome.excmd')
  for _, op in ipairs({ { 'dG', 'd', true }, { 'dgg', 'd', false }, { 'yG', 'y', true }, { 'ygg', 'y', false } }) do
    nmap(op[1], function(s)
      if not W.exact(s, 'for ' .. op[1]) then
        return
      end
      local cur = W.cursor_line(s)
      local target = vim.v.count > 0 and vim.v.count - 1 or (op[3] and W.last_line(s, true) or 0)
      if not target then
        return
      end
      local reg = vim.v.register ~= '"' and (' ' .. vim.v.register) or ''
      local a, b = math.min(cur, target), math.max(cur, target)
      X.run(s, ('%d,%d%s%s'):format(a + 1, b + 1, op[2], reg))
      if op[2] == 'y' then
        W.jump(s, a) -- a yank leaves the cursor at the start of what it yanked
      end
    end)
  end
  -- Marks outside the window (marks.lua): 'x `x d'x y'x.
  local M = require('tome.marks')
  for _, key in ipairs({ "'", '`' }) do
    vim.keymap.set('n', key, function()
      local s = state.docs[buf]
      local c = vim.fn.getcharstr()
      if not s or not c:match('^%l$') then
        return vim.cmd('normal! ' .. key .. c)
      end
      local line, col = M.get(s, c)
      if not line then
        return api.nvim_echo({ { 'E20: Mark not set', 'ErrorMsg' } }, true, {})
      end
      vim.cmd("normal! m'") -- the jumplist, as a mark jump does
      W.jump(s, line)
      if key == '`' then
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
  for _, op in ipairs({ 'd', 'y' }) do
    vim.keymap.set('n', op .. "'", function()
      local s = state.docs[buf]
      local c = vim.fn.getcharstr()
      if not s or not c:match('^%l$') then
        return vim.cmd('normal! ' .. op .. "'" .. c)
      end
      local line = M.get(s, c)
      if not line then
        return api.nvim_echo({ { 'E20: Mark not set', 'ErrorMsg' } }, true, {})
      end
      if not W.exact(s, 'for ' .. op .. "'" .. c) then
        return
      end
      local cur = W.cursor_line(s)
      local a, b = math.min(cur, line), math.max(cur, line)
      local reg = vim.v.register ~= '"' and (' ' .. vim.v.register) or ''
      X.run(s, ('%d,%d%s%s'):format(a + 1, b + 1, op, reg))
      if op == 'y' then
        W.jump(s, a)
      end
    end, { buffer = buf, desc = 'Tome: ' .. op .. "' to a mark" })
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
  vim.keymap.set('c', '<CR>', K.cmdline_cr, { buffer = buf, expr = true, desc = 'Tome: :N and / through the server' })
end

return K
