-- Settings and their defaults; `require('tome').setup{...}` merges into `options`. Requires nothing.
local M = {}

M.defaults = {
  -- The `tome` binary: a name looked up in $PATH, or a path. A list adds arguments (`serve`
  -- is appended).
  cmd = nil, -- default: $TOME_BIN, else `tome` in $PATH
  -- Files at least this big open through Tome instead of being read into memory.
  threshold = 64 * 1024 * 1024,
  -- Lines held in the buffer (at most 1000, the protocol's viewport limit).
  window = 300,
  -- Most lines, and bytes, the buffer holds for one command that reaches past the window (an
  -- operator with a far motion, a count, a Visual selection): such a command runs on real
  -- lines, as Neovim's own. Beyond them, linewise d, y, > and < run on the server (as :d, :y,
  -- :> and :<) and other commands are refused.
  reach_lines = 200000,
  reach_bytes = 16 * 1024 * 1024,
  -- A linewise yank or delete of more than this many bytes into the unnamed, a named or a
  -- numbered register is kept by the server (the register holds a placeholder line that p and
  -- P in Tome buffers paste as those lines): Neovim's memory stays flat (|tome-registers|).
  register_bytes = 4 * 1024 * 1024,
  -- Lines up to this many bytes are held whole in the buffer, as long as the lines of the
  -- window held whole stay within `window_bytes`; longer lines are held as slices (below). The
  -- server takes at most 16 MiB for each.
  line_bytes = 8 * 1024 * 1024,
  window_bytes = 16 * 1024 * 1024,
  -- A longer line is held as a slice of its bytes, this wide around the cursor (64 KiB to 4
  -- MiB), fetched again as the cursor nears a cut edge; motions and edits reach the whole line.
  slice_bytes = 1024 * 1024,
  -- Refill when the cursor gets this close to an edge of the window (default: window / 3).
  margin = nil,
  -- Set a window-local 'statusline' that shows Tome's status part. Set to false to place
  -- `require('tome').status()` in your own status line instead.
  statusline = true,
  -- Map the motions, search, undo/redo keys in Tome buffers.
  mappings = true,
  -- Most matches that :TomeGrep puts in the quickfix list.
  grep_limit = 1000,
  -- Milliseconds to wait for a request before giving up (saves and searches wait longer).
  timeout = 10000,
  -- When an earlier session left unsaved changes to a file, also ask with vim.ui.select
  -- (Recover / Discard / Decide later) besides the warning and :TomeRecover.
  recovery_prompt = false,
  -- Highlight rules (|tome-highlight|): { pattern = 'ERROR', hl = 'ErrorMsg' }, with optional
  -- regex (a Rust regex), case_sensitive (default true), whole_word, sign (1-2 cells) and
  -- sign_hl. Matched by the server on the lines the windows show.
  highlight_rules = {},
  -- Files on other machines (|tome-remote|): `tome://[user@]host[:port]//abs/path`. The command
  -- that runs `tome serve` there, `{host}` replaced by the URL's `[user@]host` (a port in the
  -- URL adds `-p PORT` after the first word). One server per host, shared by its buffers.
  remote = {
    command = {
      'ssh', '-o', 'BatchMode=yes', '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=4',
      '{host}', 'tome', 'serve',
    },
  },
}

M.options = vim.deepcopy(M.defaults)

function M.cmd()
  local cmd = M.options.cmd or vim.env.TOME_BIN or 'tome'
  if type(cmd) == 'string' then
    cmd = { cmd }
  end
  cmd = vim.deepcopy(cmd)
  cmd[#cmd + 1] = 'serve'
  return cmd
end

function M.window()
  return math.max(30, math.min(1000, M.options.window))
end

--- Lines the buffer holds around the cursor (window.lua): the `window` setting, and at least
--- three screens.
function M.window_size()
  return math.min(1000, math.max(M.window(), 3 * vim.o.lines))
end

--- `tome/viewport`'s params for `count` lines from `first` (without `doc`): lines whole up to
--- `line_bytes`, their exact bytes (window.lua reads with them; init.lua asks the open for
--- the first ones).
function M.viewport_params(first, count)
  return {
    first = first,
    count = count,
    rawBytes = true,
    wholeLines = { maxLineBytes = M.options.line_bytes, maxBytes = M.options.window_bytes },
  }
end

function M.reach_lines()
  return math.max(M.window(), M.options.reach_lines)
end

function M.register_bytes()
  return math.max(0, M.options.register_bytes)
end

function M.reach_bytes()
  return math.max(1024 * 1024, M.options.reach_bytes)
end

function M.margin()
  return M.options.margin or math.floor(M.window() / 3)
end

return M
