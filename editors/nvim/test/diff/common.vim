" Sourced by both editors of the differential test (run.py), plain and Tome, so both run with
" the same options:
"  - no hit-enter / more prompts, no intro, no swap file, no shada (also on the command line);
"  - 'fileencodings' is left at its default (ucs-bom,utf-8,default,latin1): plain Neovim reads
"    the file with invalid UTF-8 (odd.log) as latin1, every byte a character, and writes the
"    same bytes back. With only utf-8 it would mark the buffer 'readonly' (conversion error)
"    and write '?' for the invalid bytes, which is not the behaviour Tome should copy. (A case
"    that puts the cursor after a latin1 byte may see col('.') differ: the byte is 2 there.)
"  - a fixed 'undolevels' (Neovim's default) and 'belloff', no syntax, no filetype plugins.
set nomore shortmess+=I noswapfile undolevels=1000 belloff=all
syntax off
filetype off

" Writes what the case compares besides the file to $DIFF_OUT (key=value lines):
"   line  the cursor's file line: line('.') plainly; with Tome, line('.') is the row in the
"         window buffer, so the window's first file line (state.docs[buf].base, 0-based) is
"         added: base + line('.')
"   col   col('.'); with Tome, on a row holding a slice of a long line (longline.lua), the
"         column in the line: the slice's first byte column is added (as the status line and
"         require'tome'.col() give it, see |tome-long-lines|)
"   mode  mode() (should be n)
"   regtype{r} getregtype() of each register in $DIFF_REGS; the contents go to
"         $DIFF_OUT.reg{nr} (getreg(r, 1, 1), written in binary)
"   tome  yes/no: whether the buffer is a Tome buffer (checked, not compared)
" and :messages to $DIFF_OUT.msgs (shown on failure, not compared).
function! DiffResult() abort
  let l:base = luaeval("(function() local ok, s = pcall(require, 'tome.state'); "
        \ .. "local st = ok and s.docs[vim.api.nvim_get_current_buf()]; "
        \ .. "return st and st.base or -1 end)()")
  let l:a = luaeval("(function() local ok, s = pcall(require, 'tome.state'); "
        \ .. "local st = ok and s.docs[vim.api.nvim_get_current_buf()]; "
        \ .. "return st and require('tome.longline').real(st, vim.fn.line('.') - 1, 0) or 0 end)()")
  let l:out = $DIFF_OUT
  let l:res = ['tome=' .. (l:base >= 0 ? 'yes' : 'no'),
        \ 'line=' .. (max([l:base, 0]) + line('.')), 'col=' .. (l:a + col('.')), 'mode=' .. mode(1)]
  for l:r in split($DIFF_REGS, '\zs')
    call add(l:res, 'regtype' .. l:r .. '=' .. getregtype(l:r))
    " (with Tome, a register the server keeps is read from it: clips.lua)
    let l:file = l:out .. '.reg' .. char2nr(l:r)
    if !luaeval("(function(r, f) local ok, c = pcall(require, 'tome.clips'); "
          \ .. "return ok and c.write_register(r, f) or false end)(_A[1], _A[2])", [l:r, l:file])
      call writefile(getreg(l:r, 1, 1), l:file, 'b')
    endif
  endfor
  call writefile(l:res, l:out)
  call writefile(split(execute('messages'), "\n"), l:out .. '.msgs')
endfunction
