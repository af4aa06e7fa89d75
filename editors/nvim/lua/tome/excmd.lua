-- Ex commands on the whole file. The buffer holds a window of the file, so Neovim's own `:s`,
-- `:g`, `:d`… would act on the window only (or fail with E16 on a range outside it). The
-- cmdline <CR> of a Tome buffer (keymaps.lua) hands the typed line to `X.parse`; the commands
-- it knows run here, on file lines, through the server:
--
--   :[range]s/pat/rep/[&cegiInI]   tome/replaceAll over the range's lines (one undo step)
--   :[range]g/pat/d, :v/pat/d, :g!/pat/d      tome/deleteLines
--   :[range]g/pat/s//rep/[g]       as :[range]s/pat/rep/[g] (the lines :g marks are those :s changes)
--   :[range]d [x], :[range]y [x]   one edit / tome/getText (registers: up to X.budget bytes)
--   :[range]m {address}, :[range]t {address} (:co), :[range]j[!], :[range]> and <,
--   :[range]sort [!] [i] [n] [u] [r]      read the lines (up to X.budget bytes), one edit
--
-- Ranges: N, ., $, %, 'x (a mark in the window), /pat/ and ?pat? (searched in the whole file),
-- each with +N / -N offsets, joined by , or ;. Patterns are Vim's (tome.vimregex translates
-- them; what the server cannot match is refused with a message naming it). Anything else on
-- the command line runs as Neovim's own command.
-- Requires client, window, marks, vimregex, bytes.
local client = require('tome.client')
local W = require('tome.window')
local undopos = require('tome.undopos')
local marks = require('tome.marks')
local vimregex = require('tome.vimregex')
local bytes = require('tome.bytes')
local api = vim.api

local X = {}

--- Commands that read the lines into Neovim (:m, :t, :j, :>, :sort, yanks) refuse ranges
--- larger than this many bytes: the buffer and Neovim's memory stay small.
X.budget = 16 * 1024 * 1024

--- The previous substitute string (for `~` in patterns and replacements), and the last :s
--- (for its `&` flag).
X.last_sub = nil
X.last_flags = ''

local function err(msg)
  api.nvim_echo({ { msg, 'ErrorMsg' } }, true, {})
  return false
end

--- The query for Vim pattern `pat` (the last search pattern when empty), or nil and a message.
local function query(pat, opts)
  if pat == '' then
    pat = vim.fn.getreg('/')
    if pat == '' then
      return nil, 'E35: No previous regular expression'
    end
  end
  local q, why = vimregex.pattern(pat, vim.tbl_extend('keep', opts or {}, { previous_sub = X.last_sub }))
  if not q then
    return nil, 'Tome: ' .. why
  end
  return q, nil, pat
end

-- Reads a delimited field starting at position i of s (after the delimiter): up to the next
-- unescaped `delim`. Returns the field (escapes kept, `\delim` made plain) and the position
-- after the closing delimiter (or past the end).
local function field(s, i, delim)
  local out = {}
  while i <= #s do
    local c = s:sub(i, i)
    if c == '\\' and i < #s then
      local n = s:sub(i + 1, i + 1)
      out[#out + 1] = n == delim and n or (c .. n)
      i = i + 2
    elseif c == delim then
      return table.concat(out), i + 1
    else
      out[#out + 1] = c
      i = i + 1
    end
  end
  return table.concat(out), i
end

-- The line (0-based) of the next match of `pat` after line `from` (`backward`: before it),
-- wrapping as 'wrapscan' says. nil and a message when there is none.
local function search_line(st, pat, from, backward)
  local q, why = query(pat)
  if not q then
    return nil, why
  end
  local position = backward and { line = from, character = 0 } or { line = from + 1, character = 0 }
  local last = W.last_line(st, true) or from
  if not backward and from + 1 > last then
    position = { line = 0, character = 0 }
  end
  local res, e = client.request('tome/search', {
    doc = st.doc,
    query = q,
    mode = 'next',
    from = { position = position },
    direction = backward and 'backward' or 'forward',
    wrap = vim.o.wrapscan,
  }, 24 * 3600 * 1000)
  if not res then
    return nil, 'Tome: search failed: ' .. ((e and e.message) or '?')
  end
  if not res.found then
    return nil, 'E486: Pattern not found: ' .. pat
  end
  local m = res.found
  if m.range then
    return m.range.start.line
  end
  return W.line_of_offset(st, m.offsets.start)
end

-- One address at position i: returns the line (0-based; may be out of bounds), the position
-- after it, or nil, i when there is none, or false, message on error.
local function address(st, s, i, cur)
  local line
  local c = s:sub(i, i)
  if c:match('%d') then
    local n = s:match('^%d+', i)
    line, i = tonumber(n) - 1, i + #n
  elseif c == '.' then
    line, i = cur, i + 1
  elseif c == '$' then
    line, i = W.last_line(st, true), i + 1
    if not line then
      return false, 'Tome: the line count is not known'
    end
  elseif c == "'" then
    local mark = marks.get(st, s:sub(i + 1, i + 1))
    if not mark then
      return false, 'E20: Mark not set'
    end
    line, i = mark, i + 2
  elseif c == '/' or c == '?' then
    local pat
    pat, i = field(s, i + 1, c)
    local found, why = search_line(st, pat, cur, c == '?')
    if not found then
      return false, why
    end
    line = found
    if pat ~= '' then
      vim.fn.setreg('/', pat)
    end
  end
  -- Offsets: +N, -N, + and - alone (1), also after nothing (relative to the current line).
  while true do
    local sign = s:sub(i, i)
    if sign ~= '+' and sign ~= '-' then
      break
    end
    local n = s:match('^%d+', i + 1)
    local amount = n and tonumber(n) or 1
    line = (line or cur) + (sign == '+' and amount or -amount)
    i = i + 1 + (n and #n or 0)
  end
  if line == nil then
    return nil, i
  end
  return line, i
end

--- Parses the range at the start of `s`: returns {first, last} (0-based lines; nil when the
--- command has no range), the rest of the line, or nil and a message.
local function range(st, s)
  local cur = W.cursor_line(st)
  local i = #s:match('^[%s:]*') + 1
  if s:sub(i, i) == '%' then
    local last = W.last_line(st, true)
    if not last then
      return nil, 'Tome: the line count is not known'
    end
    return { 0, last }, s:sub(i + 1)
  end
  local lines = {}
  while true do
    local line, after = address(st, s, i, cur)
    if line == false then
      return false, after
    end
    i = after
    local sep = s:sub(i, i)
    if sep == ',' or sep == ';' then
      lines[#lines + 1] = line or cur
      if sep == ';' then
        cur = line or cur
      end
      i = i + 1
    else
      if line then
        lines[#lines + 1] = line
      elseif #lines > 0 then
        lines[#lines + 1] = cur -- `1,` is `1,.`
      end
      break
    end
  end
  local rest = s:sub(i)
  if #lines == 0 then
    return nil, rest
  end
  local first, last = lines[#lines - 1] or lines[#lines], lines[#lines]
  local max = W.last_line(st, true) or last
  if first < 0 or last < 0 or first > max or last > max then
    return false, 'E16: Invalid range'
  end
  if first > last then
    first, last = last, first -- Vim asks "Backwards range given, OK to swap"; swap
  end
  return { first, last }, rest
end

-- Byte offset where line l starts (l past the last line: the document's size).
local function line_offset(st, l)
  local last = W.last_line(st, true)
  if last and l > last then
    local info = client.refresh_info(st)
    return info and info.size
  end
  local res = client.request('tome/viewport', { doc = st.doc, first = l, count = 1 })
  return res and res.lines[1] and res.lines[1].offset
end

X.line_offset = line_offset

-- The bytes of lines [first, last] (with their line breaks) and their offsets; or nil, a
-- message and the offsets (when known) when they cannot be read into Neovim.
local function read_lines(st, first, last)
  local a, b = line_offset(st, first), line_offset(st, last + 1)
  if not a or not b then
    return nil, 'Tome: cannot read the lines'
  end
  if b - a > X.budget then
    local msg = 'Tome: lines %d-%d hold %d MiB; this command reads them into Neovim, which Tome limits to %d MiB'
    return nil, msg:format(first + 1, last + 1, math.floor((b - a) / 1048576), X.budget / 1048576), a, b
  end
  local res, e = client.request(
    'tome/getText',
    { doc = st.doc, offsets = { start = a, ['end'] = b }, maxBytes = X.budget, rawBytes = true }
  )
  if not res then
    return nil, 'Tome: ' .. ((e and e.message) or 'cannot read the lines'), a, b
  end
  -- The exact bytes (invalid UTF-8 included), as Neovim's own commands would see them.
  local text = bytes.of_text(res)
  if not text then
    return nil, 'Tome: lines with invalid UTF-8 cannot be read into Neovim by this command', a, b
  end
  return text, nil, a, b
end

-- The edit that replaces bytes [a, b) with `text` exactly (base64 when not valid UTF-8).
local function replace(a, b, text)
  local e = bytes.insert(text)
  e.offsets = { start = a, ['end'] = b }
  return e
end

-- Sends one batch of edits (offsets) as one change; refreshes the window and puts the cursor
-- on `line` (0-based), first non-blank.
local function apply(st, edits, line)
  local res, e = client.request('tome/edit', { doc = st.doc, version = st.version, edits = edits })
  if not res then
    return err('Tome: ' .. ((e and e.message) or 'the change was refused'))
  end
  st.version, st.dirty = res.version, true
  X.land(st, line)
  return true
end

--- After a change made on the server (`unchanged`: a command that changed nothing): read the
--- window again and put the cursor on `line` (clamped to the file), at its first non-blank,
--- as Vim's line commands do.
function X.land(st, line, unchanged)
  if not unchanged then
    undopos.changed(st, nil, st.command_cursor)
  end
  st.last = nil
  local info = client.refresh_info(st)
  if info then
    st.dirty = info.dirty
    st.version = info.version
  end
  local last = W.last_line(st, true) or 0
  line = math.max(0, math.min(line, last))
  W.jump(st, line, nil, true)
  vim.cmd('keepjumps normal! ^')
  vim.bo[st.buf].modified = st.dirty
end

local function report(n, what)
  if n > vim.o.report then
    api.nvim_echo({ { what } }, false, {})
  end
end

-- :s ----------------------------------------------------------------------------------------

local function substitute(st, r, rest)
  local delim = rest:sub(1, 1)
  local pat, rep, flags
  if delim == '' or delim:match('[%w%s"|]') then
    return err('Tome: only :s/pattern/replacement/flags is supported on the whole file')
  end
  local i
  pat, i = field(rest, 2, delim)
  rep, i = field(rest, i, delim)
  flags = rest:sub(i):match('^%s*(.-)%s*$')
  if flags:sub(1, 1) == '&' then
    flags = X.last_flags .. flags:sub(2)
  end
  local count = flags:match('%d+$')
  if count then
    -- :s/a/b/ N: N lines from the range's last line
    flags = flags:sub(1, -#count - 1):match('^(.-)%s*$')
    r = { r[2], r[2] + tonumber(count) - 1 }
  end
  if flags:find('[^&cegiInpl#r]') then
    return err('E488: Trailing characters: ' .. flags)
  end
  if flags:find('c') then
    return err('Tome: the c flag (confirm each) is not supported on the whole file')
  end
  local opts = {}
  if flags:find('i') then
    opts.ignorecase, opts.smartcase = true, false
  elseif flags:find('I') then
    opts.ignorecase = false
  end
  local q, why, typed = query(pat, opts)
  if not q then
    return err(why)
  end
  local brk = ({ lf = '\n', crlf = '\r\n', cr = '\r' })[st.line_ending] or '\n'
  local replacement, rwhy = vimregex.substitute(rep, { previous_sub = X.last_sub, eol = brk })
  if not replacement then
    return err('Tome: ' .. rwhy)
  end
  X.last_sub, X.last_flags = rep, flags:gsub('[&n]', '')
  vim.fn.setreg('/', typed)
  vim.fn.histadd('/', typed)
  local a, b = line_offset(st, r[1]), line_offset(st, r[2] + 1)
  if not a or not b then
    return err('Tome: cannot read the range')
  end
  local dry = flags:find('n') ~= nil
  local res, e = client.request('tome/replaceAll', {
    doc = st.doc,
    version = st.version,
    query = q,
    replacement = replacement,
    offsets = { start = a, ['end'] = b },
    perLine = flags:find('g') and 'all' or 'first',
    dryRun = dry,
    workDoneToken = 'tome/replace/' .. st.doc,
  }, 24 * 3600 * 1000)
  if not res then
    return err('Tome: ' .. ((e and e.message) or 'the substitution failed'))
  end
  if res.count == 0 then
    if flags:find('e') then
      return true
    end
    return err('E486: Pattern not found: ' .. typed)
  end
  local plural = function(n, one, many)
    return n == 1 and one or many
  end
  if dry then
    report(res.count, ('%d %s on %d %s'):format(res.count, plural(res.count, 'match', 'matches'), res.lines,
      plural(res.lines, 'line', 'lines')))
    return true
  end
  -- Vim leaves the cursor on the last line it changed (the server says which).
  local line = res.lastLine or r[2]
  X.land(st, line)
  report(res.count, ('%d %s on %d %s'):format(res.count, plural(res.count, 'substitution', 'substitutions'), res.lines,
    plural(res.lines, 'line', 'lines')))
  return true
end

-- :g and :v ---------------------------------------------------------------------------------

local function global(st, r, rest, invert)
  local delim = rest:sub(1, 1)
  if delim == '' or delim:match('[%w%s"|\\]') then
    return err('E476: Invalid command')
  end
  local pat, i = field(rest, 2, delim)
  local cmd = rest:sub(i):match('^%s*(.-)%s*$')
  r = r or { 0, W.last_line(st, true) or 0 }
  if cmd == 'd' or cmd == 'de' or cmd == 'del' or cmd == 'delete' then
    local q, why, typed = query(pat)
    if not q then
      return err(why)
    end
    vim.fn.setreg('/', typed)
    local a, b = line_offset(st, r[1]), line_offset(st, r[2] + 1)
    local res, e = client.request('tome/deleteLines', {
      doc = st.doc,
      version = st.version,
      query = q,
      invert = invert,
      offsets = { start = a, ['end'] = b },
      workDoneToken = 'tome/delete/' .. st.doc,
    }, 24 * 3600 * 1000)
    if not res then
      return err('Tome: ' .. ((e and e.message) or ':g failed'))
    end
    if res.count == 0 then
      return err((invert and 'Pattern found in every line: ' or 'Pattern not found: ') .. typed)
    end
    -- Vim's :g leaves the cursor on the line after the last one deleted (the server says
    -- which line now stands there).
    local line = res.lastLine or r[1]
    X.land(st, line)
    report(res.count, ('%d fewer lines'):format(res.count))
    return true
  end
  -- :g/pat/s//rep/[g]: the lines :g marks are the lines on which :s/pat/ matches.
  local s_rest = not invert and cmd:match('^s(/.*)$')
  if s_rest then
    local spat = s_rest:match('^/(.-)/')
    if spat == '' or spat == pat then
      return substitute(st, r, '/' .. pat .. s_rest:sub(2 + #spat))
    end
  end
  return err('Tome: on the whole file, :g and :v run only d and s//repl/ (not "' .. cmd .. '")')
end

-- Line commands that read the lines -----------------------------------------------------------

local function split_lines(text)
  local lines = vim.split(text, '\n', { plain = true })
  if lines[#lines] == '' then
    lines[#lines] = nil
  end
  return lines
end

local function delete(st, r, rest, yank_only)
  local reg = rest:match('^%s*([%a"%-*+_])') or '"'
  local text, why, a, b
  local C = require('tome.clips')
  if reg == '_' or C.eligible(reg) then
    -- (the black hole reads nothing; a big register is kept by the server: clips.lua)
    a, b = line_offset(st, r[1]), line_offset(st, r[2] + 1)
  end
  local clip = a and b and reg ~= '_' and C.wanted(reg, a, b)
  if clip then
    local ok, msg = C.take(st, a, b, r[1], r[2], reg, yank_only)
    if not ok then
      return err(msg)
    end
  elseif reg ~= '_' then
    text, why, a, b = read_lines(st, r[1], r[2])
  end
  if not a or not b or (why and yank_only) then
    return err(why or 'Tome: cannot read the lines')
  elseif why then
    -- Too big for a register: delete anyway (the register keeps its old content).
    api.nvim_echo({ { why .. '; not put in a register', 'WarningMsg' } }, true, {})
  end
  if text then
    local lines = split_lines(text)
    if reg ~= '_' then
      vim.fn.setreg(reg, lines, 'l')
      if reg == '"' then
        vim.fn.setreg(yank_only and '0' or '1', lines, 'l')
      end
    end
  end
  local n = r[2] - r[1] + 1
  if yank_only then
    report(n, ('%d lines yanked'):format(n))
    return true
  end
  if apply(st, { { offsets = { start = a, ['end'] = b }, text = '' } }, r[1]) then
    report(n, ('%d fewer lines'):format(n))
  end
  return true
end

local function put_lines(st, r, new_lines, line)
  local text, why, a, b = read_lines(st, r[1], r[2])
  if not text then
    return err(why)
  end
  local ends = text:sub(-1) == '\n'
  local out = table.concat(new_lines, '\n') .. (ends and '\n' or '')
  return apply(st, { replace(a, b, out) }, line)
end

local function transform(st, r, fn, line)
  local text, why = read_lines(st, r[1], r[2])
  if not text then
    return err(why)
  end
  local lines = split_lines(text)
  local out, cursor = fn(lines)
  if not out then
    return false
  end
  return put_lines(st, r, out, line or cursor or r[1])
end

local function join(st, r, bang)
  if r[1] == r[2] then
    r = { r[1], r[1] + 1 }
  end
  local last = W.last_line(st, true) or r[2]
  r[2] = math.min(r[2], last)
  return transform(st, r, function(lines)
    local out = lines[1]
    for k = 2, #lines do
      local nxt = lines[k]
      if bang then
        out = out .. nxt
      else
        nxt = nxt:gsub('^%s+', '')
        if nxt == '' then -- luacheck: ignore 542 (nothing to add)
        elseif out:match('%s$') or out == '' or nxt:sub(1, 1) == ')' then
          out = out .. nxt
        else
          out = out .. ' ' .. nxt
        end
      end
    end
    return { out }
  end, r[1])
end

local function shift(st, r, amount)
  local sw = vim.fn.shiftwidth()
  local ts = vim.bo[st.buf].tabstop
  return transform(st, r, function(lines)
    for k, l in ipairs(lines) do
      if l ~= '' then
        local indent = l:match('^[ \t]*')
        local width = vim.fn.strdisplaywidth(indent)
        local new = math.max(0, width + amount * sw)
        local ws
        if vim.bo[st.buf].expandtab then
          ws = string.rep(' ', new)
        else
          ws = string.rep('\t', math.floor(new / ts)) .. string.rep(' ', new % ts)
        end
        lines[k] = ws .. l:sub(#indent + 1)
      end
    end
    return lines
  end, r[2])
end

local function sort(st, r, args)
  local bang = args:match('^!') ~= nil
  local opts = args:gsub('^!', '')
  if opts:find('[^%sinur]') then
    return err('Tome: :sort on the whole file takes only !, i, n, u and r')
  end
  return transform(st, r, function(lines)
    local keyed = {}
    for k, l in ipairs(lines) do
      local key = l
      if opts:find('n') then
        local n = l:match('%-?%d+')
        key = n and tonumber(n) or -math.huge
      elseif opts:find('i') then
        key = l:lower()
      end
      keyed[k] = { key = key, line = l, pos = k }
    end
    table.sort(keyed, function(x, y)
      if x.key ~= y.key then
        if bang then
          return x.key > y.key
        end
        return x.key < y.key
      end
      return x.pos < y.pos -- stable, as Vim's sort
    end)
    local out, prev = {}, nil
    for _, e in ipairs(keyed) do
      if not opts:find('u') or prev == nil or e.key ~= prev then
        out[#out + 1] = e.line
      end
      prev = e.key
    end
    return out
  end, r[1])
end

local function move(st, r, rest, copy)
  local to_s = rest:match('^%s*(.-)%s*$')
  if to_s == '' then
    return err('E14: Invalid address')
  end
  local dest
  if to_s == '0' then
    dest = -1
  else
    local dr, why = range(st, to_s)
    if not dr then
      return err(why or 'E14: Invalid address')
    end
    dest = dr[2]
  end
  if not copy and dest >= r[1] and dest < r[2] then
    return err('E134: Cannot move a range of lines into itself')
  end
  if not copy and (dest == r[2] or dest == r[1] - 1) then
    X.land(st, r[2], true) -- a move to where the lines are: no change
    return true
  end
  local text, why, a, b = read_lines(st, r[1], r[2])
  if not text then
    return err(why)
  end
  if text:sub(-1) ~= '\n' then
    return err('Tome: moving or copying the last line of a file without a final line break is not supported')
  end
  local at = line_offset(st, dest + 1)
  if not at then
    return err('Tome: cannot read the destination')
  end
  local insert = text
  local info = client.refresh_info(st)
  if info and at == info.size and at > 0 then
    -- After a last line without a line break: put one before the moved lines.
    local lastl = client.request('tome/viewport', { doc = st.doc, first = dest, count = 1 })
    if lastl and lastl.lines[1] and lastl.lines[1].breakLength == 0 then
      insert = '\n' .. text:sub(1, -2)
    end
  end
  local edits = { replace(at, at, insert) }
  local n = r[2] - r[1] + 1
  local landing
  if copy then
    landing = dest + n
  else
    table.insert(edits, at <= a and 2 or 1, { offsets = { start = a, ['end'] = b }, text = '' })
    landing = dest < r[1] and dest + n or dest
  end
  -- (edits must be in document order)
  table.sort(edits, function(x, y)
    return x.offsets.start < y.offsets.start
  end)
  return apply(st, edits, landing)
end

-- Dispatch ----------------------------------------------------------------------------------

--- Whether the plugin runs the command line `line` itself (checked in the cmdline <CR>
--- mapping, so without any request): a command this module knows, with or without a range.
function X.handles(line)
  local s = line:gsub('^[%s:]+', '')
  -- Skip a range made of addresses (it may hold patterns: skip delimited ones).
  local i = 1
  while i <= #s do
    local c = s:sub(i, i)
    if c == '/' or c == '?' then
      local _, after = field(s, i + 1, c)
      i = after
    elseif c == "'" then
      i = i + 2
    elseif c:match('[%d%.%$%%,;+%- ]') then
      i = i + 1
    else
      break
    end
  end
  local cmd = s:sub(i)
  return cmd:match('^s[^%a]') ~= nil
    or cmd:match('^su?b?s?t?i?t?u?t?e?/') ~= nil
    or cmd:match('^g!?[^%a]') ~= nil
    or cmd:match('^v[^%a]') ~= nil
    -- (a register after a space: `:di` is :display, not :d i)
    or cmd:match('^de?l?e?t?e?%s*$') ~= nil or cmd:match('^de?l?e?t?e?%s+[%a"_*+-]%s*$') ~= nil
    or cmd:match('^ya?n?k?%s*$') ~= nil or cmd:match('^ya?n?k?%s+[%a"_*+-]%s*$') ~= nil
    or cmd:match("^m[%s%d%$%.'+-]") ~= nil or cmd:match('^mo?v?e?%s') ~= nil
    or cmd:match("^t[%s%d%$%.'+-]") ~= nil
    or cmd:match('^co?p?y?%s') ~= nil
    or cmd:match('^j!?%s*$') ~= nil or cmd:match('^joi?n?!?%s*$') ~= nil
    or cmd:match('^[<>]+%s*$') ~= nil
    or cmd:match('^sort?!?%s*[inur%s]*$') ~= nil
end

local run

--- Runs ex command `line` (one that X.handles) on the whole file of `st`. Returns false after
--- an error.
---@param st Tome.BufState
function X.run(st, line)
  -- Ranges are real line numbers: an estimated window (window.lua) waits for the index first.
  if not W.exact(st, 'for :' .. line:gsub('^[%s:]+', '')) then
    return false
  end
  -- The cursor before the command goes with its undo step (undopos.lua).
  local cur = api.nvim_win_get_cursor(0)
  st.command_cursor = { W.cursor_line(st), cur[2] }
  local ok, e = pcall(run, st, line)
  st.command_cursor = nil
  if not ok then
    error(e, 0)
  end
  return e
end

run = function(st, line)
  local r, rest = range(st, line)
  if r == false then
    return err(rest)
  end
  rest = rest:gsub('^%s+', '')
  local cur = W.cursor_line(st)
  local here = r or { cur, cur }
  local name, args = rest:match('^(%a+)(.*)$')
  if not name then
    name, args = rest:match('^([<>]+)(.*)$')
  end
  if rest:match('^g!') then
    return global(st, r, rest:sub(3), true)
  end
  if name == 'g' or name == 'global' then
    return global(st, r, args, false)
  elseif name == 'v' or name == 'vglobal' then
    return global(st, r, args, true)
  elseif name and name:match('^s') and ('substitute'):sub(1, #name) == name then
    return substitute(st, here, args)
  elseif name and ('delete'):sub(1, #name) == name and #name >= 1 then
    return delete(st, here, args, false)
  elseif name and ('yank'):sub(1, #name) == name then
    return delete(st, here, args, true)
  elseif name == 'm' or (name and ('move'):sub(1, #name) == name and #name >= 1) then
    return move(st, here, args, false)
  elseif name == 't' or (name and #name >= 2 and ('copy'):sub(1, #name) == name) then
    return move(st, here, args, true)
  elseif name and ('join'):sub(1, #name) == name then
    return join(st, here, args:match('^!') ~= nil)
  elseif name and name:match('^[<>]+$') then
    local n = #name
    return shift(st, here, name:sub(1, 1) == '>' and n or -n)
  elseif name and #name >= 3 and ('sort'):sub(1, #name) == name then
    return sort(st, r or { 0, W.last_line(st, true) or 0 }, args)
  end
  return err('E492: Not an editor command: ' .. line)
end

return X
