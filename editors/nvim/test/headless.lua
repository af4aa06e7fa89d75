-- Headless end-to-end tests: real Neovim, real `tome serve`, a generated file of 200+ MiB
-- (each line holds `seq=N`, N its 0-based number). Run by scripts/test-nvim.sh:
--   TOME_BIN=... TOME_TEST_FILE=big.log nvim --headless -u test/minimal_init.lua big.log -c 'luafile test/headless.lua'
local api = vim.api
local tome = require('tome')
local W = require('tome.window')
local file = vim.fn.fnamemodify(assert(vim.env.TOME_TEST_FILE), ':p')
local workdir = vim.fn.fnamemodify(file, ':h')
local passed, failed = 0, 0
-- Results go to $TOME_TEST_LOG (Neovim's own messages go to stdout in headless mode).
local out = vim.env.TOME_TEST_LOG and assert(io.open(vim.env.TOME_TEST_LOG, 'a')) or io.stdout

local function log(s)
  out:write(s .. '\n')
  out:flush()
end

-- Every vim.notify, kept for the checks (and passed on).
local notes = {}
do
  local notify = vim.notify
  vim.notify = function(msg, level, opts)
    notes[#notes + 1] = { msg = msg, level = level }
    return notify(msg, level, opts)
  end
end
local function notes_matching(pat, from)
  local found = {}
  for i = from or 1, #notes do
    if notes[i].msg:find(pat) then
      found[#found + 1] = notes[i]
    end
  end
  return found
end

local only = vim.env.TOME_TEST_ONLY -- a Lua pattern: run only the tests whose names match

local function test(name, fn)
  if only and not name:find(only) then
    return
  end
  local t0 = vim.uv.hrtime()
  local ok, err = xpcall(fn, debug.traceback)
  local ms = (vim.uv.hrtime() - t0) / 1e6
  if ok then
    passed = passed + 1
    log(('ok   %s (%.0f ms)'):format(name, ms))
  else
    failed = failed + 1
    log(('FAIL %s: %s'):format(name, err))
  end
end

local function eq(want, got, what)
  if not vim.deep_equal(want, got) then
    error(('%s: want %s, got %s'):format(what or 'value', vim.inspect(want), vim.inspect(got)), 2)
  end
end

-- (as typed, 't': Neovim starts an undo step for each command, as for keys a person types)
local function feed(keys)
  api.nvim_feedkeys(api.nvim_replace_termcodes(keys, true, false, true), 'mxt', false)
end

local function st()
  return (assert(tome.docs[api.nvim_get_current_buf()], 'not a Tome buffer'))
end

-- The real (1-based) line of the cursor, and the seq=N on the cursor's line.
local function real()
  return W.cursor_line(st()) + 1
end
local function seq()
  return tonumber(api.nvim_get_current_line():match('seq=(%d+)'))
end
-- A step of the tests: type `keys`, then the cursor must be on the line holding seq=`want`.
local function press(keys, want, what)
  feed(keys)
  eq(want, seq(), what)
end

local function bounded()
  local n = api.nvim_buf_line_count(0)
  assert(n <= W.size() + 20, ('buffer holds %d lines, window is %d'):format(n, W.size()))
end

-- Lines of the generated file, read once (streaming) for the expectations below.
local total_lines, size, last_text = 0, vim.uv.fs_stat(file).size, nil
for l in io.lines(file) do
  total_lines = total_lines + 1
  last_text = l
end
log(('file %s: %d bytes, %d lines'):format(file, size, total_lines))

test('bytecode cache: modules load from it; a changed or corrupt entry is compiled again', function()
  local B = require('tome.bytecode')
  local cache = vim.fn.stdpath('cache') .. '/tome/luac/'
  local window_src = debug.getinfo(require('tome.window').fill, 'S').source:sub(2)
  eq(1, vim.fn.filereadable(cache .. window_src:gsub('[/\\:]', '%%') .. 'c'), 'the entry of tome.window')
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, 'p')
  local src = dir .. '/m.lua'
  local function put(path, text)
    local f = assert(io.open(path, 'wb'))
    f:write(text)
    f:close()
  end
  put(src, 'return 1')
  eq(1, assert(B.load(src, dir))(), 'first load')
  local entry = dir .. '/' .. src:gsub('[/\\:]', '%%') .. 'c'
  local key = assert(io.open(entry, 'rb')):read('*l')
  -- The entry is what loads: the bytecode of another chunk under the same key is run.
  put(entry, key .. '\n' .. string.dump(assert(loadstring('return 44'))))
  eq(44, assert(B.load(src, dir))(), 'read from the cache')
  put(src, 'return 22') -- another size
  eq(22, assert(B.load(src, dir))(), 'a longer source')
  put(src, 'return 33') -- the same size, another time
  assert(vim.uv.fs_utime(src, 1000, 1000))
  eq(33, assert(B.load(src, dir))(), 'a source with another time')
  key = assert(io.open(entry, 'rb')):read('*l')
  put(entry, key .. '\nnot bytecode')
  eq(33, assert(B.load(src, dir))(), 'a corrupt entry')
  put(src, 'return (')
  local chunk, err = B.load(src, dir)
  eq(nil, chunk, 'a source that does not compile')
  assert(err and err:find('m.lua'), err)
  vim.fn.delete(dir, 'rf')
end)

test('nvim FILE opens through Tome (BufReadCmd above the threshold)', function()
  local s = st()
  -- While -c commands run, Neovim keeps the cursor on line 0 (it sets 1 after them).
  if api.nvim_win_get_cursor(0)[1] == 0 then
    api.nvim_win_set_cursor(0, { 1, 0 })
  end
  eq('acwrite', vim.bo.buftype, 'buftype')
  eq(0, seq(), 'seq on line 1')
  eq('2026', api.nvim_buf_get_lines(0, 0, 1, false)[1]:sub(1, 4), 'first line')
  eq(1, W.cursor_line(s) + 1)
  bounded()
  log(('     open+first window: %.1f ms, window %d lines'):format(s.open_ms, api.nvim_buf_line_count(0)))
end)

test('real line numbers in statuscolumn, status line part', function()
  eq("%s%=%{v:lua.require'tome'.lnum()} ", vim.wo.statuscolumn, 'statuscolumn')
  local s = vim.api.nvim_eval_statusline(vim.wo.statusline, {}).str
  assert(s:find('Tome: line 1 of', 1, true), s)
  assert(s:find('200.0 MiB', 1, true) or s:find('MiB', 1, true), s)
end)

test('G shows the last line', function()
  -- (once the index is complete, with real numbers; before, see "before the index completes")
  require('tome.client').wait_index(st())
  feed('G')
  eq(total_lines, real(), 'real line after G')
  eq(last_text, api.nvim_get_current_line(), 'text after G')
  local s = vim.api.nvim_eval_statusline(vim.wo.statusline, {}).str
  local n = tostring(total_lines):reverse():gsub('(%d%d%d)', '%1,'):reverse():gsub('^,', '')
  assert(s:find(('line %s of %s'):format(n, n), 1, true), s)
  bounded()
end)

test('gg and {count}G', function()
  press('gg', 0, 'gg')
  press('1234567G', 1234566, '1234567G')
  eq(1234567, real())
  press('gg', 0)
end)

test(':{N} and :$', function()
  press(':1000000<CR>', 999999, ':1000000')
  eq(1000000, real())
  feed(':$<CR>')
  eq(total_lines, real(), ':$')
  eq(last_text, api.nvim_get_current_line(), ':$')
  press(':17<CR>', 16, ':17')
end)

test('{N}%', function()
  feed('50%')
  local want = math.floor((50 * total_lines + 99) / 100)
  eq(want, real(), '50%')
  eq(want - 1, seq())
  feed('100%')
  eq(total_lines, real(), '100%')
  eq(last_text, api.nvim_get_current_line(), '100%')
end)

test('j/k past the window edge, Ctrl-F/B/D/U, big counts', function()
  feed('gg')
  for _ = 1, 700 do
    feed('j')
  end
  eq(700, seq(), '700 j')
  bounded()
  for _ = 1, 650 do
    feed('k')
  end
  eq(50, seq(), '650 k')
  press('100000j', 100050, '100000j')
  press('99999k', 51, '99999k')
  feed('gg')
  local h = api.nvim_win_get_height(0)
  for _ = 1, 40 do
    feed('<C-f>')
  end
  local after_f = seq()
  -- (headless Neovim scrolls less than a real screen's height per Ctrl-F)
  assert(after_f >= 40 * 5 and after_f <= 40 * h + h, ('40 Ctrl-F from top (height %d): seq %d'):format(h, after_f))
  eq(after_f + 1, real(), 'line shown matches real number')
  for _ = 1, 40 do
    feed('<C-b>')
  end
  assert(seq() < h, 'back near the top: ' .. seq())
  feed(':500000<CR>')
  for _ = 1, 30 do
    feed('<C-d>')
  end
  local d = seq()
  assert(d >= 500000 + 30 * 3, 'Ctrl-D went ' .. d) -- headless: 'scroll' is small
  eq(d + 1, real())
  for _ = 1, 30 do
    feed('<C-u>')
  end
  assert(math.abs(seq() - 499999) <= 2, 'Ctrl-U back: ' .. seq())
  bounded()
end)

test('search forward/backward, regex and literal, n/N', function()
  feed('gg')
  press('/seq=18000[0-9]\\{2} <CR>', 1800000, '/regex (Vim syntax)')
  press('n', 1800001, 'n')
  press('n', 1800002, 'n again')
  press('N', 1800001, 'N')
  press('?seq=5000 <CR>', 5000, '?backward')
  press('/\\Vseq=1900000 <CR>', 1900000, '/\\V literal')
  feed('/seq=[<CR>') -- invalid regex: an error, no move
  eq(1900000, seq(), 'invalid regex keeps the cursor')
  bounded()
end)

test(':TomeGrep fills the quickfix list with real lines', function()
  vim.cmd('TomeGrep seq=12345[0-9] ')
  local qf = vim.fn.getqflist()
  eq(10, #qf, 'matches')
  eq(123451, qf[1].lnum, 'first match line')
  assert(qf[1].text:find('seq=123450 ', 1, true), qf[1].text)
  eq(123450, seq(), 'jumped to the first match')
  vim.cmd('cnext')
  tome.check_quickfix(st()) -- CursorMoved does it for a user
  eq(123451, seq(), ':cnext')
  vim.cmd('5TomeGrep seq=1')
  eq(5, #vim.fn.getqflist(), 'limit')
end)

-- Edits far from the start; `expected` is built by streaming the original file.
local edited = {} -- 0-based original line -> replacement lines (list) or false (deleted)
local function orig_line(n) -- 0-based line of the original file
  local i = 0
  for l in io.lines(file) do
    if i == n then
      return l
    end
    i = i + 1
  end
end

test('insert, delete, change, paste, . at line 1,500,001', function()
  press(':1500001<CR>', 1500000)
  feed('0iHELLO <Esc>')
  press('j', 1500001)
  press('dd', 1500002, 'dd leaves the next line')
  feed('0cwCHANGED<Esc>')
  feed('yyp')
  feed('j0x..')
  local l0 = orig_line(1500000)
  local l2 = orig_line(1500002)
  local l3 = orig_line(1500003)
  edited[1500000] = { 'HELLO ' .. l0 }
  edited[1500001] = false
  local changed = 'CHANGED' .. l2:sub(5)
  edited[1500002] = { changed, changed }
  edited[1500003] = { l3:sub(4) }
  eq(l3:sub(4), api.nvim_get_current_line(), 'x..')
  -- The window must show what the server has.
  W.recentre(st())
  eq(l3:sub(4), api.nvim_get_current_line(), 'after refill')
  feed('k')
  eq(changed, api.nvim_get_current_line(), 'pasted line after refill')
  feed('kk')
  eq('HELLO ' .. l0, api.nvim_get_current_line(), 'inserted text after refill')
  assert(vim.bo.modified, 'modified')
end)

test('u and Ctrl-R go through the server', function()
  local s = st()
  feed('u')
  local info = tome.refresh_info(s)
  assert(info.redoSteps >= 1, 'a redo step after u')
  local line = api.nvim_buf_get_lines(0, 1500003 - s.base, 1500004 - s.base, false)[1]
  assert(line ~= edited[1500003][1], 'u restored something: ' .. line)
  feed('<C-r>')
  info = tome.refresh_info(s)
  eq(0, info.redoSteps, 'redo steps after Ctrl-R')
  line = api.nvim_buf_get_lines(0, 1500003 - s.base, 1500004 - s.base, false)[1]
  eq(edited[1500003][1], line, 'Ctrl-R redid it')
end)

--- Streams `src` into `dst` with `edits` (0-based line -> function(text) returning the lines
--- that replace it, or false to delete it). Returns the original text of the edited lines and
--- of those in `keep` (0-based line -> true).
local function write_edited(src, dst, edits, keep)
  local f = assert(io.open(dst, 'wb'))
  local seen, i = {}, 0
  for l in io.lines(src, 'L') do
    local e = edits[i]
    if e ~= nil or (keep and keep[i]) then
      seen[i] = l:gsub('\r?\n$', '')
    end
    if e == nil then
      f:write(l)
    elseif e then
      local nl = l:match('\r?\n$') or ''
      for _, x in ipairs(e(seen[i])) do
        f:write(x, nl)
      end
    end
    i = i + 1
  end
  f:close()
  return seen
end

-- The original file with the edits of `edited`, as the server should save it.
local function write_expected(path)
  local edits = {}
  for i, e in pairs(edited) do
    edits[i] = e and function()
      return e
    end
  end
  write_edited(file, path, edits)
end

local function cmp(a, b)
  local r = vim.system({ 'cmp', a, b }):wait()
  eq(0, r.code, 'cmp ' .. a .. ' ' .. b .. ': ' .. (r.stdout or '') .. (r.stderr or ''))
end

local expected = workdir .. '/expected.log'
test('the status line counts lines added by plain edits', function()
  local function status()
    return api.nvim_eval_statusline(vim.wo.statusline, {}).str
  end
  local function of()
    local n = status():match('of ([%d,]+)')
    return n and tonumber((n:gsub(',', '')))
  end
  require('tome.client').wait_index(st())
  -- (earlier tests' edits may not be counted yet)
  local s = st()
  require('tome.client').refresh_info(s)
  s.last = nil
  W.last_line(s, false)
  vim.cmd('redrawstatus')
  local before = of()
  assert(before, 'a line count in the status line: ' .. status())
  feed('o<Esc>o<Esc>')
  assert(vim.wait(3000, function()
    vim.cmd('redrawstatus')
    return of() == before + 2
  end, 50), ('status line after adding two lines: %s (was %d)'):format(status(), before))
  feed('2u') -- (two steps: each `o` is one Vim change)
  assert(vim.wait(3000, function()
    return of() == before
  end, 50), 'status line after 2u: ' .. status())
end)

test(':w saves through the server, byte for byte', function()
  local t0 = vim.uv.hrtime()
  vim.cmd('write')
  log(('     :w of %d MiB: %.0f ms'):format(size / 1048576, (vim.uv.hrtime() - t0) / 1e6))
  assert(not vim.bo.modified, 'clean after :w')
  write_expected(expected)
  cmp(expected, file)
end)

local other = workdir .. '/other.log'
test(':w other saves as', function()
  os.remove(other)
  feed('0ihead <Esc>')
  local s = st()
  local l = W.cursor_line(s)
  vim.cmd('write ' .. other)
  eq(other, api.nvim_buf_get_name(0), 'buffer now names the new file')
  assert(not vim.bo.modified)
  -- expected: the line under the cursor got "head " (positions in the edited file)
  local f = assert(io.open(expected .. '.2', 'wb'))
  local i = 0
  for x in io.lines(expected, 'L') do
    f:write(i == l and ('head ' .. x) or x)
    i = i + 1
  end
  f:close()
  cmp(expected .. '.2', other)
  cmp(expected, file) -- the original is untouched by the save-as
end)

test('memory stays bounded', function()
  bounded()
  local rss = tonumber(io.open('/proc/self/status'):read('a'):match('VmRSS:%s*(%d+)')) / 1024
  local n = api.nvim_buf_line_count(0)
  log(('     nvim RSS %.0f MiB with a %.0f MiB file, buffer %d lines'):format(rss, size / 1048576, n))
  assert(rss < 150, 'RSS ' .. rss .. ' MiB')
end)

-- Helpers for the tests of outside changes and crash recovery, each on its own copy of the
-- 200 MiB file.
local function copy_of(name)
  local path = workdir .. '/' .. name
  local r = vim.system({ 'cp', '--reflink=auto', file, path }):wait()
  eq(0, r.code, 'cp: ' .. (r.stderr or ''))
  return path
end

local function line_total(path)
  return tonumber(vim.system({ 'wc', '-l', path }):wait().stdout:match('%d+'))
end

local function append(path, text)
  local f = assert(io.open(path, 'ab'))
  f:write(text)
  f:close()
end

--- Changes `old` to `new` (same length) inside 0-based line `n` of `path`, in place. Returns
--- the line's new text.
local function poke(path, n, old, new)
  assert(#old == #new)
  local offset, i, text = 0, 0, nil
  for l in io.lines(path, 'L') do
    if i == n then
      text = l:gsub('\r?\n$', '')
      break
    end
    offset, i = offset + #l, i + 1
  end
  local at = assert(text:find(old, 1, true), 'no ' .. old .. ' on line ' .. n)
  local f = assert(io.open(path, 'r+b'))
  f:seek('set', offset + at - 1)
  f:write(new)
  f:close()
  return text:sub(1, at - 1) .. new .. text:sub(at + #old)
end

test('appended lines show without polling; the cursor on the last line follows them', function()
  local path = copy_of('tail.log')
  local n = line_total(path)
  vim.cmd('edit ' .. path)
  local s = st()
  assert(s.poll == nil and s.stat == nil, 'no fs_poll watcher')
  require('tome.client').wait_index(s) -- (real numbers: G before the index is tested below)
  feed('G')
  eq(n, real(), 'G before the append')
  local events = s.disk_events or 0
  append(path, 'tail one seq=-1\ntail two seq=-2\ntail three seq=-3\n')
  -- No key pressed: tome/didChangeOnDisk ("appended") moves the cursor to the new end.
  local ok = vim.wait(5000, function()
    return api.nvim_get_current_line() == 'tail three seq=-3'
  end, 10)
  assert(ok, ('cursor did not follow the append: line %d %q (%d notifications)'):format(
    real(), api.nvim_get_current_line(), (s.disk_events or 0) - events))
  eq(n + 3, real(), 'real line after the append')
  assert((s.disk_events or 0) > events, 'no tome/didChangeOnDisk notification')
  local row = api.nvim_win_get_cursor(0)[1]
  eq({ 'tail two seq=-2' }, api.nvim_buf_get_lines(0, row - 2, row - 1, false), 'line before the last')
  assert(not vim.bo.modified, 'an append does not make the buffer modified')
  -- Elsewhere in the file the cursor stays; G finds the new end.
  press(':1000<CR>', 999, ':1000')
  events = s.disk_events
  append(path, 'tail four seq=-4\n')
  ok = vim.wait(5000, function()
    return s.disk_events > events and not s.append_pending
  end, 10)
  assert(ok, 'second append not notified')
  eq(1000, real(), 'cursor stays on line 1000')
  eq(999, seq(), 'text under the cursor stays')
  local total = tostring(n + 4):reverse():gsub('(%d%d%d)', '%1,'):reverse():gsub('^,', '')
  local sl
  ok = vim.wait(3000, function()
    sl = vim.api.nvim_eval_statusline(vim.wo.statusline, {}).str
    return sl:find(('line 1,000 of %s '):format(total), 1, true) ~= nil
  end, 10)
  assert(ok, 'status line count after the append: ' .. sl)
  feed('G')
  eq(n + 4, real(), 'G after the second append')
  eq('tail four seq=-4', api.nvim_get_current_line(), 'G shows the appended line')
end)

test(':TomeFollow follows the end from anywhere', function()
  local s = st()
  local n = line_total(s.path)
  feed(':1000<CR>')
  vim.cmd('TomeFollow')
  assert(s.follow, 'follow on')
  eq(n, real(), ':TomeFollow goes to the end')
  press(':1000<CR>', 999)
  append(s.path, 'tail five seq=-5\n')
  local ok = vim.wait(5000, function()
    return api.nvim_get_current_line() == 'tail five seq=-5'
  end, 10)
  assert(ok, 'not followed from line 1000: ' .. api.nvim_get_current_line())
  eq(n + 1, real())
  vim.cmd('TomeFollow')
  assert(not s.follow, 'follow off')
  feed(':1000<CR>')
  local events = s.disk_events
  append(s.path, 'tail six seq=-6\n')
  assert(vim.wait(5000, function()
    return s.disk_events > events and not s.append_pending
  end, 10), 'append not notified')
  eq(999, seq(), 'not following any more')
end)

test('a file rewritten in place: one warning; :TomeReload shows it and drops unsaved edits', function()
  local s = st()
  feed(':201<CR>')
  local line201 = api.nvim_get_current_line()
  feed('0iUNSAVED <Esc>')
  assert(vim.bo.modified, 'modified after the edit')
  vim.wait(2000, function()
    return (s.edits_in_flight or 0) == 0
  end, 5)
  local from = #notes + 1
  local changed = poke(s.path, 99, 'seq=99 ', 'SEQ=99 ')
  local ok = vim.wait(5000, function()
    return #notes_matching('TomeReload', from) > 0
  end, 10)
  assert(ok, 'no warning after the rewrite')
  vim.wait(500) -- a second warning would come now
  local warned = notes_matching('TomeReload', from)
  eq(1, #warned, 'warnings')
  eq(vim.log.levels.WARN, warned[1].level, 'warning level')
  assert(warned[1].msg:find('changed in place', 1, true), warned[1].msg) -- the server's message
  eq('rewritten', s.changed_on_disk, 'change kind')
  vim.cmd('TomeReload')
  assert(not vim.bo.modified, 'clean after :TomeReload')
  feed(':100<CR>')
  eq(changed, api.nvim_get_current_line(), 'line 100 after :TomeReload')
  feed(':201<CR>')
  eq(line201, api.nvim_get_current_line(), 'the unsaved edit is dropped')
  eq(nil, s.changed_on_disk)
  vim.cmd('bwipeout!')
  os.remove(s.path)
end)

-- Crash recovery: a second and third Neovim (the sessions before and after a crash), driven
-- over RPC. They share $TOME_STATE_DIR with this one (set by scripts/test-nvim.sh).
local init_lua = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h') .. '/minimal_init.lua'
local PRELUDE = [[
  _G.T = { notes = {} }
  local api = vim.api
  local notify = vim.notify
  vim.notify = function(msg, level, opts)
    table.insert(T.notes, msg)
    return notify(msg, level, opts)
  end
  function T.st(buf)
    return require('tome').docs[buf or api.nvim_get_current_buf()]
  end
  function T.feed(keys)
    api.nvim_feedkeys(api.nvim_replace_termcodes(keys, true, false, true), 'mx', false)
  end
  function T.line(n) -- the text of real line n (1-based); the cursor goes there
    require('tome.window').goto_line(T.st(), n)
    return api.nvim_get_current_line()
  end
  function T.settle()
    local st = T.st()
    vim.wait(10000, function() return (st.edits_in_flight or 0) == 0 end, 5)
  end
  function T.messages()
    return api.nvim_exec2('messages', { output = true }).output
  end
]]
-- (The first request is served while Neovim starts, before it reads the file: poll, do not
-- wait inside it.)
local OPENED = [[return vim.v.vim_did_enter == 1 and T.st() ~= nil and T.st().base ~= nil]]

local function session(path, env, shada)
  local argv = { vim.v.progpath, '--embed', '--headless', '-i', shada or 'NONE', '-n', '-u', init_lua, path }
  local chan = vim.fn.jobstart(argv, { rpc = true, env = env })
  assert(chan > 0, 'cannot start a second nvim')
  local s = { chan = chan }
  function s.lua(code, ...)
    return vim.rpcrequest(chan, 'nvim_exec_lua', code, { ... })
  end
  function s.quit()
    pcall(vim.rpcnotify, chan, 'nvim_command', 'qa!')
    if vim.fn.jobwait({ chan }, 10000)[1] == -1 then
      vim.fn.jobstop(chan)
    end
  end
  local ok, opened = pcall(s.lua, PRELUDE)
  if ok then
    opened = false -- (PRELUDE returns nothing: vim.NIL, which is true in Lua)
  end
  local deadline = vim.uv.hrtime() + 20e9
  while ok and opened ~= true and vim.uv.hrtime() < deadline do
    vim.wait(20)
    ok, opened = pcall(s.lua, OPENED)
  end
  if not ok or opened ~= true then
    s.quit()
    error('second nvim did not open ' .. path .. ': ' .. tostring(opened))
  end
  return s
end

--- Session 1: edits far into the file (insert at line 1,500,001, delete line 1,600,001), waits
--- for the journal's sync (every 200 ms), then the server dies of SIGKILL.
local function edit_then_crash(path, prefix)
  local s1 = session(path)
  local res = s1.lua([[
    local prefix = ...
    T.line(1500001)
    T.feed('0i' .. prefix .. '<Esc>')
    T.line(1600001)
    T.feed('dd')
    T.settle()
    return { T.line(1500001), vim.bo.modified, require('tome').server_pid() }
  ]], prefix)
  assert(res[1]:sub(1, #prefix) == prefix, 'edit in session 1: ' .. res[1])
  assert(res[2], 'session 1 modified')
  vim.wait(700) -- the journal is synced every 200 ms
  local pid = assert(res[3], 'server pid')
  eq(0, vim.uv.kill(pid, 'sigkill'), 'kill -9 ' .. pid)
  local died = s1.lua([[return vim.wait(5000, function() return require('tome').server_pid() == nil end, 10)]])
  assert(died, 'server still running after SIGKILL')
  s1.quit()
end

--- Writes `path` with the edits of edit_then_crash(path, prefix) into `want`. Returns the
--- original text of lines 1,500,001 and 1,600,002 (0-based 1500000 and 1600001).
local function write_crash_edits(path, want, prefix)
  return write_edited(path, want, {
    [1500000] = function(l)
      return { prefix .. l }
    end,
    [1600000] = false,
  }, { [1600001] = true })
end

test('recovery: kill -9 of the server, a new session offers the edits, :TomeRecover + :w save them', function()
  local path = copy_of('rec.log')
  local want = workdir .. '/rec.expected'
  local prefix = 'RECOVERED '
  local orig = write_crash_edits(path, want, prefix)
  edit_then_crash(path, prefix)

  local s2 = session(path)
  local r = s2.lua([[
    local st = T.st()
    vim.wait(3000, function() return T.messages():find('unsaved change') ~= nil end, 10)
    local _, notices = T.messages():gsub('from an earlier session', '')
    return { rec = st.recovery, messages = T.messages(), notices = notices, modified = vim.bo.modified,
      before = T.line(1500001) }
  ]])
  assert(type(r.rec) == 'table' and r.rec.fits == true, 'recovery at open: ' .. vim.inspect(r.rec))
  assert(r.rec.changes > 0, 'changes: ' .. vim.inspect(r.rec))
  eq(1, r.notices, 'recovery notices in :messages (' .. r.messages .. ')')
  assert(r.messages:find(('%d unsaved changes to [^\n]*rec%%.log from an earlier session'):format(r.rec.changes)),
    'notice text: ' .. r.messages)
  assert(not r.modified, 'not modified before :TomeRecover')
  eq(orig[1500000], r.before, 'line 1,500,001 before :TomeRecover')

  r = s2.lua([[
    vim.cmd('TomeRecover')
    return { modified = vim.bo.modified, l1 = T.line(1500001), l2 = T.line(1600001), rec = T.st().recovery or false,
      notes = T.notes }
  ]])
  assert(r.modified, 'modified after :TomeRecover')
  eq(prefix .. orig[1500000], r.l1, 'line 1,500,001 after :TomeRecover')
  eq(orig[1600001], r.l2, 'line 1,600,001 after :TomeRecover (the old one was deleted)')
  eq(false, r.rec, 'recovery done')
  assert(table.concat(r.notes, '\n'):find('recovered %d+ change'), vim.inspect(r.notes))

  r = s2.lua([[vim.cmd('write'); return vim.bo.modified]])
  eq(false, r, 'clean after :w')
  s2.quit()
  cmp(want, path)

  -- Saved and closed: nothing is left to recover.
  local s3 = session(path)
  r = s3.lua([[vim.wait(300); return { T.st().recovery or false, T.messages() }]])
  s3.quit()
  eq(false, r[1], 'recovery offered again after save: ' .. r[2])
  os.remove(want)
  os.remove(path)
end)

test('interrupted in-place save: the next session tells, :TomeRestoreBackup puts it back, edits recover', function()
  local orig = copy_of('inplace.orig')
  local path = copy_of('inplace.log')
  local link = workdir .. '/inplace.link'
  assert(vim.uv.fs_link(path, link)) -- two names: saved in place, behind a backup
  local prefix = 'INPLACE '
  local want = workdir .. '/inplace.expected'
  write_edited(path, want, {
    [0] = function(l)
      return { prefix .. l }
    end,
  })
  local s1 = session(path, { TOME_TEST_SAVE_FAULT = 'mid-write' })
  s1.lua([[
    T.line(1)
    T.feed('0i' .. ... .. '<Esc>')
    T.settle()
  ]], prefix)
  vim.wait(700) -- the journal is synced every 200 ms
  pcall(s1.lua, [[vim.cmd('write')]]) -- the server aborts in the middle of writing
  s1.quit()
  local half = vim.system({ 'cmp', '-s', orig, path }):wait().code
  eq(1, half, 'the file is half written')

  local s2 = session(path)
  local r = s2.lua([[
    vim.wait(3000, function() return T.messages():find('was interrupted') ~= nil end, 10)
    local st = T.st()
    return { messages = T.messages(), interrupted = st.interrupted or false }
  ]])
  assert(r.messages:find(':TomeRestoreBackup', 1, true), 'notice: ' .. r.messages)
  assert(type(r.interrupted) == 'table' and r.interrupted.changedSince == false, vim.inspect(r.interrupted))
  r = s2.lua([[
    vim.cmd('TomeRestoreBackup')
    vim.wait(3000, function() return T.st() and T.st().recovery ~= nil end, 10)
    return { rec = T.st().recovery or false }
  ]])
  cmp(orig, path)
  assert(type(r.rec) == 'table' and r.rec.fits == true, 'recovery after restore: ' .. vim.inspect(r.rec))
  r = s2.lua([[vim.cmd('TomeRecover'); T.settle(); vim.cmd('write'); return vim.bo.modified]])
  eq(false, r, 'clean after :w')
  s2.quit()
  cmp(want, link)
  for _, p in ipairs({ orig, path, link, want }) do
    os.remove(p)
  end
end)

test('orphan recovery: the file changed between sessions; :TomeRecover opens a new buffer, :w {file}', function()
  local path = copy_of('orphan.log')
  local prefix = 'ORPHAN '
  edit_then_crash(path, prefix)
  -- Another program changes the file in place between the sessions: same size, line 100.
  local changed100 = poke(path, 99, 'seq=99 ', 'SEQ=99 ')
  local want = workdir .. '/orphan.expected'
  local orig = write_crash_edits(path, want, prefix)
  local stat0 = vim.uv.fs_stat(path)

  local s2 = session(path)
  local r = s2.lua([[
    vim.wait(3000, function() return T.messages():find('unsaved change') ~= nil end, 10)
    return { rec = T.st().recovery, messages = T.messages(), buf = vim.api.nvim_get_current_buf() }
  ]])
  assert(type(r.rec) == 'table' and r.rec.fits == false, 'orphan at open: ' .. vim.inspect(r.rec))
  assert(r.messages:find('changed since', 1, true), 'notice: ' .. r.messages)
  local orig_buf = r.buf

  r = s2.lua([[
    local orig_buf = ...
    vim.cmd('TomeRecover')
    local buf = vim.api.nvim_get_current_buf()
    local o = T.st(orig_buf)
    local on_server = require('tome').request('tome/viewport', { doc = o.doc, first = 1500000, count = 1 })
    return { buf = buf, name = vim.api.nvim_buf_get_name(buf), modified = vim.bo.modified,
      l1 = T.line(1500001), l2 = T.line(1600001), l100 = T.line(100),
      orig_modified = vim.bo[orig_buf].modified, orig_line = on_server.lines[1].text,
      orig_version = o.version }
  ]], orig_buf)
  assert(r.buf ~= orig_buf, 'a new buffer')
  eq('tome://recovered/orphan.log', r.name, 'new buffer name')
  assert(r.modified, 'new buffer modified')
  eq(prefix .. orig[1500000], r.l1, 'recovered edit at line 1,500,001')
  eq(orig[1600001], r.l2, 'recovered delete at line 1,600,001')
  eq(changed100, r.l100, 'the file as it is now, at line 100')
  eq(false, r.orig_modified, 'original buffer untouched')
  eq(orig[1500000], r.orig_line, 'original document untouched')

  -- Plain :w: there is no file to write to.
  r = s2.lua([[
    local n = #T.notes
    pcall(vim.cmd, 'write') -- (an error message is an exception when called over RPC)
    return { notes = vim.list_slice(T.notes, n + 1), modified = vim.bo.modified, name = vim.api.nvim_buf_get_name(0) }
  ]])
  assert(#r.notes == 1 and r.notes[1]:find(':w {file}', 1, true), 'plain :w: ' .. vim.inspect(r.notes))
  assert(r.modified, 'still modified after plain :w')
  eq('tome://recovered/orphan.log', r.name)

  local saved = workdir .. '/orphan.recovered.log'
  os.remove(saved)
  r = s2.lua([[
    vim.cmd('write ' .. vim.fn.fnameescape(...))
    return { modified = vim.bo.modified, name = vim.api.nvim_buf_get_name(0) }
  ]], saved)
  eq(false, r.modified, 'clean after :w {file}')
  eq(saved, r.name, 'buffer now names the file')
  cmp(want, saved)
  local stat1 = vim.uv.fs_stat(path)
  eq({ stat0.size, stat0.mtime.sec, stat0.mtime.nsec }, { stat1.size, stat1.mtime.sec, stat1.mtime.nsec },
    'the changed file is untouched')

  -- :TomeDiscardRecovery in the original buffer: the next session is not offered it again.
  r = s2.lua([[
    local orig_buf = ...
    vim.api.nvim_set_current_buf(orig_buf)
    vim.cmd('TomeDiscardRecovery')
    return { T.st().recovery or false, T.notes[#T.notes] }
  ]], orig_buf)
  eq(false, r[1], 'discarded')
  assert(r[2]:find('deleted', 1, true), r[2])
  s2.quit()
  local s3 = session(path)
  r = s3.lua([[vim.wait(300); return { T.st().recovery or false, T.messages() }]])
  s3.quit()
  eq(false, r[1], 'orphan offered again after :TomeDiscardRecovery: ' .. r[2])
  for _, f in ipairs({ want, saved, path }) do
    os.remove(f)
  end
end)

-- The journal's disk fills up: a fresh server (in a second Neovim) keeps its journals on a
-- 64 KiB tmpfs, a 128 KiB insert fills it, and the user is told once; :w restarts the journal.
-- Needs root for the mount (CI runs as root); elsewhere it is skipped, saying why.
local function mount_small_tmpfs(dir)
  if vim.uv.getuid() ~= 0 then
    return false, 'not root (mount -t tmpfs needs it)'
  end
  vim.fn.mkdir(dir, 'p')
  local r = vim.system({ 'mount', '-t', 'tmpfs', '-o', 'size=64k', 'tome-journal-full', dir }):wait()
  if r.code ~= 0 then
    return false, 'mount -t tmpfs failed: ' .. (r.stderr or ''):gsub('%s+$', '')
  end
  return true
end

local full_state = workdir .. '/state-full'
local mounted, why_not = mount_small_tmpfs(full_state)
local journal_test = 'a full journal disk: one warning, [no journal] in the status line until :w'
if not mounted then
  log(('skip %s: %s'):format(journal_test, why_not))
else
  test(journal_test, function()
    local path = workdir .. '/journal-full.txt'
    local f = assert(io.open(path, 'wb'))
    f:write(('a line\n'):rep(100))
    f:close()
    -- Its own server (a second Neovim): TOME_STATE_DIR on the tmpfs; every file through Tome.
    local s = session(path, { TOME_STATE_DIR = full_state, TOME_THRESHOLD = '0' })
    local ok, err = xpcall(function()
      local r = s.lua([[
        T.levels = {}
        local notify = vim.notify
        vim.notify = function(msg, level, opts)
          table.insert(T.levels, { msg = msg, level = level })
          return notify(msg, level, opts)
        end
        local function status() return vim.api.nvim_eval_statusline(vim.wo.statusline, {}).str end
        T.status = status
        local before = { journal = T.st().journal_error or false, status = status() }
        -- 2048 lines of 64 bytes (128 KiB) in one change: one tome/edit.
        local lines = {}
        for i = 1, 2048 do
          lines[i] = ('%04d '):format(i) .. ('x'):rep(58)
        end
        vim.api.nvim_buf_set_lines(0, 0, 0, false, lines)
        T.settle()
        -- The journal is written every 200 ms; the plugin asks for the info once edits settle.
        vim.wait(5000, function() return T.st().journal_error ~= nil end, 10)
        return { before = before, journal = T.st().journal_error or false, notes = T.levels, status = status() }
      ]])
      eq(false, r.before.journal, 'no journal error at open')
      assert(not r.before.status:find('no journal', 1, true), r.before.status)
      assert(r.journal and r.journal:find('No space left', 1, true), 'journal_error: ' .. tostring(r.journal))
      local warned = {}
      for _, n in ipairs(r.notes) do
        if n.msg:find('not protected against a crash', 1, true) then
          warned[#warned + 1] = n
        end
      end
      eq(1, #warned, 'warnings about the journal: ' .. vim.inspect(r.notes))
      eq(vim.log.levels.WARN, warned[1].level, 'level')
      assert(warned[1].msg:find('journal-full.txt', 1, true) and warned[1].msg:find('No space left', 1, true)
        and warned[1].msg:find('Save', 1, true), warned[1].msg)
      assert(r.status:find('[no journal]', 1, true), 'status line: ' .. r.status)

      -- More edits while it is set: still shown, not told again.
      r = s.lua([[
        T.feed('ggAmore<Esc>')
        T.settle()
        vim.wait(1500)
        local warnings = 0
        for _, n in ipairs(T.levels) do
          warnings = warnings + (n.msg:find('not protected against a crash', 1, true) and 1 or 0)
        end
        return { journal = T.st().journal_error or false, warnings = warnings, status = T.status() }
      ]])
      assert(r.journal, 'journal_error still set after more edits')
      eq(1, r.warnings, 'warnings after more edits (once per transition)')
      assert(r.status:find('[no journal]', 1, true), 'status line after more edits: ' .. r.status)

      -- :w saves and restarts the journal: the marker goes.
      r = s.lua([[
        local n = #T.levels
        vim.cmd('write')
        return { journal = T.st().journal_error or false, modified = vim.bo.modified, status = T.status(),
          notes = vim.list_slice(T.levels, n + 1) }
      ]])
      eq(false, r.modified, 'clean after :w')
      eq(false, r.journal, 'journal_error after :w')
      assert(not r.status:find('no journal', 1, true), 'status line after :w: ' .. r.status)
      assert(#r.notes >= 1 and r.notes[#r.notes].msg:find('journal', 1, true)
        and r.notes[#r.notes].level == vim.log.levels.INFO, 'told at :w: ' .. vim.inspect(r.notes))
      local g = assert(io.open(path, 'rb'))
      local text = g:read('a')
      g:close()
      eq(7 * 100 + 64 * 2048 + 4, #text, 'saved size')
      eq('0001 ' .. ('x'):rep(58) .. 'more\n0002 ', text:sub(1, 73), 'saved text')
    end, debug.traceback)
    s.quit()
    os.remove(path)
    if not ok then
      error(err, 0)
    end
  end)
  vim.system({ 'umount', full_state }):wait()
end

test('past the reach budget: d to a far line runs on the server, gU and Visual are refused', function()
  local path = copy_of('reach.log')
  vim.cmd('edit ' .. path)
  local s = st()
  local config = require('tome.config')
  local keep = config.options.reach_lines
  config.options.reach_lines = 1000 -- (the window is 300 lines: W.cover may hold 1000)
  local ok, err = pcall(function()
    -- Within the budget: Neovim's own d, on real lines.
    press(':5000<CR>', 4999)
    feed('d800j')
    eq(5800, seq(), 'd800j: the line after the 801 deleted')
    eq(801, #vim.fn.getreg('"', 1, true), 'd800j: the register holds the lines')
    -- Past it: the line command (:5000,8000d), on the server.
    feed('d3000j')
    eq(8801, seq(), 'd3000j: the line after the 3001 deleted')
    eq(5000, real(), 'd3000j: the cursor stays on line 5000')
    -- Refused: gU has no line command; nothing changes.
    feed('gU3000j')
    eq(8801, seq(), 'gU3000j: the cursor stays')
    eq(nil, api.nvim_get_current_line():find('SEQ='), 'gU3000j: nothing changed')
    local msgs = vim.fn.execute('messages')
    assert(msgs:find('gU3000j was not run', 1, true), 'no refusal message: ' .. msgs)
    -- A Visual selection is not extended past it.
    feed('V3000j')
    eq(5000, real(), 'V3000j: the cursor stays')
    feed('<Esc>')
    feed(':w<CR>')
  end)
  config.options.reach_lines = keep
  assert(ok, err)
  -- The saved file: lines 5000..8801 (1-based: seq=4999..8800) gone, nothing else.
  local want = workdir .. '/reach.want'
  local r = vim.system({ 'sh', '-c', ("sed '5000,8801d' %s > %s"):format(file, want) }):wait()
  eq(0, r.code, 'sed')
  eq(0, vim.system({ 'cmp', path, want }):wait().code, 'saved file differs from sed 5000,8801d')
  vim.cmd('bwipeout! ' .. s.buf)
  os.remove(want)
  os.remove(path)
end)

-- Jumps before the line index is complete (issue 13, item 6): a file of their own, opened
-- afresh by each test (a new document, whose index starts then), in a tab of its own. Its
-- index is slowed down (scripts/test-nvim.sh sets TOME_TEST_SLOW_INDEX=jump.log:20, a hook of
-- test builds: 20 ms per MiB, 4 s for 200 MiB), so the tests do not race a fast disk.
local jump_file = workdir .. '/jump.log'
local jump_lines
local function jump_open()
  if not jump_lines then
    local r = vim.system({ vim.env.TOME_BIN, 'gen', jump_file, '--size', vim.env.TOME_NVIM_JUMP_SIZE or '200M' }):wait()
    eq(0, r.code, 'gen: ' .. (r.stderr or ''))
    jump_lines = assert(tonumber(r.stdout:match('(%d+) lines')), r.stdout)
  end
  vim.cmd('tabnew ' .. jump_file)
  local s = st()
  assert(not s.line_count.exact, 'the index of a fresh document is not complete yet (TOME_BIN a test build, '
    .. 'cargo build --features fault-injection, with TOME_TEST_SLOW_INDEX=jump.log:20?)')
  return s
end
local function tail(path, n)
  return vim.split(vim.system({ 'tail', '-n', tostring(n), path }):wait().stdout, '\n', { trimempty = true })
end
local function statuscol()
  return api.nvim_eval_statusline(vim.wo.statuscolumn, { use_statuscol_lnum = api.nvim_win_get_cursor(0)[1] }).str
end
local function statusline()
  vim.cmd('redrawstatus')
  return api.nvim_eval_statusline(vim.wo.statusline, {}).str
end
local function group(n)
  return (tostring(n):reverse():gsub('(%d%d%d)', '%1,'):reverse():gsub('^,', ''))
end

test('G before the index completes: the last line at once, ~estimated number, then the real one', function()
  local s = jump_open()
  local t0 = vim.uv.hrtime()
  feed('G')
  local ms = (vim.uv.hrtime() - t0) / 1e6
  assert(s.estimated, 'an estimated window after G: ' .. vim.inspect(s.line_count))
  local last = tail(jump_file, 1)[1]
  eq(last, api.nvim_get_current_line(), 'the last line after G')
  assert(statuscol():match('^ *~%d+ $'), 'statuscolumn: ' .. statuscol())
  assert(statusline():find('line ~[%d,]+ of ~[%d,]+'), statusline())
  log(('     G %.0f ms after the open, index %d%%: %s'):format(ms, s.index_percent or 0, vim.trim(statuscol())))
  assert(vim.wait(60000, function()
    return not s.estimated
  end, 10), 'still estimated after 60 s')
  eq(jump_lines, real(), 'the real number once indexed')
  eq(last, api.nvim_get_current_line())
  eq(('%d '):format(jump_lines), vim.trim(statuscol()) .. ' ', 'statuscolumn once indexed')
  local want = ('line %s of %s'):format(group(jump_lines), group(jump_lines))
  assert(vim.wait(5000, function()
    return statusline():find(want, 1, true) ~= nil
  end, 20), 'status line once indexed: ' .. statusline())
  vim.cmd('bwipeout!')
end)

test('{N}% before the index completes: the line at N% of the bytes, estimated; k, 200k, 5000k', function()
  local s = jump_open()
  feed('50%')
  assert(s.estimated, 'estimated after 50%')
  local at, est = seq(), W.cursor_line(s)
  assert(math.abs(est - at) < jump_lines / 20, ('estimate %d for line %d'):format(est, at))
  assert(math.abs(at - jump_lines / 2) < jump_lines / 20, 'about half way: ' .. at)
  -- Past the window's top edge (refills by offset): the numbers go on from the estimated ones.
  for _ = 1, 400 do
    feed('k')
  end
  eq(at - 400, seq(), '400 k')
  if s.estimated then
    eq(est - 400, W.cursor_line(s), 'estimated numbers follow on')
  end
  feed('50j')
  eq(at - 350, seq(), '50j')
  -- A count past the margin: by offset within half a window, else it waits for the index.
  feed('200k')
  eq(at - 550, seq(), '200k')
  if s.estimated then
    eq(est - 550, W.cursor_line(s), 'estimated numbers follow on after 200k')
  end
  feed('5000k')
  eq(at - 5550, seq(), '5000k')
  eq(seq() + 1, real(), '5000k: real numbers')
  bounded()
  assert(vim.wait(60000, function()
    return not s.estimated
  end, 10), 'still estimated after 60 s')
  eq(seq() + 1, real(), 'real number once indexed')
  vim.cmd('bwipeout!')
end)

test('{N}% before the index completes ends on Vim\'s line (N% of the lines) once they are counted', function()
  local s = jump_open()
  local vim_line = math.floor((50 * jump_lines + 99) / 100)
  feed('50%')
  assert(s.estimated, 'estimated after 50%')
  -- Left alone: the cursor moves to Vim's line when the index completes.
  assert(vim.wait(60000, function()
    return (s.index_percent or 0) >= 100 and s.percent_pending == nil
  end, 10), 'index not complete after 60 s')
  eq(vim_line, real(), "50%: Vim's line once the lines are counted")
  vim.cmd('bwipeout!')
  -- An operator to a far line right after: it waits for the count and starts at Vim's line.
  s = jump_open()
  feed('50%')
  assert(s.estimated, 'estimated after the second 50%')
  feed('dG')
  eq(vim_line - 1, W.last_line(s, true) + 1, "dG after 50%: from Vim's line")
  vim.cmd('bwipeout!')
end)

-- :TomeTime against awk (a linear scan comparing the generator's fixed-width timestamps,
-- `2026-11-27T00:00:00.007Z`, as strings): the first line whose timestamp is >= the time.
-- Only lines that start with a timestamp count, as for the server (which skips the others):
-- earlier tests edited lines of the big file into `HELLO 2026-…` and `CHANGED-11-27T…`, and
-- "HELLO" sorts after any "2026-…" as a string (the oracle once said line 1,500,001 there).
local function awk_first_at(path, t)
  local d2 = '[0-9][0-9]'
  local ts = ('^%s%s-%s-%sT%s:%s:%s[.][0-9][0-9][0-9]Z$'):format(d2, d2, d2, d2, d2, d2, d2)
  local prog = 'substr($0, 1, 24) ~ /' .. ts .. '/ && substr($0, 1, 24) >= t { print NR; exit }'
  local r = vim.system({ 'awk', '-v', 't=' .. t, prog, path }):wait()
  return tonumber(vim.trim(r.stdout))
end
local function nth_line(path, n)
  return vim.trim(vim.system({ 'sed', '-n', n .. 'p', path }):wait().stdout)
end

test(':TomeTime before the index completes: the line at or after the time, estimated; CTRL-O back', function()
  local s = jump_open()
  feed('gg')
  local n = math.floor(jump_lines * 0.61)
  -- A time between two lines' timestamps: the line's own, its last millisecond digit changed.
  local t = nth_line(jump_file, n):sub(1, 22) .. '5Z'
  local want = awk_first_at(jump_file, t)
  local t0 = vim.uv.hrtime()
  vim.cmd('TomeTime ' .. t)
  local ms = (vim.uv.hrtime() - t0) / 1e6
  assert(s.estimated, 'an estimated window (the index is not done): ' .. vim.inspect(s.line_count))
  eq(nth_line(jump_file, want), api.nvim_get_current_line(), 'the line at or after ' .. t)
  eq(0, api.nvim_win_get_cursor(0)[2], 'column')
  log(('     :TomeTime %.0f ms after the open, index %d%%: line %d'):format(ms, s.index_percent or 0, want))
  feed('<C-o>')
  eq(0, seq(), 'CTRL-O back to line 1')
  vim.cmd('bwipeout!')
end)

test(':TomeTime with the index complete: real line numbers; before the first, after the last, a bad time', function()
  local s = st()
  require('tome.client').wait_index(s)
  feed('gg')
  -- The oracle reads the buffer's own file, saved: since ':w other' that is other.log, not
  -- big.log (its line 1,500,005 starts with "head ", so the answers differ there).
  assert(not vim.bo.modified, 'the document is its file on disk')
  local path = s.path
  local times = {}
  for _, frac in ipairs({ 0.1, 0.5, 0.999 }) do
    local n = math.max(1, math.floor(total_lines * frac))
    times[#times + 1] = { t = nth_line(path, n):sub(1, 24), what = ('%g %% (line %d)'):format(frac * 100, n) }
  end
  -- Just after line 1,500,000's time: the lines after it that earlier tests edited (when they
  -- ran) no longer start with a timestamp and are skipped.
  local t0 = nth_line(path, 1500000):sub(1, 24)
  local ms0 = tonumber(t0:sub(21, 23))
  if ms0 and ms0 < 999 then
    times[#times + 1] = { t = t0:sub(1, 20) .. ('%03d'):format(ms0 + 1) .. 'Z', what = 'after line 1,500,000' }
  end
  for _, c in ipairs(times) do
    local want = awk_first_at(path, c.t)
    vim.cmd('TomeTime ' .. c.t)
    eq(want, real(), ('line at %s, %s'):format(c.t, c.what))
    assert(not s.estimated)
  end
  -- The jumplist holds each place left.
  local before = real()
  vim.cmd('TomeTime 2000-01-01')
  eq(1, real(), 'before the first line: the first')
  feed('<C-o>')
  eq(before, real(), 'CTRL-O')
  local last = W.last_line(s, true) + 1
  vim.cmd('TomeTime 2099-01-01T00:00')
  eq(last, real(), 'after the last line: the last')
  local n0 = #notes
  -- (an error message: in a headless Neovim, the command fails with it)
  local ok = pcall(vim.cmd, 'TomeTime noon')
  eq(false, ok, ':TomeTime noon fails')
  eq(1, #notes_matching('cannot read', n0 + 1), 'an error for a time it cannot read')
  eq(last, real(), 'the cursor stays')
  feed('gg')
end)

test('edits in an estimated window land on the right lines of the saved file; :s there waits', function()
  local s = jump_open()
  local before = tail(jump_file, 8)
  feed('G')
  assert(s.estimated, 'estimated after G')
  feed('5k')
  eq(jump_lines - 6, seq(), '5k from the last line')
  feed('ccEDITED<Esc>')
  feed('jdd')
  feed('Oinserted<Esc>')
  assert(s.estimated, 'still estimated while editing (the index completed too soon)')
  feed('j')
  -- :s needs real line numbers: it waits for the index, then changes this line.
  feed(':s/seq=/SEQ=/<CR>')
  assert(not s.estimated, 'numbered after :s')
  eq(jump_lines - 3, real(), 'the real line of the cursor')
  assert(api.nvim_get_current_line():find('SEQ=' .. (jump_lines - 4), 1, true), api.nvim_get_current_line())
  vim.cmd('write')
  local want = { before[1], before[2], 'EDITED', 'inserted', (before[5]:gsub('seq=', 'SEQ=', 1)),
    before[6], before[7], before[8] }
  eq(want, tail(jump_file, 8), 'the end of the saved file')
  eq(jump_lines, line_total(jump_file), 'lines in the saved file')
  vim.cmd('bwipeout!')
  os.remove(jump_file)
end)

test(':checkhealth tome', function()
  vim.cmd('checkhealth tome')
  local text = table.concat(api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  assert(text:find('tome 0%.') or text:find('version'), text)
  assert(text:find('round trip'), text)
  assert(not text:find('ERROR'), text)
  log('     ' .. (text:match('[^\n]*round trip[^\n]*') or ''))
  vim.cmd('bwipeout')
end)

test(':Tome on a small CRLF file with invalid UTF-8: line breaks kept, invalid bytes edited exactly', function()
  local small = workdir .. '/crlf.txt'
  local f = assert(io.open(small, 'wb'))
  f:write('one\r\ntwo\r\nbad \xff\xfe here\r\nfour\r\n')
  f:close()
  vim.cmd('Tome ' .. small)
  -- The buffer holds the exact bytes (Neovim shows them as <ff><fe>).
  eq({ 'one', 'two', 'bad \xff\xfe here', 'four' }, api.nvim_buf_get_lines(0, 0, -1, false))
  api.nvim_win_set_cursor(0, { 2, 0 })
  feed('oNEW<Esc>')
  feed('ggAX<Esc>')
  api.nvim_win_set_cursor(0, { 4, 4 })
  feed('x') -- the byte \xff itself
  eq('bad \xfe here', api.nvim_buf_get_lines(0, 3, 4, false)[1])
  feed('yyGp') -- the invalid line, pasted below the last: sent as base64
  api.nvim_win_set_cursor(0, { 5, 0 })
  feed('x')
  vim.cmd('write')
  local g = assert(io.open(small, 'rb'))
  eq('oneX\r\ntwo\r\nNEW\r\nbad \xfe here\r\nour\r\nbad \xfe here\r\n', g:read('a'))
  g:close()
  -- What the server holds is what the buffer shows, after a refill too.
  W.recentre(st())
  eq({ 'oneX', 'two', 'NEW', 'bad \xfe here', 'our', 'bad \xfe here' }, api.nvim_buf_get_lines(0, 0, -1, false))
  vim.cmd('bwipeout')
end)

-- Files that are not UTF-8, and compressed files: the oracle is Python's codecs (and zcat).
local python -- (the interpreter itself: python3 may be a shim that takes half a second to start it)
local function py(code, ...)
  if not python then
    python = vim.trim(vim.fn.system({ 'python3', '-c', 'import sys; print(sys.executable)' }))
    assert(vim.v.shell_error == 0 and python ~= '', 'python3: ' .. python)
  end
  local res = vim.fn.system({ python, '-c', code, ... })
  assert(vim.v.shell_error == 0, res)
  return res
end
-- Writes `lines` (UTF-8 strings, each ended by a line feed) to `path` in Python's `codec`.
local function py_write(path, codec, lines)
  py('import sys, json; open(sys.argv[1], "wb").write("".join(l + "\\n" for l in json.loads(sys.argv[3]))'
    .. '.encode(sys.argv[2]))', path, codec, vim.json.encode(lines))
end
-- The lines of `path` decoded by Python's `codec` (without the empty one after the last break).
-- (WHATWG's windows-1252 maps the 5 bytes Python's cp1252 leaves undefined to U+0081…: so does this)
local function py_lines(path, codec)
  local t = vim.json.decode(py('import sys, json, codecs; codecs.register_error("c1", lambda e: '
    .. '(chr(e.object[e.start]), e.start + 1)); print(json.dumps(open(sys.argv[1], "rb").read()'
    .. '.decode(sys.argv[2], "c1").split("\\n")))', path, codec))
  if t[#t] == '' then
    t[#t] = nil
  end
  return t
end
-- Whether the bytes of `path` are `lines` encoded by Python's `codec`.
local function py_same(path, codec, lines)
  return py('import sys, json; print(open(sys.argv[1], "rb").read() == "".join(l + "\\n" for l in '
    .. 'json.loads(sys.argv[3])).encode(sys.argv[2]))', path, codec, vim.json.encode(lines)):match('True') ~= nil
end
local function messages()
  return api.nvim_exec2('messages', { output = true }).output
end
local function status_line()
  return api.nvim_eval_statusline(vim.wo.statusline, {}).str
end
local function buffer_lines()
  return api.nvim_buf_get_lines(0, 0, -1, false)
end

test(':Tome on a windows-1252 file: decoded lines, fenc, status; edits saved in cp1252; unrepresentable refused',
function()
  local path = workdir .. '/cp1252.txt'
  local lines = {}
  for i = 1, 12 do
    lines[i] = ('%d café crème brûlée, naïve € à la carte — “quoted” ±%d'):format(i, i)
  end
  py_write(path, 'cp1252', lines)
  vim.cmd('Tome ' .. path)
  eq(py_lines(path, 'cp1252'), buffer_lines(), 'lines (Python decodes cp1252)')
  eq('cp1252', vim.bo.fileencoding, "'fileencoding'")
  eq(false, vim.bo.bomb, "'bomb'")
  assert(status_line():find('· cp1252', 1, true), status_line())
  -- An edit with characters cp1252 has, then :w: the file is Python's cp1252 of the text.
  api.nvim_win_set_cursor(0, { 2, 0 })
  feed('A ü€ß<Esc>')
  lines[2] = lines[2] .. ' ü€ß'
  vim.cmd('write')
  assert(py_same(path, 'cp1252', lines), 'saved bytes: ' .. vim.inspect(assert(io.open(path, 'rb')):read('a')))
  -- A character cp1252 cannot represent: refused, said, and the buffer is the server's again.
  local before = #notes
  api.nvim_win_set_cursor(0, { 3, 0 })
  feed('I日本<Esc>')
  assert(vim.wait(5000, function()
    return #notes_matching('cannot represent', before + 1) > 0 and buffer_lines()[3] == lines[3]
  end, 10), 'refused: ' .. vim.inspect(notes[#notes]) .. ' line 3: ' .. tostring(buffer_lines()[3]))
  local note = notes_matching('cannot represent', before + 1)[1]
  assert(note.msg:find('windows%-1252 cannot represent .日. %(U%+65E5%)'), note.msg)
  eq(vim.log.levels.ERROR, note.level, 'an error')
  vim.wait(1000, function()
    return not vim.bo.modified
  end, 10)
  eq(false, vim.bo.modified, 'not modified')
  eq(false, st().dirty, 'not dirty')
  -- What the server holds is what the buffer shows; the next edit goes through.
  W.recentre(st())
  eq(lines, buffer_lines(), 'after a refill')
  feed('Ax<Esc>')
  lines[3] = lines[3] .. 'x'
  vim.cmd('write')
  assert(py_same(path, 'cp1252', lines), 'saved after the refused edit')
  -- 'fileencoding' is the file's: setting it is refused (Tome does not convert on :w).
  vim.cmd('set fileencoding=utf-8')
  -- (Neovim triggers OptionSet only once startup is over; these tests run during it)
  api.nvim_exec_autocmds('OptionSet', { pattern = 'fileencoding' })
  eq('cp1252', vim.bo.fileencoding, "'fileencoding' put back")
  eq(false, vim.bo.modified, 'still not modified')
  assert(messages():find("'fileencoding' shows the file's encoding", 1, true), messages())
  vim.cmd('bwipeout!')
end)

test(':Tome ++enc=sjis and :e ++enc=: a Shift_JIS file read again; E37 when modified, ! drops; saved in Shift_JIS',
function()
  local path = workdir .. '/sjis.txt'
  local lines = {}
  for i = 1, 10 do
    lines[i] = ('%d 日本語のテキスト、カタカナ「ｶﾀｶﾅ」と漢字 %d'):format(i, i)
  end
  py_write(path, 'shift_jis', lines)
  vim.cmd('Tome ' .. path)
  -- (detected as the default legacy encoding: not guessed, see docs/protocol.md)
  eq('cp1252', vim.bo.fileencoding, 'detected')
  vim.cmd('Tome ++enc=sjis')
  eq(py_lines(path, 'shift_jis'), buffer_lines(), 'lines (Python decodes Shift_JIS)')
  eq('Shift_JIS', st().info.encoding, 'the server reads Shift_JIS')
  local sjis = vim.bo.fileencoding
  assert(sjis == 'sjis' or sjis == 'cp932', sjis)
  assert(status_line():find('· sjis', 1, true), status_line())
  -- Unknown names: a clear error, nothing changes.
  vim.cmd('Tome ++enc=nope')
  assert(messages():find('unknown encoding: nope', 1, true), messages())
  eq('Shift_JIS', st().info.encoding, 'kept')
  -- Modified: refused as Vim refuses :e (E37), kept; with ! the change is dropped.
  api.nvim_win_set_cursor(0, { 1, 0 })
  feed('Aテスト<Esc>')
  vim.cmd('Tome ++enc=cp1252')
  assert(messages():find('E37: No write since last change (add ! to override)', 1, true), messages())
  eq('Shift_JIS', st().info.encoding, 'not read again while modified')
  eq(lines[1] .. 'テスト', buffer_lines()[1], 'the change is still there')
  vim.cmd('Tome! ++enc=cp1252')
  eq('windows-1252', st().info.encoding, 'read again with !')
  eq(false, vim.bo.modified, 'the change dropped')
  eq(py_lines(path, 'cp1252'), buffer_lines(), 'lines as cp1252')
  -- Neovim's own :e ++enc= (v:cmdarg in the BufReadCmd).
  vim.cmd('edit ++enc=sjis')
  eq('Shift_JIS', st().info.encoding, ':e ++enc=sjis')
  eq(lines, buffer_lines(), 'lines after :e ++enc=sjis')
  -- :e! keeps the encoding chosen.
  vim.cmd('edit!')
  eq('Shift_JIS', st().info.encoding, ':e! keeps it')
  api.nvim_win_set_cursor(0, { 2, 0 })
  feed('Aテスト①<Esc>') -- (① is in WHATWG's Shift_JIS, not in Python's: kept out of the oracle)
  feed('x')
  lines[2] = lines[2] .. 'テスト'
  vim.cmd('write')
  assert(py_same(path, 'shift_jis', lines), 'saved bytes')
  -- A character Shift_JIS lacks: refused.
  local before = #notes
  feed('A€<Esc>')
  assert(vim.wait(5000, function()
    return #notes_matching('Shift_JIS cannot represent', before + 1) > 0 and buffer_lines()[2] == lines[2]
  end, 10), 'refused: ' .. tostring(buffer_lines()[2]))
  vim.cmd('bwipeout!')
end)

test('a Shift_JIS line with a byte that is not Shift_JIS: shown as U+FFFD, edits of it refused, others saved',
function()
  local path = workdir .. '/sjis-bad.txt'
  local f = assert(io.open(path, 'wb'))
  -- (the sample is long enough to be read as a legacy encoding; then named Shift_JIS)
  f:write(('\x93\xfa\x96\x7b\x8c\xea line\n'):rep(6) .. 'bad \xff here\n')
  f:close()
  vim.cmd('Tome ++enc=sjis ' .. path)
  eq('Shift_JIS', st().info.encoding, 'named')
  eq('日本語 line', buffer_lines()[1], 'line 1')
  eq('bad \u{fffd} here', buffer_lines()[7], 'the byte shown as U+FFFD (not the raw byte)')
  local before = #notes
  api.nvim_win_set_cursor(0, { 7, 0 })
  feed('x')
  assert(vim.wait(3000, function()
    return #notes_matching('not valid Shift_JIS', before + 1) > 0 and buffer_lines()[7] == 'bad \u{fffd} here'
  end, 10), 'refused: ' .. vim.inspect(buffer_lines()[7]))
  api.nvim_win_set_cursor(0, { 1, 0 })
  feed('x')
  vim.cmd('write')
  local g = assert(io.open(path, 'rb'))
  local want = '\x96\x7b\x8c\xea line\n' .. ('\x93\xfa\x96\x7b\x8c\xea line\n'):rep(5) .. 'bad \xff here\n'
  eq(want, g:read('a'), 'saved')
  g:close()
  vim.cmd('bwipeout!')
end)

test('UTF-8 with a BOM: \'bomb\' set, "utf-8 [BOM]" in the status line; the BOM stays through an edit and :w',
function()
  local path = workdir .. '/bom.txt'
  local f = assert(io.open(path, 'wb'))
  f:write('\xef\xbb\xbfhello\nw\xc3\xb6rld\n')
  f:close()
  vim.cmd('Tome ' .. path)
  eq('utf-8-bom', st().info.encoding, 'detected')
  eq('utf-8', vim.bo.fileencoding, "'fileencoding'")
  eq(true, vim.bo.bomb, "'bomb'")
  eq(false, vim.bo.modified, 'not modified by setting them')
  assert(status_line():find('· utf-8 [BOM]', 1, true), status_line())
  -- (the server's line 1 starts with the BOM, U+FEFF: it is the file's bytes, shown as <feff>)
  eq({ '\u{feff}hello', 'wörld' }, buffer_lines(), 'lines')
  api.nvim_win_set_cursor(0, { 2, 0 })
  feed('A!<Esc>')
  vim.cmd('write')
  local g = assert(io.open(path, 'rb'))
  eq('\xef\xbb\xbfhello\nw\xc3\xb6rld!\n', g:read('a'), 'saved with its BOM')
  g:close()
  vim.cmd('bwipeout!')
end)

test('a .gz file: lines as zcat, read-only, [gz] in the status line, :w refused, :w {file} a copy', function()
  local plain, path = workdir .. '/comp.log', workdir .. '/comp.log.gz'
  local lines = {}
  for i = 1, 2000 do
    lines[i] = ('line %d of a compressed log, seq=%d'):format(i, i)
  end
  py_write(plain, 'utf-8', lines)
  vim.fn.system({ 'gzip', '-kf', plain })
  assert(vim.v.shell_error == 0, 'gzip')
  local want = vim.fn.systemlist({ 'zcat', path })
  vim.cmd('Tome ' .. path)
  st().flush_edits() -- (nothing)
  tome.wait_index(st())
  W.recentre(st())
  local got = buffer_lines()
  eq(want[1], got[1], 'line 1')
  feed('G')
  eq(want[#want], api.nvim_get_current_line(), 'last line (G)')
  eq(true, vim.bo.readonly, "'readonly'")
  eq(false, vim.bo.modifiable, "'modifiable'")
  assert(status_line():find('utf-8 [gz] [RO]', 1, true), status_line())
  -- A change: Neovim's E21; :w! (past E45): Tome's message; the file is unchanged.
  local ok, e = pcall(vim.cmd, 'normal! x')
  assert(not ok and tostring(e):find('E21'), tostring(e))
  local before = vim.fn.readblob(path)
  vim.cmd('write!')
  assert(messages():find('comp.log.gz" is gzip-compressed and open read-only: it cannot be written', 1, true),
    messages())
  eq(before, vim.fn.readblob(path), 'the file is unchanged')
  -- :w {file}: a copy, plain or compressed again as the name says; the buffer stays.
  local copy, zcopy = workdir .. '/comp-copy.log', workdir .. '/comp-copy.log.zst'
  vim.cmd('write ' .. vim.fn.fnameescape(copy))
  eq(table.concat(want, '\n') .. '\n', table.concat(vim.fn.readfile(copy, 'b'), '\n'), 'the plain copy')
  assert(messages():find('comp-copy.log" ' .. #(table.concat(want, '\n') .. '\n') .. 'B written', 1, true), messages())
  vim.cmd('write ' .. vim.fn.fnameescape(zcopy))
  eq(want, vim.fn.systemlist({ 'zstdcat', zcopy }), 'the zstd copy, through zstdcat')
  eq(path, api.nvim_buf_get_name(0), 'the buffer is still the .gz file')
  eq(true, vim.bo.readonly, "still 'readonly'")
  -- Moving refills the buffer (it is unlocked for that only).
  feed('gg')
  eq(want[1], api.nvim_get_current_line(), 'line 1 again')
  eq(false, vim.bo.modifiable, "still not 'modifiable'")
  vim.cmd('bwipeout!')
end)

test('invalid bytes yanked far from where they are put, and long lines held whole', function()
  local path = workdir .. '/odd.txt'
  local f = assert(io.open(path, 'wb'))
  local long = ('w'):rep(200000)
  local huge = ('h'):rep(9 * 1024 * 1024)
  local lines = {}
  for i = 1, 2000 do
    lines[i] = 'line ' .. i
  end
  lines[10] = 'odd \xc3 \xe9t\xe9 \x00 nul \xed\xa0\x80 end'
  lines[20] = long
  lines[30] = huge
  f:write(table.concat(lines, '\n') .. '\n')
  f:close()
  vim.cmd('Tome ' .. path)
  eq(lines[10], api.nvim_buf_get_lines(0, 9, 10, false)[1], 'exact bytes, NUL included')
  eq(#long, #api.nvim_buf_get_lines(0, 19, 20, false)[1], 'the 200 000-byte line whole')
  -- Yank the odd line, paste it 1 500 lines further (through a refill).
  api.nvim_win_set_cursor(0, { 10, 0 })
  feed('yy')
  feed(':1600<CR>')
  feed('p')
  -- Edit the long line at its end and its start.
  feed(':20<CR>')
  feed('A END<Esc>0x')
  -- The 9 MiB line is over line_bytes: held as a slice of its bytes (longline.lua), and
  -- edited at its end as any other.
  feed(':30<CR>')
  feed('$x')
  assert(#api.nvim_get_current_line() < 2 * 1024 * 1024, 'a slice, not the whole line')
  vim.cmd('write')
  local want = vim.deepcopy(lines)
  want[20] = long:sub(2) .. ' END'
  want[30] = huge:sub(2)
  table.insert(want, 1601, lines[10])
  local g = assert(io.open(path, 'rb'))
  local got = g:read('a')
  g:close()
  assert(got == table.concat(want, '\n') .. '\n', 'the file differs from the expected bytes')
  vim.cmd('bwipeout')
end)

test('file marks A-Z: kept on file lines, from other buffers, and in ShaDa on real line numbers', function()
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local big = api.nvim_get_current_buf()
  W.goto_line(st(), 1500001)
  feed('4|mA')
  W.goto_line(st(), 3000)
  feed('2|mB')
  W.goto_line(st(), 900000)
  -- From a buffer that is not Tome's: to the big file's buffer, on the mark's file line.
  vim.cmd('enew')
  local scratch = api.nvim_get_current_buf()
  feed("'A")
  eq(big, api.nvim_get_current_buf(), "'A from another buffer")
  eq(1500001, real(), "'A from another buffer")
  vim.cmd('buffer ' .. scratch)
  feed('`B')
  eq({ 3000, 1 }, { real(), api.nvim_win_get_cursor(0)[2] }, '`B from another buffer')
  -- :delmarks in the other buffer deletes it here too (Neovim's mark is gone).
  vim.cmd('buffer ' .. scratch)
  vim.cmd('delmarks B')
  vim.cmd('buffer ' .. big)
  eq(nil, require('tome.marks').get(st(), 'B'), 'B deleted from another buffer')
  eq(1500000, require('tome.marks').get(st(), 'A'), 'A kept')
  vim.cmd('bwipeout ' .. scratch)
  vim.cmd('delmarks A')

  -- ShaDa: a second Neovim sets mA on line 1 500 001 and exits; ShaDa holds that line (not a
  -- window row), and a third Neovim jumps there from another buffer.
  local shada = vim.fn.tempname()
  local s2 = session(file, nil, shada)
  s2.lua([[
    T.line(1500001)
    T.feed('6|mA')
    T.line(3000)
  ]])
  s2.quit()
  local got = vim.fn.system({ vim.v.progpath, '--headless', '-u', 'NONE', '-i', shada, '-n', '-c',
    [[lua io.stdout:write(vim.json.encode(vim.api.nvim_get_mark('A', {})))]], '-c', 'qa!' })
  local mark = vim.json.decode(got)
  eq({ 1500001, 5 }, { mark[1], mark[2] }, 'ShaDa: the file mark on its file line')
  local s3 = session(file, nil, shada)
  local res = s3.lua([[
    vim.cmd('enew')
    T.feed("'A")
    return { T.st() ~= nil, T.st() and (T.st().base + vim.api.nvim_win_get_cursor(0)[1]) }
  ]])
  s3.quit()
  os.remove(shada)
  eq({ true, 1500001 }, res, "'A after ShaDa read it")
end)

test(':w of an edit near the end saves in place, and the written message says so', function()
  local path = copy_of('inplace.log')
  local total = line_total(path)
  local s = session(path)
  local r = s.lua([[
    local total = ...
    T.line(total - 1)
    T.feed('0iIN-PLACE <Esc>')
    T.settle()
    vim.cmd('write')
    return { T.messages(), vim.bo.modified }
  ]], total)
  s.quit()
  assert(r[1]:find('%(Tome, in place: [%d.]+ [KMG]?i?B written from byte %d+, [%d.]+ [KMG]?i?B backed up%)'),
    'written message: ' .. r[1])
  eq(false, r[2], 'saved')
  local n, found = 0, nil
  for l in io.lines(path) do
    n = n + 1
    if n == total - 1 then
      found = l
    end
  end
  eq(total, n, 'lines')
  assert(found:sub(1, 9) == 'IN-PLACE ', 'line ' .. (total - 1) .. ' on disk: ' .. found)
end)

test('nvim FILE: the file opens while Neovim starts (one open, with its first lines); an unread early open is closed',
  function()
  local path = copy_of('early.log')
  local unread = workdir .. '/early-other.log'
  local f = assert(io.open(unread, 'wb'))
  f:write('not read at startup\n')
  f:close()
  local s = session(path, { TOME_TEST_EARLY_OPEN = unread })
  local r = s.lua([[
    local st = T.st()
    local c = require('tome.client')
    local open = {}
    vim.wait(5000, function()
      open = {}
      for id = 1, 5 do
        if c.request('tome/info', { doc = id }) then
          open[#open + 1] = id
        end
      end
      return #open == 1
    end, 50)
    return { st.doc, open, vim.api.nvim_buf_get_lines(0, 0, 3, false), st.first_viewport == nil }
  ]])
  s.quit()
  eq({ r[1] }, r[2], "only the buffer's document is left open on the server")
  -- Two opens were sent at startup (the file's, then the test hook's): a third would have a
  -- larger id.
  assert(r[1] <= 2, 'the buffer took the early open, it did not open again (doc ' .. r[1] .. ')')
  local want = {}
  for l in io.lines(path) do
    want[#want + 1] = l
    if #want == 3 then
      break
    end
  end
  eq(want, r[3], 'the first lines')
  assert(r[4], "the first fill used the open's lines")
end)

test('bookmarks: mA mB kept through edits and a save, back after quitting Neovim; :TomeBookmarks; dropped', function()
  local path = copy_of('bookmarks.log')
  -- Session 1 (its own Neovim and server; no ShaDa): marks, edits above them, a save, then
  -- one more edit that is not saved.
  local s1 = session(path)
  local r1 = s1.lua([[
    local a = T.line(1500001)
    T.feed('4|mA')
    local b = T.line(2000)
    T.feed('0mB')
    T.line(100)
    T.feed('3dd')
    T.line(1)
    T.feed('Ofirst<Esc>')
    T.settle()
    vim.cmd('write')
    T.line(1)
    T.feed('dd')
    T.settle()
    return { a, b }
  ]])
  s1.quit()
  -- Session 2: the marks are where the save left them, on the same text.
  local s2 = session(path)
  local r2 = s2.lua([[
    local function here()
      return { T.st().base + vim.api.nvim_win_get_cursor(0)[1], vim.api.nvim_win_get_cursor(0)[2],
        vim.api.nvim_get_current_line() }
    end
    T.line(700000)
    T.feed('`A')
    local a = here()
    T.line(5)
    T.feed("'B")
    local b = here()
    vim.cmd('TomeBookmarks')
    local list = vim.fn.getloclist(0, { items = 0, title = 0 })
    local texts = {}
    for i = 2, #list.items do
      texts[i - 1] = { list.items[i].lnum, list.items[i].text }
    end
    vim.cmd('wincmd p')
    T.line(10)
    vim.cmd('ll 2')
    require('tome').check_quickfix(T.st()) -- CursorMoved does it for a user
    local first = here()
    return { a, b, list.title, texts, first }
  ]])
  s2.quit()
  eq({ 1500001 - 3 + 1, 3, r1[1] }, r2[1], '`A after quitting Neovim')
  eq({ 2000 - 3 + 1, 0, r1[2] }, r2[2], "'B after quitting Neovim")
  eq('Tome: bookmarks', r2[3], ':TomeBookmarks title')
  eq({ { 1500001 - 3 + 1, 'A: ' .. r1[1] }, { 2000 - 3 + 1, 'B: ' .. r1[2] } }, r2[4], ':TomeBookmarks items')
  eq(r2[1], r2[5], ':ll 2 (after the title) jumps to A')
  -- The log grew between sessions: its bookmarks stay (its old bytes did not move).
  append(path, 'one more line\n')
  local s3 = session(path)
  local r3 = s3.lua([[
    return { require('tome.marks').file_mark('A') ~= nil, require('tome.marks').file_mark('B') ~= nil }
  ]])
  s3.quit()
  eq({ true, true }, r3, 'kept for a log that only grew')
  -- Its first byte rewritten between sessions: no marks from the server.
  local f = assert(io.open(path, 'r+b'))
  f:seek('set', 0)
  f:write('#')
  f:close()
  local s4 = session(path)
  local r4 = s4.lua([[
    return { require('tome.marks').file_mark('A') == nil, require('tome.marks').file_mark('B') == nil }
  ]])
  s4.quit()
  eq({ true, true }, r4, 'dropped for a changed file')
  os.remove(path)
end)

test('a 300 MiB line: $, D, A, {N}|, x and i at its end and middle; saved exactly; Neovim stays small', function()
  -- The line: 300 blocks of 1 MiB of words, two invalid bytes at 100 MiB, then END. Generated
  -- here (never committed); the expectation is written the same way, with the edits applied.
  local MiB = 1024 * 1024
  local unit = 'lorem ipsum, dolor-sit amet. '
  local block = unit:rep(math.ceil(MiB / #unit)):sub(1, MiB)
  local function write_range(f, from, to) -- the original line's bytes [from, to)
    while from < to do
      local k = math.floor(from / MiB)
      local b = k == 100 and ('\xff\xfe' .. block:sub(3)) or block
      if k >= 300 then
        b = 'END'
      end
      local n = math.min(to, k * MiB + #b) - from
      f:write(b:sub(from - k * MiB + 1, from - k * MiB + n))
      from = from + n
    end
  end
  local total = 300 * MiB + 3
  local path = workdir .. '/oneline.txt'
  local f = assert(io.open(path, 'wb'))
  write_range(f, 0, total)
  f:write('\n')
  f:close()
  local peak = 0
  local function rss()
    local kb = tonumber(io.open('/proc/self/status'):read('a'):match('VmRSS:%s*(%d+)'))
    peak = math.max(peak, kb / 1024)
  end
  vim.cmd('Tome ' .. path)
  rss()
  local s = st()
  local function col() -- the cursor's column in the line (0-based)
    return require('tome.longline').cursor_col(s)
  end
  feed('$')
  eq(total - 1, col(), 'col after $')
  eq('D', api.nvim_get_current_line():sub(-1), 'the last character')
  rss()
  -- D at 250 MiB deletes 50 MiB: past reach_bytes, on the server (no register).
  feed('262144000|')
  eq(262143999, col(), 'col after {N}|')
  feed('D')
  rss()
  feed('$x')
  feed('A!<Esc>')
  rss()
  feed('157286400|iMID<Esc>')
  eq(157286401, col(), 'col after the insert in the middle')
  feed('0104857603|x') -- next to the invalid bytes, which stay
  rss()
  feed('gg$')
  eq(262143998 + 3 - 1 + 1 - 1, col(), 'col of the last character after the edits')
  vim.cmd('write')
  rss()
  local want = workdir .. '/oneline.want'
  local g = assert(io.open(want, 'wb'))
  write_range(g, 0, 104857602)
  write_range(g, 104857603, 157286399)
  g:write('MID')
  write_range(g, 157286399, 262143998)
  g:write('!\n')
  g:close()
  local r = vim.system({ 'cmp', want, path }):wait()
  eq(0, r.code, 'cmp: ' .. (r.stdout or '') .. (r.stderr or ''))
  log(('     nvim RSS peak %.0f MiB with a %d MiB line'):format(peak, math.floor(total / MiB)))
  assert(peak < 150, ('RSS %.0f MiB'):format(peak))
  vim.cmd('bwipeout!')
  os.remove(want)
  os.remove(path)
end)

-- :TomeFilter (issue 15, item 1): filter buffers against grep (LC_ALL=C: bytes, ASCII case),
-- on a file of its own: generated (TOME_NVIM_FILTER_SIZE, default 300M), then every 100th
-- line (seq=…45) ends in CRLF and every 1000th (seq=…499) gets a lowercase "error" between
-- invalid bytes (a whole word for grep -w: an invalid byte is not a word character) plus
-- "Errors" (not one).
local F = require('tome.filter')
local filter_file = workdir .. '/filter.log'
local function filter_gen()
  if vim.uv.fs_stat(filter_file) then
    return
  end
  local raw = workdir .. '/filter.raw'
  local r = vim.system({ vim.env.TOME_BIN, 'gen', raw, '--size', vim.env.TOME_NVIM_FILTER_SIZE or '300M' }):wait()
  eq(0, r.code, 'gen: ' .. (r.stderr or ''))
  local awk = 'NR % 100 == 46 { printf "%s\\r\\n", $0; next } '
    .. 'NR % 1000 == 500 { printf "%s \\377error\\376 Errors\\n", $0; next } { print }'
  r = vim.system({ 'sh', '-c', 'LC_ALL=C awk \'' .. awk .. '\' "$1" > "$2" && rm "$1"', 'sh', raw, filter_file }):wait()
  eq(0, r.code, 'awk: ' .. (r.stderr or ''))
end

-- grep's matches: {numbers (1-based), texts} (its arguments before the file).
local function grep(args, path, pipe)
  local cmd = 'LC_ALL=C grep -n ' .. args .. ' "$1"' .. (pipe and (' | LC_ALL=C ' .. pipe) or '')
  local r = vim.system({ 'sh', '-c', cmd, 'sh', path }):wait()
  assert(r.code <= 1, 'grep: ' .. (r.stderr or ''))
  local nums, texts = {}, {}
  for l in r.stdout:gmatch('[^\n]+') do
    local n, t = l:match('^(%d+):(.*)$')
    nums[#nums + 1] = tonumber(n)
    texts[#texts + 1] = t
  end
  return nums, texts
end

-- grep's matches `a` to `b` (1-based, as filter lines): {numbers, texts}, indexed from `a`.
local function grep_part(args, path, a, b)
  local cmd = ('LC_ALL=C grep -n %s "$1" | sed -n \'%d,%dp;%dq\''):format(args, a, b, b)
  local r = vim.system({ 'sh', '-c', cmd, 'sh', path }):wait()
  local nums, texts, k = {}, {}, a
  for l in r.stdout:gmatch('[^\n]+') do
    local n, t = l:match('^(%d+):(.*)$')
    nums[k], texts[k], k = tonumber(n), t, k + 1
  end
  return nums, texts
end

-- What a filter line shows for grep's line: without the CR of CRLF, invalid bytes as U+FFFD.
local function shown(t)
  t = t:gsub('\r$', '')
  local parts, i = {}, 1
  while i <= #t do
    local c = t:byte(i)
    local n = c < 0x80 and 1 or (c >= 0xC2 and c < 0xE0) and 2 or (c >= 0xE0 and c < 0xF0) and 3
      or (c >= 0xF0 and c < 0xF5) and 4 or 0
    local s = n > 0 and t:sub(i, i + n - 1) or ''
    if n > 1 and not require('tome.bytes').valid(s) then
      n = 0
    end
    if n == 0 then
      parts[#parts + 1], i = '\239\191\189', i + 1
    else
      parts[#parts + 1], i = s, i + n
    end
  end
  return table.concat(parts)
end

local function filter_wait(v)
  local ok = vim.wait(60000, function()
    return v.info.complete
  end, 10)
  assert(ok, 'the filter scan did not end: ' .. vim.inspect(v.info))
  F.refresh(v)
end

-- Every source line number of a filter (1-based), read through the plugin (F.read).
local function filter_numbers(v)
  local nums = {}
  while true do
    local res = assert(F.read(v, #nums, 1000))
    for _, l in ipairs(res.lines) do
      nums[#nums + 1] = l.line + 1
    end
    if #res.lines < 1000 then
      return nums
    end
  end
end

-- The buffer's rows against grep's lines (`nums` and `texts` indexed by filter line, 1-based,
-- or `args` for grep_part), and the source numbers the 'statuscolumn' shows.
local function check_window(v, nums, texts, args)
  local rows = api.nvim_buf_get_lines(v.buf, 0, -1, false)
  assert(#rows <= W.size() + 20, ('the buffer holds %d rows'):format(#rows))
  if args then
    nums, texts = grep_part(args, filter_file, v.base + 1, v.base + #rows)
  end
  for i = 1, #rows do
    local k = v.base + i
    eq(shown(texts[k]), rows[i], ('row %d (filter line %d, source line %d)'):format(i, k, nums[k]))
    eq(nums[k], v.rows[i].line + 1, 'source line of row ' .. i)
  end
  -- (what the window shows in front of each row)
  local row = math.min(#rows, 2)
  local label = api.nvim_eval_statusline(vim.wo.statuscolumn, { use_statuscol_lnum = row }).str
  eq(tostring(nums[v.base + row]), vim.trim(label), 'statuscolumn of row ' .. row)
end

-- Back to the filter file's buffer, every filter buffer wiped (after a failed test too).
local function filter_reset()
  for buf in pairs(F.views) do
    pcall(vim.cmd, 'bwipeout ' .. buf)
  end
  local src = vim.fn.bufnr(filter_file)
  if src > 0 and api.nvim_get_current_buf() ~= src then
    local win = vim.fn.win_findbuf(src)[1]
    if win then
      api.nvim_set_current_win(win)
    else
      vim.cmd('tabnew ' .. filter_file)
    end
  end
end

local function filter_case(args, grep_args, pipe)
  local cur = api.nvim_get_current_buf()
  local nums, texts = grep(grep_args, filter_file, pipe)
  local v = assert(F.open(args, false), ':TomeFilter ' .. args)
  assert(api.nvim_get_current_buf() == v.buf and cur ~= v.buf, 'the filter buffer in a new window')
  local first = vim.deepcopy(v.info)
  filter_wait(v)
  local got = filter_numbers(v)
  eq(#nums, v.info.matched, ':TomeFilter ' .. args .. ': matched, against grep -n ' .. grep_args)
  eq(#nums, #got, 'filter lines')
  for i = 1, #nums do
    if nums[i] ~= got[i] then
      eq(nums[i], got[i], ('filter line %d of :TomeFilter %s'):format(i, args))
    end
  end
  F.fill(v, 0, 0)
  check_window(v, nums, texts)
  log(('     :TomeFilter %s: %d lines (first reply: %d matched, complete %s)'):format(args, #nums, first.matched,
    tostring(first.complete)))
  return v, nums, texts
end

test(':TomeFilter arguments: text, /regex/[iw], -i, -w, --, !', function()
  local function leaf(p, re, cs, ww)
    return { pattern = p, regex = re, caseSensitive = cs, wholeWord = ww }
  end
  local cases = {
    { 'seq=1 two', leaf('seq=1 two', false, true, false) },
    { '/a.c/', leaf('a.c', true, true, false) },
    { '/a/b/iw', leaf('a/b', true, false, true) },
    { '-i -w error', leaf('error', false, false, true) },
    { '-iw /x+/', leaf('x+', true, false, true) },
    { '-- /tmp/', leaf('/tmp/', false, true, false) },
    { '-i -- -w', leaf('-w', false, false, false) },
    { '/', leaf('/', false, true, false) },
  }
  for _, c in ipairs(cases) do
    eq(c[2], F.parse(c[1], false), c[1])
  end
  eq({ ['not'] = leaf('DEBUG', false, true, false) }, F.parse('DEBUG', true), '!')
  eq(nil, F.parse('  ', false), 'empty')
  -- The matches highlighted in the rows, where Vim reads the query alike.
  local hl = {
    { 'a.b\\c', '\\C\\Va.b\\\\c' },
    { '-i -w error', '\\c\\V\\<error\\>' },
    { '/seq=[0-9=]+7 GET/', '\\C\\vseq\\=[0-9=]+7 GET' },
    { '/a<b[]x]>/', '\\C\\va\\<b[]x]\\>' },
    { '/a|b/w', '\\C\\v<(a|b)>' },
    { '/x{2}/', nil },
    { '/(?i)x/', nil },
    { '/\\bx/', nil },
  }
  for _, c in ipairs(hl) do
    eq(c[2], F.vim_pattern(F.parse(c[1], false)), 'highlight of ' .. c[1])
  end
  eq(nil, F.vim_pattern(F.parse('x', true)), 'highlight of !')
end)

test(':TomeFilter: literal, /regex/, -i -w against grep -nF, -nE, -niwF (CRLF and invalid UTF-8 lines)', function()
  filter_gen()
  vim.cmd('tabnew ' .. filter_file)
  local s = st()
  local src_buf = s.buf
  local v = filter_case('seq=12345', '-F seq=12345')
  assert(#v.rows > 0)
  local hl = vim.tbl_filter(function(m)
    return m.group == 'TomeFilterMatch'
  end, vim.fn.getmatches())
  eq('\\C\\Vseq=12345', hl[1] and hl[1].pattern, 'the matches highlighted in the window')
  -- (seq=12345 is line 12,346: a CRLF line, shown without its CR)
  eq(12346, v.rows[1].line + 1, 'the first match')
  vim.cmd('bwipeout')
  eq(src_buf, api.nvim_get_current_buf(), 'back in the source')
  filter_case('/seq=[0-9]*77 GET /api/v1/items/', "-E 'seq=[0-9]*77 GET /api/v1/items'")
  vim.cmd('bwipeout')
  local nums
  v, nums = filter_case('-i -w error', '-iwF error')
  local invalid = 0
  for _, l in ipairs(v.rows) do
    invalid = invalid + (l.invalid and 1 or 0)
  end
  assert(invalid > 0, 'invalid UTF-8 lines in the first window')
  assert(#nums > 1000, 'more than one window')
  -- Nested: a filter of this filter, against a pipeline of greps.
  local nv, _ = filter_case('/items/[0-9]+7 /', '-iwF error', "grep -E '^[0-9]+:.*items/[0-9]+7 '")
  eq(v.filter, nv.parent, 'a filter of the filter')
  vim.cmd('bwipeout')
  eq(v.buf, api.nvim_get_current_buf(), 'back in the first filter')
  vim.cmd('bwipeout')
end)

test(':TomeFilter! of millions of lines: windowed, the count grows while it builds, G, {count}G, scrolling', function()
  filter_reset()
  local args = '-vF ERROR'
  local total = tonumber(vim.system({ 'sh', '-c', 'LC_ALL=C grep -c ' .. args .. ' "$1"', 'sh', filter_file })
    :wait().stdout:match('%d+'))
  assert(total > 1000000, 'millions of lines: ' .. total)
  local v = assert(F.open('ERROR', true))
  -- The first screen comes before the scan ends (a reply at once, the lines found so far).
  local first_rows = #v.rows
  filter_wait(v)
  eq(total, v.info.matched, 'matched against grep -cv')
  for i = 2, #v.matched_seen do
    assert(v.matched_seen[i] >= v.matched_seen[i - 1], 'the count grows: ' .. vim.inspect(v.matched_seen))
  end
  log(('     :TomeFilter! ERROR: %d lines; rows at once %d, first lines after %.0f ms; counts seen while scanning: %s')
    :format(total, first_rows, v.first_ms or -1, table.concat(v.matched_seen, ' ')))
  check_window(v, nil, nil, args)
  feed('G')
  eq(total, v.base + api.nvim_win_get_cursor(0)[1], 'G: the last filter line')
  check_window(v, nil, nil, args)
  local mid = math.floor(total / 2)
  feed(mid .. 'G')
  eq(mid, v.base + api.nvim_win_get_cursor(0)[1], '{count}G')
  check_window(v, nil, nil, args)
  -- j past the window's edge: refilled as it nears it, rows still grep's lines.
  for _ = 1, 4 do
    feed('<C-f>')
  end
  feed('200j')
  check_window(v, nil, nil, args)
  assert(F.status():find(('of %s'):format(group(total)), 1, true), F.status())
  local id = v.filter
  vim.cmd('quit') -- ('bufhidden' is "wipe")
  assert(not api.nvim_buf_is_valid(v.buf), 'the filter buffer is wiped with its window')
  local _, err = require('tome.client').request('tome/filterInfo', { filter = id })
  eq(-33018, err and err.code, 'the filter is closed on the server with its buffer')
end)

test(':TomeFilter: <CR> goes to the source line (CTRL-O back); a bad regex is an error, nothing opens', function()
  filter_reset()
  local s = st()
  feed('gg')
  local v = assert(F.open('seq=77777', false))
  filter_wait(v)
  local wins = #api.nvim_tabpage_list_wins(0)
  local n0 = #notes
  local ok = pcall(vim.cmd, 'TomeFilter /a(/')
  eq(false, ok, 'a bad regex fails')
  eq(1, #notes_matching('invalid regex', n0 + 1), 'one error message')
  eq(wins, #api.nvim_tabpage_list_wins(0), 'no window opened')
  eq(v.buf, api.nvim_get_current_buf(), 'still in the filter')
  for _, row in ipairs({ 3, 1, #v.rows }) do
    api.nvim_win_set_cursor(0, { row, 0 })
    local want = v.rows[row]
    feed('<CR>')
    eq(s.buf, api.nvim_get_current_buf(), '<CR> goes to the source window')
    eq(want.line + 1, real(), '<CR> on row ' .. row)
    eq(want.text, api.nvim_get_current_line(), 'the source line')
    vim.cmd('wincmd p')
    eq(v.buf, api.nvim_get_current_buf())
  end
  vim.cmd('wincmd p')
  local here = real()
  feed('<C-o>')
  eq(v.rows[1].line + 1, real(), 'CTRL-O: the line before the last jump')
  feed('<C-i>')
  eq(here, real(), 'CTRL-I')
  vim.cmd('wincmd p')
  vim.cmd('bwipeout')
  vim.cmd('bwipeout!')
  os.remove(filter_file)
end)

test(':TomeFilter: <CR> before the index of the source reaches the line: at once, by offset', function()
  jump_lines = nil -- (a fresh jump.log: an earlier test removed it)
  local s = jump_open()
  local v = assert(F.open('seq=1900000', false))
  filter_wait(v)
  eq(grep('-F seq=1900000', jump_file), vim.tbl_map(function(l)
    return l.line + 1
  end, v.rows), 'against grep -n')
  local l = v.rows[1]
  feed('<CR>')
  eq(s.buf, api.nvim_get_current_buf())
  log(('     <CR> to line %d with the index at %d%%: %s window'):format(l.line + 1, s.index_percent or 0,
    s.estimated and 'an estimated' or 'a numbered'))
  eq(l.line + 1, real(), 'the line number')
  eq(l.text, api.nvim_get_current_line(), 'the line')
  vim.cmd('bwipeout ' .. v.buf)
  vim.cmd('bwipeout!')
  os.remove(jump_file)
end)

test(':TomeFilter: edits through the filter buffer save the same bytes as the same edits in the source', function()
  local a, b = copy_of('fa.log'), copy_of('fb.log')
  vim.cmd('tabnew ' .. b)
  local sb, tab_b = st(), api.nvim_get_current_tabpage()
  vim.cmd('tabnew ' .. a)
  local sa, tab_a = st(), api.nvim_get_current_tabpage()
  local v = assert(F.open('seq=4242', false))
  filter_wait(v)
  -- (edits are sent once Neovim is back in its loop: wait for the filter to show them)
  local function settled()
    assert(vim.wait(5000, function()
      return api.nvim_buf_get_changedtick(v.buf) == v.tick
    end, 10), 'the filter edit was not sent')
  end
  local rows0 = #v.rows
  local l3, l5, t3 = v.rows[3].line, v.rows[5].line, v.rows[3].text
  -- Row 3: text put in front; row 5: `seq` broken, so the line leaves the filter.
  api.nvim_win_set_cursor(0, { 3, 0 })
  feed('0iVIA-FILTER <Esc>')
  settled()
  eq(sa.version, v.version, 'the filter is of the source version after the edit')
  eq(1, sa.version, 'one edit of the source')
  eq('VIA-FILTER ' .. t3, v.rows[3].text, 'the row after the edit')
  eq(l3, v.rows[3].line, 'same source line')
  api.nvim_win_set_cursor(0, { 5, 0 })
  feed('0fsx')
  settled()
  eq(rows0 - 1, #v.rows, 'the line no longer matching left the filter')
  -- One undo step in the source each: u in the filter buffer takes back the last.
  feed('u')
  eq(rows0, #v.rows, 'u: the line is back')
  eq(l5, v.rows[5].line)
  feed('<C-r>')
  eq(rows0 - 1, #v.rows, 'CTRL-R')
  -- Rows cannot be added or deleted: refused, the window shown again.
  local n0 = #notes
  feed('dd')
  settled()
  eq(1, #notes_matching('cannot add or delete', n0 + 1), 'dd refused')
  eq(rows0 - 1, #v.rows, 'nothing deleted')
  eq(rows0 - 1, api.nvim_buf_line_count(0), 'rows shown again')
  -- An edit of the source made directly shows in the filter (the server keeps it live).
  vim.cmd('wincmd p')
  eq(sa.buf, api.nvim_get_current_buf())
  feed(':100<CR>0iseq=4242 <Esc>')
  vim.cmd('wincmd p')
  local ok = vim.wait(5000, function()
    return v.rows[1] and v.rows[1].line == 99
  end, 20)
  assert(ok, 'the filter did not follow the source edit: ' .. vim.inspect(v.rows[1]))
  eq(rows0, #v.rows, 'one line more')
  -- An edit through the filter made while its rows are of an older version (the poll stopped:
  -- a line added in the source above them since): the rows are read again and, being the
  -- same lines moved down one, the edit goes to the moved lines.
  v.timer:stop()
  vim.cmd('wincmd p')
  feed(':50<CR>yyp')
  eq(1, sa.version - v.version, 'the filter rows are of the version before')
  vim.cmd('wincmd p')
  api.nvim_win_set_cursor(0, { 2, 0 })
  local l2 = v.rows[2].line
  local retried = F.retried
  feed('0iRETRY <Esc>')
  settled()
  eq(retried + 1, F.retried, 'sent again at the new version')
  eq(l2 + 1, v.rows[2].line, 'the row moved down one')
  eq('RETRY ', v.rows[2].text:sub(1, 6), 'the edit went through')
  eq(sa.version, v.version)
  v.timer:start(F.poll_ms, F.poll_ms, vim.schedule_wrap(function()
    F.refresh(v)
  end))
  -- Through a filter of the filter: the same source.
  local nv = assert(F.open('VIA-FILTER', false))
  filter_wait(nv)
  eq({ l3 + 1 }, vim.tbl_map(function(l)
    return l.line
  end, nv.rows), 'the nested filter: the line edited through the first (moved by the yyp)')
  feed('A!<Esc>')
  assert(vim.wait(5000, function()
    return api.nvim_buf_get_changedtick(nv.buf) == nv.tick
  end, 10), 'the nested edit was not sent')
  eq('VIA-FILTER ' .. t3 .. '!', nv.rows[1].text, 'the nested filter shows the edit')
  eq(sa.version, nv.version)
  vim.cmd('quit')
  eq(v.buf, api.nvim_get_current_buf())
  -- The same edits in the other copy, directly.
  api.nvim_set_current_win(vim.fn.win_findbuf(sa.buf)[1])
  vim.cmd('write')
  api.nvim_set_current_tabpage(tab_b)
  eq(sb.buf, api.nvim_get_current_buf())
  feed((':%d<CR>0iVIA-FILTER <Esc>'):format(l3 + 1))
  feed((':%d<CR>0fsx'):format(l5 + 1))
  feed(':100<CR>0iseq=4242 <Esc>')
  feed(':50<CR>yyp')
  feed((':%d<CR>0iRETRY <Esc>'):format(l2 + 2))
  feed((':%d<CR>A!<Esc>'):format(l3 + 2))
  vim.cmd('write')
  cmp(a, b)
  vim.cmd('bwipeout!')
  api.nvim_set_current_tabpage(tab_a)
  vim.cmd('bwipeout ' .. v.buf)
  vim.cmd('bwipeout!')
  os.remove(a)
  os.remove(b)
end)

-- The extmarks of highlight rules (all of the buffer's: marks off the screen rows are
-- errors): { row, start, end, hl }, and the rows with a sign.
local function hl_marks()
  local H = require('tome.highlight')
  local spans, signs = {}, {}
  for _, m in ipairs(api.nvim_buf_get_extmarks(0, H.ns, 0, -1, { details = true })) do
    local row, col, d = m[2], m[3], m[4]
    if d.sign_text then
      signs[#signs + 1] = row
    else
      spans[#spans + 1] = { row, col, d.end_col, d.hl_group }
    end
  end
  local order = function(a, b)
    for i = 1, 3 do
      if a[i] ~= b[i] then
        return a[i] < b[i]
      end
    end
    return a[4] < b[4]
  end
  table.sort(spans, order)
  table.sort(signs)
  return spans, signs
end

test('highlight rules: the server\'s matches on the screen rows only, with signs; bad rules refused', function()
  local H = require('tome.highlight')
  local main = vim.fn.bufnr(file)
  vim.cmd(main > 0 and api.nvim_buf_is_loaded(main) and ('buffer ' .. main) or ('edit ' .. vim.fn.fnameescape(file)))
  feed('1500000Gzz')
  local ok, err = H.set({
    { pattern = 'ERROR', hl = 'ErrorMsg' },
    { pattern = [[seq=15000\d\d\b]], regex = true, hl = 'Search' },
    { pattern = 'worker-7]', hl = 'WarningMsg' },
  })
  assert(ok, err)
  local top, bot
  -- The oracle: the same patterns found by Lua in the rows on screen.
  local function want()
    top, bot = vim.fn.line('w0'), vim.fn.line('w$')
    local spans, rows = {}, {}
    for row = top, bot do
      local text = api.nvim_buf_get_lines(0, row - 1, row, false)[1]
      local function add(s, e, hl)
        spans[#spans + 1] = { row - 1, s - 1, e, hl }
        rows[row - 1] = true
      end
      local at = 1
      while true do
        local s, e = text:find('ERROR', at, true)
        if not s then
          break
        end
        add(s, e, 'ErrorMsg')
        at = e + 1
      end
      local s, e = text:find('seq=15000%d%d%f[%W]')
      if s then
        add(s, e, 'Search')
      end
      s, e = text:find('worker-7]', 1, true)
      if s then
        add(s, e, 'WarningMsg')
      end
    end
    table.sort(spans, function(a, b)
      for i = 1, 3 do
        if a[i] ~= b[i] then
          return a[i] < b[i]
        end
      end
      return a[4] < b[4]
    end)
    local signs = vim.tbl_keys(rows)
    table.sort(signs)
    return spans, signs
  end
  local function drawn(what)
    -- (what Neovim's main loop sends after the keys; a script's feedkeys does not get it)
    api.nvim_exec_autocmds('CursorMoved', { buffer = 0 })
    api.nvim_exec_autocmds('TextChanged', { buffer = 0 })
    local ws, wsigns = want()
    vim.wait(3000, function()
      local gs, gsigns = hl_marks()
      return vim.deep_equal(ws, gs) and vim.deep_equal(wsigns, gsigns)
    end, 10)
    local gs, gsigns = hl_marks()
    eq(ws, gs, what .. ': spans')
    eq(wsigns, gsigns, what .. ': signs')
    return #ws
  end
  local n = drawn('at line 1,500,000')
  assert(n >= 3, 'matches on screen: ' .. n)
  -- Scrolled: the new screen, and nothing left on rows that left it.
  feed('40\005')
  drawn('after CTRL-E')
  -- A refill far away.
  feed('50000G')
  drawn('at line 50,000')
  -- An edit: a new match on the cursor's line.
  feed('IERROR <Esc>')
  assert(api.nvim_get_current_line():sub(1, 6) == 'ERROR ')
  drawn('after an edit')
  feed('u')
  drawn('after undo')
  -- The sign column shows in the statuscolumn.
  local sc = api.nvim_eval_statusline(vim.wo.statuscolumn, { use_statuscol_lnum = top }).str
  assert(sc ~= '', 'statuscolumn')

  -- A bad regex: refused with the server's reason naming the rule; the rules stay.
  local ok3, msg = H.set({ { pattern = 'fine' }, { id = 'broken', pattern = 'a(b', regex = true } })
  eq(nil, ok3, 'bad rule refused')
  assert(tostring(msg):find('highlight rule 1 %("broken"%)'), msg)
  eq(3, #H.rules(), 'rules kept')
  -- :TomeHighlight adds one, :TomeHighlightClear removes all.
  vim.cmd('TomeHighlight DiffAdd /seq=\\d+/')
  eq(4, #H.rules(), ':TomeHighlight adds')
  eq(true, H.rules()[4].regex, '/regex/')
  vim.cmd('TomeHighlightClear')
  vim.wait(1000, function()
    return #api.nvim_buf_get_extmarks(0, H.ns, 0, -1, {}) == 0
  end, 10)
  eq(0, #api.nvim_buf_get_extmarks(0, H.ns, 0, -1, {}), 'cleared')
  feed('gg')
end)

test('highlight rules on a line held as a slice (20 MiB, wrapped): its matches from the slice start', function()
  local H = require('tome.highlight')
  local path = workdir .. '/hl-long.txt'
  local f = assert(io.open(path, 'wb'))
  f:write('first line\n', ('abc ERROR xyz '):rep(math.floor(20 * 1024 * 1024 / 14)), '\nlast ERROR line\n')
  f:close()
  vim.cmd('Tome ' .. path)
  local s = st()
  assert(s.slices and s.slices[1], 'row 2 is a slice')
  assert(H.set({ { pattern = 'ERROR', hl = 'ErrorMsg' } }))
  local starts = {}
  vim.wait(3000, function()
    api.nvim_exec_autocmds('CursorMoved', { buffer = 0 })
    starts = {}
    for _, m in ipairs(api.nvim_buf_get_extmarks(0, H.ns, { 1, 0 }, { 1, -1 }, { details = true })) do
      if not m[4].sign_text then
        starts[#starts + 1] = m[3]
      end
    end
    return #starts > 0
  end, 20)
  table.sort(starts)
  local text = api.nvim_buf_get_lines(0, 1, 2, false)[1]
  local want, at = {}, 1
  while #want < #starts do
    local i = text:find('ERROR', at, true)
    if not i then
      break
    end
    want[#want + 1] = i - 1
    at = i + 1
  end
  assert(#starts > 10, 'marks on the long row: ' .. #starts)
  eq(want, starts, 'the first matches of the slice, in order')
  H.set({})
  vim.cmd('bwipeout!')
  os.remove(path)
end)

test(':TomeFilter with highlight rules: rows coloured as a scan of them finds (invalid UTF-8 rows too)', function()
  local H = require('tome.highlight')
  filter_gen()
  filter_reset()
  if vim.fn.bufnr(filter_file) < 0 then
    vim.cmd('tabnew ' .. filter_file)
  end
  assert(H.set({
    { pattern = 'rror', hl = 'ErrorMsg' },
    { pattern = 'seq=[0-9]+', regex = true, hl = 'Search' },
  }))
  -- Lines with "error" between invalid bytes (every 1000th): the columns after an invalid byte
  -- are the row's, not the file's.
  local v = assert(F.open('-i -w error', false))
  filter_wait(v)
  local invalid = 0
  for _, l in ipairs(v.rows) do
    invalid = invalid + (l.invalid and 1 or 0)
  end
  assert(invalid > 0, 'invalid UTF-8 rows')
  -- The oracle: the same patterns found by Lua in every row of the buffer.
  local function want()
    local spans, rows = {}, {}
    for row, text in ipairs(api.nvim_buf_get_lines(v.buf, 0, -1, false)) do
      for _, r in ipairs({ { 'rror', true, 'ErrorMsg' }, { 'seq=%d+', false, 'Search' } }) do
        local at = 1
        while true do
          local s, e = text:find(r[1], at, r[2])
          if not s then
            break
          end
          spans[#spans + 1] = { row - 1, s - 1, e, r[3] }
          rows[row - 1] = true
          at = e + 1
        end
      end
    end
    table.sort(spans, function(a, b)
      for i = 1, 3 do
        if a[i] ~= b[i] then
          return a[i] < b[i]
        end
      end
      return a[4] < b[4]
    end)
    local signs = vim.tbl_keys(rows)
    table.sort(signs)
    return spans, signs
  end
  local ws, wsigns = want()
  local gs, gsigns = hl_marks()
  assert(#ws > 100, 'matches: ' .. #ws)
  eq(ws, gs, 'spans')
  eq(wsigns, gsigns, 'signs')
  -- Refilled elsewhere: the new rows' matches.
  feed('G')
  ws, wsigns = want()
  gs, gsigns = hl_marks()
  eq(ws, gs, 'spans after G')
  eq(wsigns, gsigns, 'signs after G')
  -- The signs show in the 'statuscolumn'.
  local sc = api.nvim_eval_statusline(vim.wo.statuscolumn, { use_statuscol_lnum = 1 }).str
  assert(sc:find('▍', 1, true), 'a sign in the statuscolumn: ' .. sc)
  -- Rules cleared: nothing drawn.
  assert(H.set({}))
  eq(0, #api.nvim_buf_get_extmarks(v.buf, H.ns, 0, -1, {}), 'cleared')
  vim.cmd('bwipeout')
end)

log(('headless: %d passed, %d failed'):format(passed, failed))
vim.cmd(failed == 0 and 'qa!' or 'cq!')
