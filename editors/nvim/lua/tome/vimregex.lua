-- Vim patterns -> the server's regexes. Users type Vim syntax (`/foo\|bar`, `:s/\(a\)/\1/`);
-- `tome serve` matches with Rust's `regex` crate (multi-line and CRLF mode, a lazy DFA: no
-- look-around, no backreferences; docs/protocol.md "tome/search"). This module translates a
-- typed pattern into such a query, and a `:s` replacement into the crate's `$1` syntax, or
-- refuses with a message naming the construct it cannot express. Pure: requires nothing.
--
-- Supported: 'magic' and \v \m \M \V (anywhere, from there on); \c \C (anywhere); ^ and $
-- where Vim treats them as special (else literal), \_^ \_$, \%^; . \_. ~; \( \) \%( \) \|;
-- * \+ \= \? \{n,m} \{-n,m} and their short forms; \< \>; [...] collections (ranges, ^,
-- [:alpha:]-style classes, [.a.], \e \t \r \b \n \\ \] \^ \- \d123 \o40 \x20 \u20AC \U...),
-- \_[...]; \n; \s \S \d \D \w \W \a \A \l \L \u \U \x \X \o \O \h \H and their \_ forms;
-- \e \t \r \b; \%d123 \%o40 \%x2a \%u20AC \%U1F600; \i \I \k \K \f \F \p \P with the default
-- 'isident', 'iskeyword', 'isfname', 'isprint' (below).
--
-- Refused (nil, message): \zs \ze (a match's bounds would need look-around), \& (branch-and),
-- \@= \@! \@<= \@<! \@> (look-around), \1..\9 and \z( \z1 (backreferences), \%V \%# \%23l
-- \%23c \%23v \%'m \%.l and the < > forms (positions of the window or cursor), \%$ (the end
-- of the last line, before its line break: needs a look-ahead), ~ with no (or an empty)
-- previous substitute string (E33, as in Neovim), \%[...]
-- (optional sequence), \%C \Z (composing characters), [[=a=]] (equivalence classes), and
-- what Vim itself rejects (a multi after nothing, nested multis, unmatched \( \), [z-a]).
-- In replacements: \u \U \l \L \e \E (case conversion) and \= (expressions).
--
-- Accepted differences (also in doc/tome.txt, "tome-patterns"):
-- * Line ends. Vim's buffer has lines; the server has bytes in which LF, CRLF and a lone CR
--   end a line. \n, \_x and \_[...] match any of the three as one line end, and `.`, [^...],
--   \S, \D... never match CR or LF. In a CRLF file this is what Vim with 'ff' dos does; a
--   lone CR inside an LF file is a line end here but a character (^M) for Vim.
-- * \< \> are Rust's \b{start} \b{end}: a word character is a Unicode letter, digit, mark or
--   connector (\w). With the default 'iskeyword' (@,48-57,_,192-255) Vim's words agree on
--   ASCII and on letters; they differ on × ÷ (keyword characters for Vim), on emoji and other
--   symbols (Vim: words of their own class), and on CJK and other scripts, where Vim also
--   starts a word where the script (character class) changes. A changed 'iskeyword' is not
--   followed; nor is it for \k \i \f \p, which assume the defaults.
-- * \k is [0-9A-Za-z_\xC0-\xFF] plus every Unicode \w above U+00FF; \f is the default
--   'isfname' plus everything above U+00FF; \p is \x20-\x7E \xA1-\xFF plus everything above
--   U+00FF (Vim: utf_printable, which excludes a few invisible characters).
-- * Case folding is Unicode simple case folding (Rust), close to Vim's but not identical
--   (e.g. K U+212A KELVIN SIGN matches k).
-- * Empty matches: the server's matches are those of the `regex` crate's iterator. Vim's
--   :s///g stops looking on a line when the previous match ended at its end, or one character
--   before it: it skips a match starting there (`:s/x*/-/g` on "ab" gives "-a-b" in Vim,
--   "-a-b-" here; `n` does find it); the server also matches at
--   the start of the empty last line after a final line break (`^`, `x*`), which Vim's
--   buffer does not have.
-- * Invalid UTF-8 bytes: `.` and classes do not match them (Vim's `.` does).
-- * Vim's NFA engine (the default 'regexpengine') does not always keep the order of
--   alternatives when the first one matches empty: `^\|x` matches "x" at the start of "xy".
--   Tome matches as Vim's backtracking engine does (the empty match).
-- * Repeating a group that can match empty (`\%(.\{-}\|a\)\{-1,}x`, `\<*`) can end matches
--   elsewhere: the engines treat an empty iteration differently. Rare in practice.
-- * :s cannot remove the last line's line break in Vim; tome/replaceAll can (`:s/\n//`).
-- * Vim's classes (\u \l \a ... [:upper:] [:lower:]) ignore 'ignorecase'; they do here too
--   (written as (?-i:...)). A [^...] holding [:upper:] or [:lower:] and other items cannot be
--   written so when ignoring case, and is refused.
-- * Neovim has no API to read the previous substitute string: callers pass it
--   (`opts.previous_sub`) for `~`.
-- * 'smartcase' applies to typed patterns, :s and :g alike (`:help 'smartcase'`); pass
--   `typed = false` for `*`, `#`, `gd`. Uppercase letters count as in Vim's pat_has_uppercase:
--   not in items such as \S, \_X, \%X.
local M = {}

-- Magic levels, as Vim's MAGIC_NONE .. MAGIC_ALL.
local VNOMAGIC, NOMAGIC, MAGIC, VMAGIC = 1, 2, 3, 4

-- A line end, as the protocol counts them (LF, CRLF, lone CR), as one unit.
local NL = '(?:\\r\\n|\\n|\\r)'

-- Characters special to Rust's regex syntax (outside and inside classes: `&&`, `--`, `~~`
-- are class set operations).
local RUST_META = {}
for c in ('\\.+*?()|[]{}^$#&-~'):gmatch('.') do
  RUST_META[c] = true
end

--- Rust regex text for one literal character (a UTF-8 sequence), in or outside a class.
---@param c string
---@return string
local function lit(c)
  if RUST_META[c] then
    return '\\' .. c
  end
  local b = c:byte()
  if #c == 1 and (b < 0x20 or b == 0x7f) then
    return ('\\x{%x}'):format(b)
  end
  return c
end

---@param s string
---@return string
local function lit_string(s)
  local out = {}
  for c in s:gmatch('[%z\1-\127\192-\255][\128-\191]*') do
    out[#out + 1] = lit(c)
  end
  return table.concat(out)
end

--- A code point as Rust regex text (in or outside a class), or nil when it is no character.
---@param n integer
---@return string|nil
local function codepoint(n)
  if n > 0x10FFFF or (n >= 0xD800 and n <= 0xDFFF) then
    return nil
  end
  if n == 0 then
    -- Vim keeps NUL as NL in its lines: \%d0 matches a NUL byte, as in the file.
    return '\\x{0}'
  end
  return lit(vim.fn.nr2char(n, true))
end

-- Vim's character classes (`\s` ...) as Rust class contents (without brackets), and whether
-- the uppercase form is the complement. Vim's classes are ASCII (except the 'is...' options,
-- which reach up to 0xFF): Rust's \s \d \w are Unicode, hence the explicit ranges.
local CLASSES = {
  s = ' \\t',
  d = '0-9',
  w = '0-9A-Za-z_',
  a = 'A-Za-z',
  l = 'a-z',
  u = 'A-Z',
  x = '0-9A-Fa-f',
  o = '0-7',
  h = 'A-Za-z_',
  -- The default 'isident' "@,48-57,_,192-255": only up to 0xFF, as vim_isIDc.
  i = '0-9A-Za-z_\\x{C0}-\\x{FF}',
  -- The default 'iskeyword' "@,48-57,_,192-255", and above 0xFF Vim's character classes >= 2
  -- approximated by Unicode \w.
  k = '0-9A-Za-z_\\x{C0}-\\x{FF}[\\w&&[^\\x{0}-\\x{FF}]]',
  -- The default 'isfname' "@,48-57,/,.,-,_,+,,,#,$,%,~,=", and everything above 0xFF.
  f = '0-9A-Za-z/.\\-_+,\\#$%\\~=\\x{C0}-\\x{FF}[^\\x{0}-\\x{FF}]',
  -- The default 'isprint' "@,161-255", and everything above 0xFF.
  p = '\\x{20}-\\x{7E}\\x{A1}-\\x{FF}[^\\x{0}-\\x{FF}]',
}
-- \I \K \F \P are \i \k \f \p without digits (not complements).
local NODIGIT = { i = true, k = true, f = true, p = true }

--- Rust regex for Vim's class letter `c` (`s`, `S`, ...), `nl` when prefixed by `\_`. Vim's
--- classes ignore 'ignorecase' (`\u` never matches `a`): with `fold` they are kept out of the
--- server's case folding.
---@param c string
---@param nl boolean
---@param fold boolean
---@return string|nil
local function class(c, nl, fold)
  local lower = c:lower()
  local body = CLASSES[lower]
  if not body then
    return nil
  end
  local rx
  if c == lower then
    rx = '[' .. body .. ']'
  elseif NODIGIT[lower] then
    rx = '[' .. body .. '&&[^0-9]]'
  else
    -- A complement never matches a line end (Vim's \S does not match one).
    rx = '[^' .. body .. '\\r\\n]'
  end
  if fold then
    rx = '(?-i:' .. rx .. ')'
  end
  if nl then
    return '(?:' .. rx .. '|' .. NL .. ')'
  end
  return rx
end

-- [:name:] inside collections, as Rust class contents.
local POSIX = {
  alnum = '0-9A-Za-z',
  alpha = 'A-Za-z',
  blank = ' \\t',
  cntrl = '\\x{0}-\\x{1F}\\x{7F}',
  digit = '0-9',
  graph = '!-\\~',
  lower = '\\p{Ll}',
  print = ' -\\~',
  punct = '!-/:-@\\[-`{-\\~',
  space = '\\t\\x{B}\\x{C} ', -- without CR and LF: a collection never matches a line end
  upper = '\\p{Lu}',
  xdigit = '0-9A-Fa-f',
  ['return'] = '\\r',
  tab = '\\t',
  escape = '\\x{1B}',
  backspace = '\\x{8}',
  ident = CLASSES.i,
  keyword = CLASSES.k,
  fname = CLASSES.f,
}

-- Characters that may be special after a backslash (Vim's META), and the ones a backslash
-- turns into control characters (REGEXP_ABBR minus those in META).
local META = {}
for c in ('%&()*+.123456789<=>?@ACDFHIKLMOPSUVWXZ[_acdfhiklmnopsuvwxz{|~'):gmatch('.') do
  META[c] = true
end
local ABBR = { r = '\r', t = '\t', e = '\27', b = '\8' }

-- Plain characters special only under \v.
local VMAGIC_ONLY = {}
for c in ('(){%+=?@&|<>'):gmatch('.') do
  VMAGIC_ONLY[c] = true
end

local function utf8_at(s, i)
  return s:match('^[%z\1-\127\192-\255][\128-\191]*', i)
end

---@class tome.VimRegexParser
---@field s string the pattern
---@field i integer next byte
---@field level integer magic level
---@field at_start boolean Vim's at_start: `^` here is special
---@field prev string|nil the previous token as Vim's prevchr: 'M(' for a special `(`, else the char
---@field icase boolean|nil \c seen: true; \C seen: false (\c wins)
---@field groups integer capture groups opened
---@field opts table
local P = {}
P.__index = P

local function fail(msg)
  error({ vimregex = msg }, 0)
end

--- Reads the next token without consuming it: `special` (Vim's Magic(c)) and the character.
--- Returns the token's length in bytes too.
function P:peek()
  local s, i, level = self.s, self.i, self.level
  local c = utf8_at(s, i)
  if not c then
    return nil
  end
  if c == '\\' then
    local n = utf8_at(s, i + 1)
    if not n then
      return false, '\\', 1 -- a trailing backslash is literal
    end
    if META[n] then
      -- A backslash toggles: special where the plain character is not, and vice versa. Vim
      -- judges the plain character as if not at the start (so `\*` first is a literal star).
      local at_start, prev_at_start = self.at_start, self.prev_at_start
      self.prev_at_start, self.at_start = at_start, false
      local special = self:plain_special(n, i + 1, true)
      self.at_start, self.prev_at_start = at_start, prev_at_start
      return not special, n, 1 + #n
    end
    if ABBR[n] then
      return false, ABBR[n], 2
    end
    if level == VNOMAGIC and (n == '^' or n == '$') then
      return true, n, 2
    end
    return false, n, 1 + #n
  end
  return self:plain_special(c, i, false), c, #c
end

--- Whether the plain character `c` at byte `i` is special at this point (Vim's peekchr).
function P:plain_special(c, i, after_slash)
  local level = self.level
  if c == '^' then
    local prev = self.prev
    return level >= NOMAGIC
      and (self.at_start or level == VMAGIC or prev == 'M(' or prev == 'M|' or prev == 'M&' or prev == 'Mn'
        or prev == '%(')
  elseif c == '$' then
    if level < NOMAGIC then
      return false
    end
    if level == VMAGIC then
      return true
    end
    -- Special at the end and before \| \) \& \n, looking past flags.
    local s, j, vm = self.s, i + 1, false
    while true do
      local f = s:match('^\\([cCmMvVZ])', j)
      if not f then
        break
      end
      if f == 'v' then
        vm = true
      elseif f == 'm' or f == 'M' or f == 'V' then
        vm = false
      end
      j = j + 2
    end
    local nx = s:sub(j, j + 1)
    return nx == '' or nx == '\\|' or nx == '\\)' or nx == '\\&' or nx == '\\n'
      or (vm and (nx:sub(1, 1) == '|' or nx:sub(1, 1) == '&' or nx:sub(1, 1) == ')'))
  elseif c == '.' or c == '[' or c == '~' then
    return level >= MAGIC
  elseif c == '*' then
    local prev = self.prev
    return level >= MAGIC
      and not self.at_start
      and not (self.prev_at_start and prev == 'M^')
      and (after_slash or (prev ~= 'M(' and prev ~= 'M&' and prev ~= 'M|'))
  elseif VMAGIC_ONLY[c] then
    return level == VMAGIC
  end
  return false
end

--- Consumes the token peeked.
function P:take(special, c, len, keep_start)
  self.i = self.i + len
  if not keep_start then
    self.prev_at_start = self.at_start
    self.at_start = false
  end
  self.prev = (special and 'M' or '') .. c
end

function P:raw(n)
  local t = self.s:sub(self.i, self.i + n - 1)
  self.i = self.i + n
  return t
end

local MULTI = { ['*'] = true, ['+'] = true, ['='] = true, ['?'] = true, ['{'] = true, ['@'] = true }

--- Alternatives up to `)` (inside a group) or the end.
function P:alternation()
  local branches = {}
  while true do
    branches[#branches + 1] = self:concat()
    local special, c, len = self:peek()
    if special and c == '|' then
      self:take(special, c, len)
    else
      break
    end
  end
  return table.concat(branches, '|')
end

--- One branch: pieces up to `\|`, `\)` or the end.
function P:concat()
  local out = {}
  while true do
    local special, c, len = self:peek()
    if special == nil or (special and (c == '|' or c == ')')) then
      break
    end
    if special and c == '&' then
      fail('\\& (a branch that must match too) is not supported by Tome')
    end
    if special and (c == 'c' or c == 'C' or c == 'v' or c == 'm' or c == 'M' or c == 'V') then
      -- Flags leave `^` special after them, as at the start.
      self:take(special, c, len, true)
      if c == 'c' then
        self.icase = true
      elseif c == 'C' then
        if self.icase == nil then
          self.icase = false
        end
      else
        self.level = ({ v = VMAGIC, m = MAGIC, M = NOMAGIC, V = VNOMAGIC })[c]
      end
    else
      out[#out + 1] = self:piece()
    end
  end
  return table.concat(out)
end

--- An atom and the multi after it.
function P:piece()
  local atom, single = self:atom()
  local special, c, len = self:peek()
  if not (special and MULTI[c]) then
    return atom
  end
  if not single then
    atom = '(?:' .. atom .. ')'
  end
  local multi = self:multi(special, c, len)
  local s2, c2 = self:peek()
  if s2 and MULTI[c2] then
    if c2 == '@' then
      self:multi(s2, c2, 0) -- names the look-around
    end
    fail('a multi after a multi (' .. c .. c2 .. ') is not allowed by Vim (E61, E62)')
  end
  return atom .. multi
end

function P:multi(special, c, len)
  self:take(special, c, len)
  if c == '*' then
    return '*'
  elseif c == '+' then
    return '+'
  elseif c == '=' or c == '?' then
    return '?'
  elseif c == '@' then
    local s = self.s
    local kind = s:match('^%d*<?[=!]', self.i) or s:match('^>', self.i)
    local shown = (self.level == VMAGIC and '@' or '\\@') .. (kind or '')
    fail("Tome's search engine has no look-around (" .. shown .. ')')
  end
  -- \{n,m}, \{-n,m}, \{n}, \{}, \{-}, with `}` or `\}` at the end.
  local body, close = self.s:match('^(%-?%d*,?%d*)(\\?})', self.i)
  if not body then
    fail('invalid \\{...} (E554): write \\{n,m}, \\{-n,m}, \\{n}, \\{-}')
  end
  self.i = self.i + #body + #close
  self.prev = 'M}'
  local lazy = body:sub(1, 1) == '-'
  if lazy then
    body = body:sub(2)
  end
  local a, comma, b = body:match('^(%d*)(,?)(%d*)$')
  local lo, hi = tonumber(a), tonumber(b)
  local rx
  if comma == '' then
    rx = lo and ('{' .. lo .. '}') or '*'
  else
    lo = lo or 0
    if hi and hi < lo then
      lo, hi = hi, lo -- Vim takes \{5,2} as \{2,5}
    end
    rx = '{' .. lo .. ',' .. (hi or '') .. '}'
  end
  if lazy then
    rx = rx .. '?'
  end
  return rx
end

--- One atom. Returns the Rust regex and whether it is a single Rust atom (a multi may follow
--- it without a group).
function P:atom()
  local special, c, len = self:peek()
  local start = self.i
  if not special then
    self:take(special, c, len)
    return lit(c), true
  end
  if c == '^' then
    self:take(special, c, len)
    self.prev_at_start = true -- as Vim's peekchr: `^*` is a literal star
    return '^', true
  elseif c == '$' then
    self:take(special, c, len)
    return '$', true
  elseif c == '.' then
    self:take(special, c, len)
    return '.', true
  elseif c == '~' then
    self:take(special, c, len)
    local prev = self.opts.previous_sub
    if not prev or prev == '' then
      -- Neovim keeps no empty previous substitute string either.
      fail('~ (the previous substitute string): there is none yet (E33)')
    end
    return lit_string(prev), vim.fn.strchars(prev) == 1
  elseif c == '[' then
    self:take(special, c, len)
    local rx = self:collection(false)
    if rx then
      return rx, true
    end
    return '\\[', true -- no `]`: a literal `[`, as in Vim
  elseif c == '(' then
    self:take(special, c, len)
    self.groups = self.groups + 1
    local inner = self:alternation()
    self:close_group('\\(')
    return '(' .. inner .. ')', true
  elseif c == ')' then
    fail('unmatched \\) (E16)')
  elseif c == '<' then
    self:take(special, c, len)
    return '\\b{start}', true
  elseif c == '>' then
    self:take(special, c, len)
    return '\\b{end}', true
  elseif c == 'n' then
    self:take(special, c, len)
    return NL, true
  elseif c:match('^%d$') then
    fail('backreferences (\\' .. c .. ') are not supported by Tome')
  elseif c == '%' then
    self:take(special, c, len)
    return self:percent()
  elseif c == '_' then
    self:take(special, c, len)
    return self:underscore()
  elseif c == 'z' then
    local z = self.s:sub(start + len, start + len)
    if z == 's' or z == 'e' then
      fail('\\z' .. z .. ' (where the match starts or ends) is not supported by Tome: its search engine has no '
        .. 'look-around')
    end
    fail('\\z' .. z .. ' (external backreferences) is not supported by Tome')
  elseif c == 'Z' then
    fail('\\Z (ignoring combining characters) is not supported by Tome')
  elseif MULTI[c] then
    if c == '@' then
      self:multi(special, c, len)
    end
    fail((self.level == VMAGIC and '' or '\\') .. c .. ' follows nothing (E64)')
  end
  local cls = class(c, false, self.fold)
  if cls then
    self:take(special, c, len)
    return cls, true
  end
  -- Special characters with no meaning in regatom are literal (`\v#`, `\v!`...).
  self:take(special, c, len)
  return lit(c), true
end

function P:close_group(what)
  local special, c, len = self:peek()
  if not (special and c == ')') then
    fail('unmatched ' .. what .. ' (E54)')
  end
  self:take(special, c, len)
end

--- After `\%`.
function P:percent()
  local s, i = self.s, self.i
  local c = s:sub(i, i)
  if c == '(' then
    self.i = i + 1
    self.prev = '%('
    local inner = self:alternation()
    self:close_group('\\%(')
    return '(?:' .. inner .. ')', true
  elseif c == '^' then
    self.i = i + 1
    return '\\A', true
  elseif c == '$' then
    -- Vim's end of file is the end of the last line, before its line break: matching there
    -- needs a look-ahead.
    fail("\\%$ (the end of the file) is not supported by Tome: its search engine has no look-ahead")
  end
  local digits = { d = '^%d+', x = '^%x%x?', o = '^[0-7][0-7]?[0-7]?', u = '^%x%x?%x?%x?', U = '^%x+' }
  if digits[c] then
    local num = s:match(digits[c], i + 1)
    if c == 'U' and num then
      num = num:sub(1, 8)
    end
    if not num then
      fail('\\%' .. c .. ' needs a number (E678)')
    end
    self.i = i + 1 + #num
    local n = tonumber(num, ({ d = 10, x = 16, o = 8, u = 16, U = 16 })[c])
    local rx = codepoint(n)
    if not rx then
      fail('\\%' .. c .. num .. ' is not a character')
    end
    return rx, true
  end
  if c == '[' then
    fail('\\%[...] (optional sequence) is not supported by Tome')
  elseif c == 'C' then
    fail('\\%C (composing characters) is not supported by Tome')
  end
  local pos = s:match('^[<>]?%d+[lcv]', i) or s:match("^[<>]?'.", i) or s:match('^[<>]?%.[lcv]', i)
    or s:match('^[V#]', i)
  fail('\\%' .. (pos or c) .. ' (a position in the window or of the cursor) is not supported by Tome')
end

--- After `\_`.
function P:underscore()
  local s, i = self.s, self.i
  local c = utf8_at(s, i) or ''
  self.i = i + #c
  if c == '^' then
    return '^', true
  elseif c == '$' then
    return '$', true
  elseif c == '.' then
    return '(?:\\r\\n|(?s:.))', true
  elseif c == '[' then
    local rx = self:collection(true)
    if not rx then
      fail('\\_[ without ] (E769)')
    end
    return rx, true
  end
  local cls = class(c, true, self.fold)
  if cls then
    return cls, true
  end
  fail('\\_' .. c .. ' is not a Vim pattern item (E63)')
end

--- Reads a `\d123` `\o40` `\x20` `\u20AC` `\U...` number inside a collection, `i` at the
--- letter. Returns the Rust text, the code point and the next byte, or nil (not a number: a literal `\`).
local function coll_number(s, i)
  local c = s:sub(i, i)
  local pats = {
    d = '^%d+',
    o = '^[0-7][0-7]?[0-7]?',
    x = '^%x%x?',
    u = '^%x%x?%x?%x?',
    U = '^%x%x?%x?%x?%x?%x?%x?%x?',
  }
  local num = s:match(pats[c], i + 1)
  if not num then
    return nil
  end
  local cp = tonumber(num, ({ d = 10, o = 8, x = 16, u = 16, U = 16 })[c])
  local rx = codepoint(cp)
  if not rx then
    fail('\\' .. c .. num .. ' is not a character')
  end
  return rx, cp, i + 1 + #num
end

--- A collection, `self.i` just after `[`. Returns the Rust regex, or nil when there is no
--- closing `]` (then nothing is consumed: Vim takes the `[` literally).
function P:collection(with_nl)
  local s, i = self.s, self.i
  local negate = false
  if s:sub(i, i) == '^' then
    negate, i = true, i + 1
  end
  local items = {} -- Rust class items
  local fixed = {} -- [:upper:] [:lower:]: as Vim's \u \l, they ignore 'ignorecase'
  local nl = with_nl
  -- The previous single character (Rust text and code point), which a `-` may extend.
  local prev_rx, prev_cp
  local first = true
  local function add(rx, cp)
    items[#items + 1] = rx
    prev_rx, prev_cp = rx, cp
  end
  --- One character for a range end or an item: Rust text, code point and next byte.
  local function char(j)
    local c = utf8_at(s, j)
    if c == '\\' then
      local n = s:sub(j + 1, j + 1)
      if n == 'd' or n == 'o' or n == 'x' or n == 'u' or n == 'U' then
        local rx, cp, nj = coll_number(s, j + 1)
        if rx then
          return rx, cp, nj
        end
      elseif ABBR[n] then
        return lit(ABBR[n]), ABBR[n]:byte(), j + 2
      elseif n == ']' or n == '^' or n == '-' or n == '\\' then
        return lit(n), n:byte(), j + 2
      end
      return '\\\\', 92, j + 1
    end
    return lit(c), vim.fn.char2nr(c, true), j + #c
  end
  while true do
    local c = utf8_at(s, i)
    if not c then
      return nil
    end
    if c == ']' and not first then
      i = i + 1
      break
    end
    if first and (c == ']' or c == '-') then
      add(lit(c), c:byte())
      i = i + 1
    elseif c == '-' then
      local nx = s:sub(i + 1, i + 1)
      if nx == ']' or nx == '' or not prev_cp or s:sub(i + 1, i + 2) == '\\n' then
        add('\\-', 45)
        i = i + 1
      else
        local end_rx, end_cp, ni
        local coll = s:match('^%[%.([^%]]-)%.%]', i + 1)
        if coll and vim.fn.strchars(coll) == 1 then
          end_rx, end_cp, ni = lit(coll), vim.fn.char2nr(coll, true), i + 1 + #coll + 4
        else
          end_rx, end_cp, ni = char(i + 1)
        end
        if end_cp < prev_cp then
          fail('reverse range in character class (E944): ' .. s:sub(self.i - 1, ni - 1))
        end
        items[#items] = prev_rx .. '-' .. end_rx
        prev_rx, prev_cp = nil, nil
        i = ni
      end
    elseif c == '\\' and s:sub(i + 1, i + 1) == 'n' then
      -- `\n` in a collection also matches a line end, except in [^...] (where it changes
      -- nothing: [^\n] is `.`).
      if not negate then
        nl = true
      end
      prev_rx, prev_cp = nil, nil
      i = i + 2
    elseif c == '[' then
      local name = s:match('^%[:(%a+):%]', i)
      local equi = s:match('^%[=(.-)=%]', i)
      local coll = s:match('^%[%.(.-)%.%]', i)
      if name and POSIX[name] then
        local into = (name == 'upper' or name == 'lower') and fixed or items
        into[#into + 1] = POSIX[name]
        prev_rx, prev_cp = nil, nil
        i = i + #name + 4
      elseif equi and vim.fn.strchars(equi) == 1 then
        fail('equivalence classes ([[=' .. equi .. '=]]) are not supported by Tome')
      elseif coll and vim.fn.strchars(coll) == 1 then
        add(lit(coll), vim.fn.char2nr(coll, true))
        i = i + #coll + 4
      else
        add('\\[', 91)
        i = i + 1
      end
    else
      local rx, cp, ni = char(i)
      add(rx, cp)
      i = ni
    end
    first = false
  end
  self.i = i
  self.prev = ']'
  local rx
  local folded, kept = table.concat(items), table.concat(fixed)
  if negate then
    -- Vim's [^...] never matches a line end.
    if self.fold and kept ~= '' then
      if folded ~= '' then
        fail('[^...] holding [:upper:] or [:lower:] and other items is not supported by Tome when ignoring case')
      end
      rx = '(?-i:[^' .. kept .. '\\r\\n])'
    else
      rx = '[^' .. folded .. kept .. '\\r\\n]'
    end
  elseif self.fold and kept ~= '' then
    rx = '(?-i:[' .. kept .. '])'
    if folded ~= '' then
      rx = '(?:[' .. folded .. ']|' .. rx .. ')'
    end
  elseif folded .. kept ~= '' then
    rx = '[' .. folded .. kept .. ']'
  end
  if nl then
    return rx and ('(?:' .. rx .. '|' .. NL .. ')') or NL
  end
  return rx
end

--- Vim's pat_has_uppercase(): an uppercase letter that is not part of an item such as \S,
--- \_X or \%X ('smartcase').
---@param pat string
---@param magic boolean
---@return boolean
local function has_uppercase(pat, magic)
  -- The magic level at the end of the pattern decides, as in Vim (skip_regexp_ex).
  local level = magic and MAGIC or NOMAGIC
  for f in pat:gmatch('\\([vmMV])') do
    level = ({ v = VMAGIC, m = MAGIC, M = NOMAGIC, V = VNOMAGIC })[f]
  end
  local i = 1
  while i <= #pat do
    local c = utf8_at(pat, i)
    if c == '\\' and level <= MAGIC then
      local n = pat:sub(i + 1, i + 1)
      if (n == '_' or n == '%') and #pat >= i + 2 then
        i = i + 2 + #(utf8_at(pat, i + 2) or 'x')
      elseif n ~= '' then
        i = i + 1 + #utf8_at(pat, i + 1)
      else
        i = i + 1
      end
    elseif (c == '%' or c == '_') and level == VMAGIC then
      i = i + 1 + #(utf8_at(pat, i + 1) or '')
    else
      if vim.fn.toupper(c) == c and vim.fn.tolower(c) ~= c then
        return true
      end
      i = i + #c
    end
  end
  return false
end
M.has_uppercase = has_uppercase

local function option(opts, name)
  if opts[name] == nil then
    return vim.o[name]
  end
  return opts[name]
end

---@class tome.VimRegexOpts
---@field ignorecase? boolean default 'ignorecase'
---@field smartcase? boolean default 'smartcase'
---@field magic? boolean default 'magic'
---@field previous_sub? string the previous substitute string, for `~` (default: none)
---@field for_substitute? boolean the pattern of :s or :g ('smartcase' applies there too)
---@field typed? boolean false for `*`, `#`, `gd`: 'smartcase' does not apply (default true)
---@field eol? string the line break that `\r` inserts in replacements (default "\n")

--- Translates the Vim pattern `pat` into a `tome/search` query, or returns nil and a message
--- naming the construct Tome cannot match.
---@param pat string
---@param opts? tome.VimRegexOpts
---@return {pattern: string, regex: boolean, caseSensitive: boolean}|nil
---@return string|nil
function M.pattern(pat, opts)
  opts = opts or {}
  local magic = option(opts, 'magic')
  --- Translates with or without case folding (`fold`); returns the parser and the regex.
  local function translate(fold)
    local self = setmetatable({
      s = pat,
      i = 1,
      level = magic and MAGIC or NOMAGIC,
      at_start = true,
      prev_at_start = false,
      prev = nil,
      icase = nil,
      groups = 0,
      fold = fold,
      opts = opts,
    }, P)
    local ok, rx = pcall(function()
      local out = self:alternation()
      local special, c = self:peek()
      if special and c == ')' then
        fail('unmatched \\) (E16)')
      end
      return out
    end)
    if not ok then
      if type(rx) == 'table' and rx.vimregex then
        return nil, rx.vimregex
      end
      error(rx, 0)
    end
    return self, rx
  end
  -- \c may come last, and how classes are written depends on it: a first pass finds the
  -- case, a second one writes the regex for it.
  local self, rx = translate(false)
  if not self then
    return nil, rx
  end
  local sensitive
  if self.icase ~= nil then
    sensitive = not self.icase
  elseif not option(opts, 'ignorecase') then
    sensitive = true
  else
    sensitive = option(opts, 'smartcase') and opts.typed ~= false and has_uppercase(pat, magic) or false
  end
  if not sensitive then
    self, rx = translate(true)
    if not self then
      return nil, rx
    end
  end
  if rx == '' then
    rx = '(?:)' -- the server refuses an empty pattern; Vim's empty pattern is the last one
  end
  return { pattern = rx, regex = true, caseSensitive = sensitive }
end

--- Translates the replacement of `:s/pat/rep/` into the `regex` crate's syntax (`${1}`, `$$`)
--- for `tome/replaceAll`, or returns nil and a message naming what Tome cannot do.
---@param rep string
---@param opts? tome.VimRegexOpts
---@return string|nil
---@return string|nil
function M.substitute(rep, opts)
  opts = opts or {}
  local magic = option(opts, 'magic')
  local eol = opts.eol or '\n'
  if rep:sub(1, 2) == '\\=' then
    return nil, '\\= (an expression as the replacement) is not supported by Tome'
  end
  -- `~` is the previous replacement, inserted as typed before anything else is read (Vim's
  -- regtilde), so its own & \1 ... take effect.
  local prev = opts.previous_sub or ''
  local expanded, i = {}, 1
  while i <= #rep do
    local c = rep:sub(i, i)
    if c == '\\' and i < #rep then
      local n = rep:sub(i + 1, i + 1)
      if n == '~' and not magic then
        expanded[#expanded + 1] = prev
      else
        expanded[#expanded + 1] = c .. n
      end
      i = i + 2
    elseif c == '~' and magic then
      expanded[#expanded + 1] = prev
      i = i + 1
    else
      expanded[#expanded + 1] = c
      i = i + 1
    end
  end
  rep = table.concat(expanded)
  local out = {}
  i = 1
  while i <= #rep do
    local c = rep:sub(i, i)
    if c == '\\' and i < #rep then
      local n = utf8_at(rep, i + 1)
      i = i + 1 + #n
      if n:match('^%d$') then
        out[#out + 1] = '${' .. n .. '}'
      elseif n == '&' then
        out[#out + 1] = magic and '&' or '${0}'
      elseif n == 'r' then
        out[#out + 1] = eol
      elseif n == 'n' then
        out[#out + 1] = '\0' -- Vim inserts a NUL (a NL in its buffer)
      elseif n == 't' then
        out[#out + 1] = '\t'
      elseif n == 'b' then
        out[#out + 1] = '\8'
      elseif n == '\r' then
        out[#out + 1] = '\r' -- a literal CR, not a line break
      elseif n == 'u' or n == 'U' or n == 'l' or n == 'L' or n == 'e' or n == 'E' then
        return nil, 'case conversion in the replacement (\\' .. n .. ') is not supported by Tome'
      elseif n == '$' then
        out[#out + 1] = '$$'
      else
        out[#out + 1] = n
      end
    elseif c == '&' and magic then
      out[#out + 1] = '${0}'
      i = i + 1
    elseif c == '\r' then
      out[#out + 1] = eol -- a typed <CR> breaks the line
      i = i + 1
    elseif c == '$' then
      out[#out + 1] = '$$'
      i = i + 1
    else
      out[#out + 1] = c
      i = i + 1
    end
  end
  return table.concat(out)
end

return M
