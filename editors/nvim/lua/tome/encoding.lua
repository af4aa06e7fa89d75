-- A document's encoding and compression, as Neovim shows them: Vim's encoding names (cp1252,
-- sjis, …) mapped to the WHATWG labels the server takes, `++enc` of `:e` and `:Tome`,
-- `tome/reopenWithEncoding`, the read-only 'fileencoding' and 'bomb', the status line's part,
-- and compressed documents (read-only, not modifiable, "[gz]"/"[zst]"). See docs/protocol.md
-- "Files that are not UTF-8" and "Compressed documents". Requires state, client and window.
local state = require('tome.state')
local client = require('tome.client')
local W = require('tome.window')
local api = vim.api

local M = {}

-- Vim's encoding names (|encoding-names|, and their usual aliases) -> WHATWG labels. A name
-- not here goes to the server as it is (it knows every WHATWG label: "windows-1251", "euc-kr"…).
local to_label = {
  ['utf-8'] = 'utf-8',
  utf8 = 'utf-8',
  latin1 = 'windows-1252', -- (WHATWG reads ISO-8859-1 as windows-1252, its superset)
  ['iso-8859-1'] = 'windows-1252',
  ansi = 'windows-1252',
  sjis = 'shift_jis',
  cp932 = 'shift_jis',
  ['shift-jis'] = 'shift_jis',
  ['euc-jp'] = 'euc-jp',
  ['euc-kr'] = 'euc-kr',
  cp949 = 'euc-kr',
  gbk = 'gbk',
  cp936 = 'gbk',
  ['euc-cn'] = 'gbk',
  gb2312 = 'gbk',
  gb18030 = 'gb18030',
  big5 = 'big5',
  cp950 = 'big5',
  cp866 = 'ibm866',
  cp874 = 'windows-874',
  macroman = 'macintosh',
  mac = 'macintosh',
  ['koi8-r'] = 'koi8-r',
  ['koi8-u'] = 'koi8-u',
  ['utf-16'] = 'utf-16be', -- (Vim's utf-16 is big-endian; the server refuses UTF-32: -33022)
  ['utf-16le'] = 'utf-16le',
  ['ucs-2'] = 'utf-16be',
  ['ucs-2le'] = 'utf-16le',
  binary = 'binary',
}
for n = 1250, 1258 do
  to_label['cp' .. n] = 'windows-' .. n
end

-- The server's encoding names (`encoding` of tome/info) -> Vim's name for 'fileencoding'.
local to_vim = {
  ['utf-8'] = 'utf-8',
  ['utf-8-bom'] = 'utf-8',
  binary = '',
  shift_jis = 'sjis',
  gbk = 'cp936',
  big5 = 'big5',
  ['euc-jp'] = 'euc-jp',
  ['euc-kr'] = 'euc-kr',
  gb18030 = 'gb18030',
  ibm866 = 'cp866',
  ['windows-874'] = 'cp874',
  macintosh = 'macroman',
}

--- The names `:Tome ++enc=` completes.
M.names = { 'utf-8', 'latin1', 'cp1250', 'cp1251', 'cp1252', 'cp1253', 'cp1254', 'cp1255', 'cp1256', 'cp1257',
  'cp1258', 'iso-8859-2', 'iso-8859-5', 'iso-8859-7', 'iso-8859-15', 'koi8-r', 'koi8-u', 'cp866', 'sjis', 'euc-jp',
  'euc-kr', 'cp936', 'gb18030', 'big5', 'macroman', 'binary' }

--- The WHATWG label for Vim encoding name `name` (case-insensitive; unknown names as they are).
function M.label(name)
  name = name:lower()
  return to_label[name] or name
end

--- Vim's name of the server's encoding `enc` ("windows-1252" -> "cp1252", "Shift_JIS" -> "sjis").
function M.vim_name(enc)
  if type(enc) ~= 'string' then
    return 'utf-8'
  end
  local e = enc:lower()
  return to_vim[e] or e:match('^windows%-(%d+)$') and 'cp' .. e:match('^windows%-(%d+)$') or e
end

--- The encoding named by `++enc={name}` (or `++bin`) in `cmdarg` (a command's `v:cmdarg`,
--- or `:Tome`'s arguments), or nil, and `cmdarg` without it.
function M.parse(cmdarg)
  local name = cmdarg:match('%+%+enc=(%S+)') or cmdarg:match('%+%+encoding=(%S+)')
  if not name and cmdarg:match('%+%+bin%f[%A]') then
    name = 'binary'
  end
  local rest = cmdarg:gsub('%+%+%a+=?%S*', ''):gsub('^%s+', ''):gsub('%s+$', '')
  return name, rest
end

---@param st Tome.BufState
local function compression(st)
  return st.info and st.info.compression
end

local marker = { gzip = '[gz]', zstd = '[zst]' }

--- The status line's words for `st`: "cp1252", "utf-8 [BOM]", "utf-8 [gz] [RO]".
---@param st Tome.BufState
function M.status(st)
  local info = st.info or {}
  local enc = info.encoding
  local s = enc == 'binary' and 'binary' or M.vim_name(enc)
  if enc == 'utf-8-bom' then
    s = s .. ' [BOM]'
  end
  local c = compression(st)
  if c then
    s = s .. ' ' .. (marker[c] or '[' .. c .. ']')
    if info.compressionError then
      s = s .. ' [damaged]'
    end
  end
  if vim.bo[st.buf].readonly then
    s = s .. ' [RO]'
  end
  return s
end

-- Sets a buffer option as Tome itself (the OptionSet guard below lets it pass).
local setting = false
local function set(buf, name, value)
  setting = true
  pcall(api.nvim_set_option_value, name, value, { buf = buf })
  setting = false
end

--- Makes the buffer's options say what the server says of its file: 'fileencoding' and
--- 'bomb' (what a save writes: the file's own bytes, in its own encoding), and for a compressed
--- file 'readonly' and 'nomodifiable'. Called when a document is attached and after a reopen.
---@param st Tome.BufState
function M.apply(st)
  local buf, info = st.buf, st.info or {}
  -- ('fileencoding' cannot be set in a buffer that is not modifiable)
  set(buf, 'modifiable', true)
  set(buf, 'fileencoding', M.vim_name(info.encoding))
  set(buf, 'bomb', info.encoding == 'utf-8-bom')
  if compression(st) then
    set(buf, 'readonly', true)
    set(buf, 'modifiable', false)
  end
  -- (a buffer whose 'fileencoding' changed counts as modified: this one is what was read)
  if not st.dirty then
    set(buf, 'modified', false)
  end
end

--- 'fileencoding' and 'bomb' show the file's encoding; setting them would mean "convert on
--- the next write", which Tome does not do (a save writes the file's bytes, and edits in its
--- own encoding). They are put back, and the user told how to read the file in another one.
local function option_set(a)
  if setting then
    return
  end
  local buf = api.nvim_get_current_buf()
  local st = state.docs[buf]
  if not st or vim.v.option_command == 'setglobal' then
    return
  end
  local want = a.match == 'fileencoding' and M.vim_name((st.info or {}).encoding)
    or (st.info or {}).encoding == 'utf-8-bom'
  if vim.bo[buf][a.match] == want then
    return
  end
  set(buf, a.match, want)
  if not st.dirty then
    set(buf, 'modified', false)
  end
  api.nvim_echo({ {
    ("Tome: '%s' shows the file's encoding and cannot convert it (saves write it as it is); "
      .. 'to read the file in another encoding: :Tome ++enc={name}'):format(a.match),
    'ErrorMsg',
  } }, true, {})
end

api.nvim_create_autocmd('OptionSet', {
  group = api.nvim_create_augroup('tome_encoding', { clear = true }),
  pattern = { 'fileencoding', 'bomb' },
  callback = option_set,
})

local function err(msg)
  api.nvim_echo({ { msg, 'ErrorMsg' } }, true, {})
  return false
end

--- The message for a refused `encoding` (of tome/open or tome/reopenWithEncoding), or nil.
function M.error_message(name, e)
  if type(e) ~= 'table' then
    return nil
  end
  if e.code == -32602 then
    return ('Tome: unknown encoding: %s (Vim names such as cp1252, latin1, sjis, cp936, big5, or WHATWG labels)')
      :format(name)
  elseif e.code == -33022 then
    return 'Tome: ' .. tostring(e.message)
  end
  return nil
end

--- `:Tome[!] ++enc={name}` in a Tome buffer: reads the same file in another encoding
--- (tome/reopenWithEncoding: the window, undo history and bookmarks stay). Refused with Vim's
--- E37 while there are unsaved changes (their text was written in the old encoding), unless
--- `bang`: then they are dropped first (tome/reload).
---@param st Tome.BufState
function M.reopen(st, name, bang)
  if st.flush_edits then
    st.flush_edits()
  end
  vim.wait(2000, function()
    return (st.edits_in_flight or 0) == 0
  end, 5)
  if (st.dirty or vim.bo[st.buf].modified) and not bang then
    return err('E37: No write since last change (add ! to override)')
  end
  local label = M.label(name)
  local line = api.nvim_get_current_buf() == st.buf and st.base and W.cursor_line(st)
  if st.dirty or vim.bo[st.buf].modified then
    local info, e = client.request('tome/reload', { doc = st.doc })
    if not info then
      return client.error('reloading', e)
    end
    state.take_info(st, info)
    st.undo_positions = nil
  end
  local info, e = client.request('tome/reopenWithEncoding', { doc = st.doc, encoding = label })
  if not info then
    if type(e) == 'table' and e.code == -33023 then
      return err('E37: No write since last change (add ! to override)')
    end
    local msg = M.error_message(name, e)
    if msg then
      return err(msg)
    end
    return client.error('reading in ' .. name, e)
  end
  state.take_info(st, info)
  vim.b[st.buf].tome_encoding = st.path and { path = st.path, label = label } or nil -- (for `:e!`)
  M.apply(st)
  if line then
    W.jump(st, line, 'center', true)
  else
    W.fill(st, st.base or 0)
  end
  vim.cmd('redrawstatus!')
  local file = st.path and vim.fn.fnamemodify(st.path, ':~:.') or api.nvim_buf_get_name(st.buf)
  api.nvim_echo({ { ('"%s" read as %s (Tome)'):format(file, M.status(st)) } }, true, {})
  return true
end

--- `:w` of a compressed document onto its own file: refused with a clear message (nothing is
--- sent). `:w {file}` to another name writes a copy (see edit.lua's write), so is not refused.
---@param st Tome.BufState
---@param target string|nil the file written, as BufWriteCmd resolved it
function M.refuse_write(st, target)
  local c = compression(st)
  if not c then
    return false
  end
  if target and st.path and vim.fn.fnamemodify(target, ':p') ~= st.path then
    return false
  end
  local file = st.path and vim.fn.fnamemodify(st.path, ':~:.') or api.nvim_buf_get_name(st.buf)
  return not err(('Tome: "%s" is %s-compressed and open read-only: it cannot be written (:w {file} writes a copy)')
    :format(file, c))
end

return M
