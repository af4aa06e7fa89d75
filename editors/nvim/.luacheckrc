-- luacheck config for the Neovim plugin: `luacheck editors/nvim` (Debian: apt-get install lua-check).
std = 'luajit'
globals = { 'vim' }
max_line_length = 120
exclude_files = {}
-- Callbacks keep the full signature of Neovim's APIs (on_bytes and friends) for clarity.
unused_args = false
