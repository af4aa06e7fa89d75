-- A file on another host (|tome-remote|) over a real OpenSSH server on 127.0.0.1: run by
-- scripts/test-nvim-remote.sh, which starts sshd and generates the file (hundreds of MiB):
--   TOME_REMOTE_URL=tome://root@127.0.0.1:PORT//…/big.log TOME_REMOTE_COMMAND='["ssh", …]'
--   TOME_REMOTE_FILE=…/big.log (the same file, as the "remote" side sees it: for cmp)
--   TOME_REMOTE_STATE=… (the remote server's state directory: its journals)
--   TOME_LOCAL_FILE=… (a file opened by the local server at the same time)
--   nvim --headless -u test/minimal_init.lua -c 'luafile test/remote.lua'
-- Checks: open, scroll, edit, search, filter, save on the remote path (cmp against Python's
-- edit of the original), follow, a local file alongside (ids of both servers), then ssh killed
-- mid-session: a clear error, the buffer readable, no hang, the journal left on the remote side,
-- the file untouched; :e! reconnects and recovers the edit.
local api = vim.api
local tome = require('tome')
local client = require('tome.client')
local W = require('tome.window')
local S = require('tome.search')
local F = require('tome.filter')
local url = assert(vim.env.TOME_REMOTE_URL)
local file = assert(vim.env.TOME_REMOTE_FILE)
local state_dir = assert(vim.env.TOME_REMOTE_STATE)
local passed, failed = 0, 0
local out = vim.env.TOME_TEST_LOG and assert(io.open(vim.env.TOME_TEST_LOG, 'a')) or io.stdout
tome.setup({ remote = { command = vim.json.decode(assert(vim.env.TOME_REMOTE_COMMAND)) } })

local function log(s)
  out:write(s .. '\n')
  out:flush()
end

local notes = {}
do
  local notify = vim.notify
  vim.notify = function(msg, level, opts)
    notes[#notes + 1] = { msg = msg, level = level }
    return notify(msg, level, opts)
  end
end

local stop = false -- a failed step makes the later ones meaningless
local function test(name, fn)
  if stop then
    failed = failed + 1
    return log(('FAIL %s: not run (an earlier step failed)'):format(name))
  end
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    passed = passed + 1
    log('ok   ' .. name)
  else
    failed, stop = failed + 1, true
    log(('FAIL %s: %s'):format(name, err))
  end
end

local function eq(want, got, what)
  if not vim.deep_equal(want, got) then
    error(('%s: want %s, got %s'):format(what or 'value', vim.inspect(want), vim.inspect(got)), 2)
  end
end

local function feed(keys)
  api.nvim_feedkeys(api.nvim_replace_termcodes(keys, true, false, true), 'mxt', false)
end

local function st()
  return assert(tome.docs[api.nvim_get_current_buf()], 'not a Tome buffer')
end

local function seq() -- the `seq=N` of the cursor's line
  return tonumber(api.nvim_get_current_line():match('seq=(%d+)'))
end

local function cmp(a, b)
  local res = vim.system({ 'cmp', a, b }):wait()
  return res.code == 0, vim.trim((res.stdout or '') .. (res.stderr or ''))
end

local function wait_for(what, fn, ms)
  assert(vim.wait(ms or 30000, fn, 20), 'timed out waiting for ' .. what)
end

-- The expected bytes: the original edited as the tests edit it (Python, as the issue asks).
local function python(script, ...)
  local res = vim.system(vim.list_extend({ 'python3', '-c', script }, { ... })):wait()
  assert(res.code == 0, 'python: ' .. (res.stderr or ''))
end
local expected = file .. '.expected'
python([[
import sys
src, dst = sys.argv[1], sys.argv[2]
lines = open(src, 'rb').read().split(b'\n')
lines[999999] = b'EDITED ' + lines[999999]
del lines[4]
open(dst, 'wb').write(b'\n'.join(lines))
]], file, expected)

local remote_buf
test('open tome://user@host:port//path through ssh', function()
  vim.cmd.edit(vim.fn.fnameescape(url))
  local s = st()
  remote_buf = s.buf
  eq(url, s.path, 'path')
  eq(url, api.nvim_buf_get_name(s.buf), 'buffer name')
  assert(s.doc >= 2 ^ 32, 'a remote document id: ' .. s.doc)
  assert(client.server_pid(s.doc), 'no ssh process')
  eq(nil, client.server_pid(), 'the local server (not started)')
  eq(0, seq(), 'first line')
  local f = assert(io.open(file, 'rb'))
  eq(f:read('*l'), api.nvim_buf_get_lines(0, 0, 1, false)[1], 'line 1')
  f:close()
end)

test('scroll: jumps and j/k/CTRL-F over the connection', function()
  local s = st()
  W.goto_line(s, 2000000)
  eq(1999999, seq(), '2000000G')
  feed('<C-f><C-f>')
  local down = seq()
  assert(down > 1999999, 'CTRL-F CTRL-F went to ' .. down)
  eq(down, W.cursor_line(st()), 'the line is the file line (statuscolumn and window agree)')
  feed('<C-b><C-b>')
  assert(seq() < down, 'CTRL-B CTRL-B')
  feed('500j')
  local at = seq()
  feed('500k')
  eq(at - 500, seq(), '500j 500k')
  feed('gg')
  eq(0, seq(), 'gg')
  -- Refills take the windows asked ahead (window.lua, prefetch) when their replies are in:
  -- each row is still its file line, down and back up.
  local s2 = st()
  local used, fills = s2.prefetches_used or 0, s2.fills
  vim.o.lines = 50 -- (CTRL-F then moves 46 lines: a refill every few presses)
  for _, key in ipairs({ '<C-f>', '<C-b>' }) do
    for _ = 1, 30 do
      feed(key)
      vim.wait(1000, function()
        return not s2.prefetching
      end)
      eq(seq(), W.cursor_line(s2), key .. ': the row is its file line')
    end
  end
  local took, refills = (s2.prefetches_used or 0) - used, s2.fills - fills
  log(('     (%d of %d refills took a window asked ahead)'):format(took, refills))
  assert(took > 4, 'refills that took a window asked ahead: ' .. took .. ' of ' .. refills)
end)

local local_buf
test('a local file at the same time: its own server, the same document numbers', function()
  vim.cmd('Tome ' .. vim.fn.fnameescape(assert(vim.env.TOME_LOCAL_FILE)))
  local s = st()
  local_buf = s.buf
  eq(1, s.doc, 'the local server numbers from 1')
  assert(client.server_pid() and client.server_pid() ~= client.server_pid(tome.docs[remote_buf].doc),
    'two servers')
  W.goto_line(s, 1000)
  eq(999, seq(), 'local 1000G')
  -- (a file saves on its own machine only: :w of a local buffer to a URL is refused)
  local other = url:gsub('big%.log$', 'other.log')
  local first = #notes + 1
  local _, err = pcall(vim.cmd, 'write ' .. vim.fn.fnameescape(other)) -- (an error message raises here)
  assert(#notes >= first and notes[#notes].msg:find('saves on this machine only', 1, true),
    'the refusal: ' .. vim.inspect(notes[#notes]) .. ' ' .. tostring(err))
  eq(0, vim.fn.filereadable((file:gsub('big%.log$', 'other.log'))), 'no file written')
  vim.cmd.buffer(remote_buf)
  W.goto_line(st(), 1000)
  eq(999, seq(), 'remote 1000G')
end)

test('edit: insert on line 1000000, delete line 5, as Neovim commands', function()
  local s = st()
  W.goto_line(s, 1000000)
  feed('0iEDITED <Esc>')
  feed('5Gdd')
  W.goto_line(s, 999999)
  assert(api.nvim_get_current_line():match('^EDITED .*seq=999999 '), api.nvim_get_current_line())
  local info = assert(tome.refresh_info(s))
  assert(info.dirty, 'dirty')
end)

test('search: /seq=2500000 finds it on the remote side', function()
  local s = st()
  feed('gg')
  S.search(s, 'seq=2500000 ', false)
  eq(2500000, seq(), 'after /')
  S.search(s, 'EDITED', true)
  eq(999999, seq(), 'after ?EDITED (the edit, on the server)')
end)

test('filter: :TomeFilter of the remote document', function()
  local v = assert(F.open('/seq=12345[0-9] /', false), ':TomeFilter')
  wait_for('the filter scan', function()
    return v.info.complete
  end, 120000)
  F.refresh(v)
  local got = {}
  for _, row in ipairs(assert(F.read(v, 0, 100)).lines) do
    got[#got + 1] = row.line + 1
  end
  eq(#got, #v.rows, 'rows in the filter buffer')
  -- (seq N is on line N + 1, and N - 1 from line 6 on: line 5 was deleted)
  local want = {}
  for n = 123450, 123459 do
    want[#want + 1] = n
  end
  eq(want, got, 'source lines')
  assert(v.filter >= 2 ^ 32, 'a remote filter id')
  vim.cmd('close')
  vim.cmd.buffer(remote_buf)
end)

test(':w saves on the remote path (cmp with the expected bytes)', function()
  local s = st()
  vim.cmd('write')
  eq(false, s.dirty, 'dirty after :w')
  local same, why = cmp(file, expected)
  assert(same, 'cmp: ' .. why)
end)

test('follow: an append on the remote side is noticed (tome/didChangeOnDisk)', function()
  local s = st()
  local seen = s.disk_events or 0
  local f = assert(io.open(file, 'ab'))
  f:write('\nappended by the remote test')
  f:close()
  f = assert(io.open(expected, 'ab'))
  f:write('\nappended by the remote test')
  f:close()
  wait_for('the append notification', function()
    return (s.disk_events or 0) > seen
  end)
  vim.cmd('TomeFollow on')
  wait_for('the appended line', function()
    return api.nvim_get_current_line() == 'appended by the remote test'
  end)
  vim.cmd('TomeFollow off')
end)

test('ssh killed mid-session: a clear error, readable buffer, no hang, journal left', function()
  local s = st()
  feed('gg0x')
  local line1 = api.nvim_get_current_line()
  assert(tome.refresh_info(s).dirty, 'dirty')
  vim.wait(600) -- (the journal is synced every 200 ms)
  local first_note = #notes + 1
  vim.uv.kill(assert(client.server_pid(s.doc)), 'sigkill')
  wait_for('the lost-connection message', function()
    for i = first_note, #notes do
      if notes[i].msg:find('connection to .* was lost') then
        return true
      end
    end
  end)
  local msg
  for i = first_note, #notes do
    msg = msg or (notes[i].msg:find('was lost') and notes[i].msg)
  end
  assert(msg:find(':e! reconnects', 1, true) and msg:find('journal', 1, true), msg)
  eq(line1, api.nvim_get_current_line(), 'the buffer keeps its lines')
  local res, err = client.request('tome/info', { doc = s.doc })
  eq(nil, res, 'a request after the drop')
  assert(err.message:find('was lost'), 'the error says why, at once: ' .. vim.inspect(err))
  feed('j') -- (a move does not hang: its refill fails with the same message)
  -- The remote server saw its input end: it exits, leaving the journal and the file.
  wait_for('the remote server to exit', function()
    return vim.system({ 'pgrep', '-f', 'TOME_STATE_DIR=' .. state_dir }):wait().code ~= 0
  end)
  local journals = vim.fn.glob(state_dir .. '/journal/*.journal', false, true)
  eq(1, #journals, 'journals left')
  local same, why = cmp(file, expected)
  assert(same, 'the file is as saved (never half-written): ' .. why)
end)

test(':e! reconnects, the journal is offered and recovered, saved again', function()
  local s0 = st()
  vim.cmd('edit!')
  local s = st()
  assert(s ~= s0 and s.doc ~= s0.doc, 'a new document on a new connection')
  assert(s.recovery and s.recovery.fits, 'recovery offered: ' .. vim.inspect(s.recovery))
  vim.cmd('TomeRecover')
  feed('gg')
  local f = assert(io.open(file, 'rb'))
  eq(f:read('*l'):sub(2), api.nvim_get_current_line(), 'line 1 with the recovered x')
  f:close()
  vim.cmd('write')
  python([[
import sys
p = sys.argv[1]
b = open(p, 'rb').read()
open(p, 'wb').write(b[1:])
]], expected)
  local same, why = cmp(file, expected)
  assert(same, 'cmp after the recovered save: ' .. why)
  eq(local_buf ~= nil, tome.docs[local_buf] ~= nil, 'the local buffer is still open')
end)

log(('%d passed, %d failed'):format(passed, failed))
vim.cmd('qa!')
