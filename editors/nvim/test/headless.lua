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

local function test(name, fn)
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

local function feed(keys)
  api.nvim_feedkeys(api.nvim_replace_termcodes(keys, true, false, true), 'mx', false)
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
  eq("%=%{v:lua.require'tome'.lnum()} ", vim.wo.statuscolumn, 'statuscolumn')
  local s = vim.api.nvim_eval_statusline(vim.wo.statusline, {}).str
  assert(s:find('Tome: line 1 of', 1, true), s)
  assert(s:find('200.0 MiB', 1, true) or s:find('MiB', 1, true), s)
end)

test('G shows the last line', function()
  feed('G')
  eq(total_lines, real(), 'real line after G')
  eq(last_text, api.nvim_get_current_line(), 'text after G')
  local s = vim.api.nvim_eval_statusline(vim.wo.statusline, {}).str
  local n = tostring(total_lines):reverse():gsub('(%d%d%d)', '%1,'):reverse():gsub('^,', '')
  assert(s:find(('line %s of %s'):format(n, n), 1, true), s)
  bounded()
end)

test('gg and {count}G', function()
  feed('gg')
  eq(0, seq(), 'gg')
  feed('1234567G')
  eq(1234566, seq(), '1234567G')
  eq(1234567, real())
  feed('gg')
  eq(0, seq())
end)

test(':{N} and :$', function()
  feed(':1000000<CR>')
  eq(999999, seq(), ':1000000')
  eq(1000000, real())
  feed(':$<CR>')
  eq(total_lines, real(), ':$')
  eq(last_text, api.nvim_get_current_line(), ':$')
  feed(':17<CR>')
  eq(16, seq(), ':17')
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
  feed('100000j')
  eq(100050, seq(), '100000j')
  feed('99999k')
  eq(51, seq(), '99999k')
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
  feed('/seq=18000[0-9]{2} <CR>')
  eq(1800000, seq(), '/regex')
  feed('n')
  eq(1800001, seq(), 'n')
  feed('n')
  eq(1800002, seq(), 'n again')
  feed('N')
  eq(1800001, seq(), 'N')
  feed('?seq=5000 <CR>')
  eq(5000, seq(), '?backward')
  feed('/\\Vseq=1900000 <CR>')
  eq(1900000, seq(), '/\\V literal')
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
  feed(':1500001<CR>')
  eq(1500000, seq())
  feed('0iHELLO <Esc>')
  feed('j')
  eq(1500001, seq())
  feed('dd')
  eq(1500002, seq(), 'dd leaves the next line')
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

local function write_expected(path)
  local f = assert(io.open(path, 'wb'))
  local i = 0
  for l in io.lines(file, 'L') do
    local e = edited[i]
    if e == nil then
      f:write(l)
    elseif e then
      local nl = l:match('\r?\n$') or ''
      for _, x in ipairs(e) do
        f:write(x, nl)
      end
    end
    i = i + 1
  end
  f:close()
end

local function cmp(a, b)
  local r = vim.system({ 'cmp', a, b }):wait()
  eq(0, r.code, 'cmp ' .. a .. ' ' .. b .. ': ' .. (r.stdout or '') .. (r.stderr or ''))
end

local expected = workdir .. '/expected.log'
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

test('a file changed on disk is reported; :TomeReload shows it', function()
  local s = st()
  local f = assert(io.open(other, 'ab'))
  f:write('appended by another program seq=-1\n')
  f:close()
  local ok = vim.wait(5000, function()
    return s.changed_on_disk == true
  end, 50)
  assert(ok, 'change not noticed')
  vim.cmd('TomeReload')
  feed('G')
  eq('appended by another program seq=-1', api.nvim_get_current_line())
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

test(':Tome on a small CRLF file with invalid UTF-8: line breaks kept, invalid line protected', function()
  local small = workdir .. '/crlf.txt'
  local f = assert(io.open(small, 'wb'))
  f:write('one\r\ntwo\r\nbad \xff\xfe here\r\nfour\r\n')
  f:close()
  vim.cmd('Tome ' .. small)
  eq({ 'one', 'two', 'bad \u{FFFD}\u{FFFD} here', 'four' }, api.nvim_buf_get_lines(0, 0, -1, false))
  api.nvim_win_set_cursor(0, { 2, 0 })
  feed('oNEW<Esc>')
  feed('ggAX<Esc>')
  api.nvim_win_set_cursor(0, { 4, 3 })
  feed('x') -- on the invalid line: refused, restored
  vim.wait(2000, function()
    return api.nvim_buf_get_lines(0, 3, 4, false)[1] == 'bad \u{FFFD}\u{FFFD} here'
  end)
  api.nvim_win_set_cursor(0, { 5, 0 })
  feed('x')
  vim.cmd('write')
  local g = assert(io.open(small, 'rb'))
  eq('oneX\r\ntwo\r\nNEW\r\nbad \xff\xfe here\r\nour\r\n', g:read('a'))
  g:close()
end)

log(('headless: %d passed, %d failed'):format(passed, failed))
vim.cmd(failed == 0 and 'qa!' or 'cq!')
