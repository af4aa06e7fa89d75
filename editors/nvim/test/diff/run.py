#!/usr/bin/env python3
"""Differential test of the Neovim plugin against plain Neovim (issue 13).

Usage: run.py NVIM TOME_BIN [CASE_GLOB]   (run.sh is the same; CASE_GLOB matches case names,
       e.g. '0*' or '*undo*'; default: every case in cases/)

Every case (cases/NN-name.keys) is typed, key by key, into two real terminals (tmux, 120x40):
plain `nvim -u NONE` on one copy of a generated file and Neovim with Tome (threshold 0, so the
file opens through the server) on another copy. The runner then types `<Esc>`,
`:call DiffResult()<CR>` (common.vim: the cursor's file line and column, chosen registers) and
`:wq<CR>`, waits for both editors to exit, and compares the two files byte for byte, and the
results. Plain Neovim is the oracle.

Files (generated once per run, in a temporary directory):
  big  `TOME_BIN gen --size 24M`: 236 246 lines, `seq=N` on line N+1, ends with a line break
  odd  big with, after line 1000 and after line 120 000, a group of 6 lines: invalid UTF-8
       bytes, latin1, valid multibyte text, a 3 000-byte line (shown whole by Tome) and a
       200 000-byte line (shown in part by Tome); see make_odd()
  long big with, after line 1000, one line of 22 MiB (longer than Tome holds whole: a slice of
       it is held, longline.lua): ASCII words and punctuation, a 3 MiB word, 2 MiB of blanks,
       multibyte UTF-8 (all valid, so plain Neovim reads it as UTF-8), more words, `END`; see
       make_long()

Case files: lines starting with `#` are comments; `# file: odd`, `# regs: "0a` (registers to
compare besides the cursor; default none), `# args: +150000` (extra arguments for both nvims,
before the file), `# timeout: 90` (seconds to wait for both to exit after :wq; default 30, plus
`# timeout-per-gib: 600` seconds per GiB of file, default 180: see Size below) and
`# pause: 0.5` (seconds after each line; default 0.15) and `# output: marks.out` (files the case
writes in its editor's directory, e.g. with `:redir! > marks.out`, compared byte for byte:
a command's output, such as :marks) are settings. Every other line is keys,
typed as written, with Vim's notation for special keys: <CR> <Esc> <BS> <Tab> <Space> <lt>
<Up> <Down> <Left> <Right> <Home> <End> <Del> <C-x> <M-x> <S-Tab>, and <sleep:MS> to pause.
Line breaks in the file are not keys: each line is sent at once (tmux send-keys), then the
runner pauses, so autocommands that wait for typeahead to be empty (CursorMoved) run between
lines, as they would for a person typing.

xfail.txt lists the cases known to fail (name, then the reason): a listed case that fails is
`xfail`, one that passes is `XPASS` and counts as a failure (remove it from the list). A name
written `name@512M` is listed only when the file is at least that big (DIFF_SIZE).
Exit status non-zero on any FAIL or XPASS. DIFF_KEEP=1 keeps the work directory.

Options both editors share are in common.vim (why each one is there); the Tome side's init is
tome_init.lua (minimal_init.lua with threshold 0). Both run with -i NONE -n --noplugin (plain:
-u NONE, which implies it).

Size (issue 13): DIFF_SIZE=1G (any size `tome gen --size` takes; default 24M) generates a
bigger `big` (same `seq=N` structure: at 1G, 9 953 441 lines) and `odd` (the same groups,
after the same lines). Plain Neovim stays the oracle on its own copy (at 1 GiB it needs ~1.2 GiB
of RAM to load it and minutes for a whole-file :%s). The copies of a case are removed once it
is compared (unless DIFF_KEEP=1), so the disk needs ~3 sizes free, not 2 per case. Waiting
scales with the size: a case's deadline after :wq is its `# timeout:` (seconds at 24M) plus
`# timeout-per-gib:` seconds for each GiB of the file (default 180; whole-file cases set
more), and the first screen is awaited 15 s + 60 s per GiB. scripts/test-nvim-diff-1g.sh runs
the suite at 1 GiB (not in CI: about an hour).

Memory (issue 13: Neovim under 150 MiB at 1 GiB): while a case runs, the VmRSS of each side's
Neovim and of the Tome side's server is sampled every 100 ms (/proc/PID/status; "Neovim" is
the sum of its two processes, the UI and `nvim --embed`); each result line shows the peaks.
DIFF_RSS_LIMIT_MIB fails a case whose Tome-side Neovim peaks above it, xfail or not (default:
150 when the file is 512 MiB or more, else off; 0 turns it off). The summary gives the maximum
and median peak over the cases, per process.

The expected result could also be computed by a script for a 1 GiB run through Tome alone:
run_side() takes any file, and compare() takes any two directories with a result.
"""
import fnmatch
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
COLS, ROWS = 120, 40
GIB = 1 << 30
MIB = 1 << 20


def parse_size(text):
    """'24M', '1G', '4096' (bytes) -> bytes, as `tome gen --size` reads them."""
    m = re.fullmatch(r'\s*(\d+)\s*([KMGT]?)i?B?\s*', text, re.I)
    if not m:
        raise ValueError('bad size %r (e.g. 24M, 1G)' % text)
    return int(m.group(1)) << (10 * ' KMGT'.index(m.group(2).upper() or ' '))

SPECIAL = {
    'cr': 'Enter', 'enter': 'Enter', 'return': 'Enter', 'esc': 'Escape', 'bs': 'BSpace',
    'tab': 'Tab', 's-tab': 'BTab', 'space': 'Space', 'up': 'Up', 'down': 'Down',
    'left': 'Left', 'right': 'Right', 'home': 'Home', 'end': 'End', 'del': 'DC',
    'pageup': 'PPage', 'pagedown': 'NPage', 'bar': None, 'lt': None,
}


def parse_keys(line):
    """A case line -> a list of ('lit', text) / ('key', tmux key) / ('sleep', seconds)."""
    out = []
    pos = 0
    for m in re.finditer(r'<([A-Za-z0-9:-]+)>', line):
        name = m.group(1)
        low = name.lower()
        tok = None
        if low == 'lt':
            tok = ('lit', '<')
        elif low == 'bar':
            tok = ('lit', '|')
        elif low in SPECIAL:
            tok = ('key', SPECIAL[low])
        elif re.fullmatch(r'[cm]-.', low):
            tok = ('key', low[0].upper() + '-' + name[2:].lower())
        elif low.startswith('sleep:'):
            tok = ('sleep', int(low[6:]) / 1000.0)
        if tok is None:
            continue  # not a key name: typed as written
        if m.start() > pos:
            out.append(('lit', line[pos:m.start()]))
        out.append(tok)
        pos = m.end()
    if pos < len(line):
        out.append(('lit', line[pos:]))
    return out


class Case:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)[:-len('.keys')]
        self.file = 'big'
        self.regs = ''
        self.args = []
        self.timeout = 30.0
        self.timeout_per_gib = 180.0
        self.pause = 0.15
        self.outputs = []
        self.about = ''
        self.lines = []
        with open(path, encoding='utf-8') as f:
            for raw in f.read().split('\n'):
                if raw.startswith('#'):
                    m = re.match(r'#\s*(file|regs|args|timeout-per-gib|timeout|pause|output):\s?(.*)$', raw)
                    if not m:
                        if not self.about:
                            self.about = raw.lstrip('# ').strip()
                        continue
                    k, v = m.group(1), m.group(2).strip()
                    if k == 'file':
                        self.file = v
                    elif k == 'regs':
                        self.regs = v
                    elif k == 'args':
                        self.args = v.split()
                    elif k == 'timeout':
                        self.timeout = float(v)
                    elif k == 'timeout-per-gib':
                        self.timeout_per_gib = float(v)
                    elif k == 'pause':
                        self.pause = float(v)
                    elif k == 'output':
                        self.outputs += v.split()
                elif raw.strip():
                    self.lines.append(parse_keys(raw))


class Tmux:
    def __init__(self, sock):
        self.sock = sock

    def run(self, *args, check=False):
        return subprocess.run(['tmux', '-L', self.sock] + list(args), capture_output=True,
                              text=True, check=check)

    def alive(self, sess):
        return self.run('has-session', '-t', '=' + sess).returncode == 0

    def send(self, sess, toks):
        for kind, val in toks:
            if kind == 'lit':
                self.run('send-keys', '-t', '=' + sess + ':', '-l', '--', val)
            elif kind == 'key':
                self.run('send-keys', '-t', '=' + sess + ':', val)
            else:
                time.sleep(val)

    def screen(self, sess):
        r = self.run('capture-pane', '-p', '-t', '=' + sess + ':')
        return r.stdout if r.returncode == 0 else '(no screen: the session ended)\n'

    def kill(self):
        self.run('kill-server')


def make_odd(big, odd):
    """big plus two groups of unusual lines (after line 1000 and after line 120000); streamed,
    so a 1 GiB big costs no memory."""
    def group(tag):
        words = b' '.join(b'w%05d' % i for i in range(600))  # 3 599 bytes
        return [
            b'ODD-' + tag + b' bad bytes \xff\xfe here and \xc3 there end',
            b'ODD-' + tag + b' latin1 caf\xe9 na\xefve r\xe9sum\xe9 end',
            b'ODD-' + tag + b' utf8 h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac end',
            b'ODD-' + tag + b' long3k ' + words[:2980] + b' end',
            b'ODD-' + tag + b' long200k ' + (words + b' ') * 55 + b'end',
            b'ODD-' + tag + b' after the long lines end',
        ]
    groups = {1000: group(b'A'), 120000: group(b'B')}
    with open(big, 'rb') as f, open(odd, 'wb', buffering=1 << 20) as out:
        n = 0
        for line in f:
            assert line.endswith(b'\n')
            out.write(line)
            n += 1
            if n in groups:
                out.write(b'\n'.join(groups.pop(n)) + b'\n')
        assert not groups, 'big has fewer than 120 000 lines'
        shutil.copyfileobj(f, out, 1 << 20)


def long_line():
    """The long line of `long` (without its line break): 22 MiB, deterministic; regions at fixed
    byte columns (LONG_REGIONS) so cases can go there with {N}| (all ASCII before the multibyte
    region, so a byte column is a screen column there)."""
    toks, n, i = [], 0, 0
    while n < 10 * MIB:
        t = ('tok%07d.x(y)-z, ' % i) if i % 7 else ('w%07d ' % i)
        toks.append(t)
        n += len(t)
        i += 1
    p1 = ''.join(toks).encode()
    p2 = b'z' * (3 * MIB)
    p3 = b' ' * (2 * MIB)
    unit = 'h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c\u8a9e ab,cd '.encode()
    p4 = unit * ((4 * MIB) // len(unit))
    toks, n = [], 0
    while n < 3 * MIB:
        t = 'v%07d+q ' % i
        toks.append(t)
        n += len(t)
        i += 1
    p5 = ''.join(toks).encode() + b'END'
    return p1 + p2 + p3 + p4 + p5


def make_long(big, out_path):
    """big with the long line after line 1000 (streamed)."""
    with open(big, 'rb') as f, open(out_path, 'wb', buffering=1 << 20) as out:
        for n in range(1000):
            out.write(f.readline())
        out.write(long_line() + b'\n')
        shutil.copyfileobj(f, out, 1 << 20)


def start_side(tm, side, nvim, tome_bin, case, workdir, fixture):
    d = os.path.join(workdir, side)
    os.makedirs(d)
    target = os.path.join(d, os.path.basename(fixture))
    shutil.copyfile(fixture, target)
    env = {
        'DIFF_OUT': os.path.join(d, 'result'),
        'DIFF_REGS': case.regs,
        'TOME_BIN': tome_bin,
        'TOME_STATE_DIR': os.path.join(d, 'state'),
    }
    if side == 'plain':
        cmd = [nvim, '-u', 'NONE', '-i', 'NONE', '-n', '--cmd',
               'source ' + os.path.join(HERE, 'common.vim')]
    else:
        cmd = [nvim, '-u', os.path.join(HERE, 'tome_init.lua'), '--noplugin', '-i', 'NONE', '-n']
    cmd += case.args + [os.path.basename(target)]
    shell = ' '.join("%s='%s'" % (k, v) for k, v in env.items()) + ' exec ' + \
        ' '.join("'%s'" % c.replace("'", "'\\''") for c in cmd) + \
        ' 2>' + os.path.join(d, 'stderr')
    tm.run('new-session', '-d', '-s', side, '-x', str(COLS), '-y', str(ROWS), '-c', d, shell, check=True)
    return d


def vm_rss(pid):
    """VmRSS of a process in bytes (0 if it is gone or has none)."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def children(pid):
    """Direct children of a process (every thread's list)."""
    out = []
    for task in glob.glob('/proc/%d/task/*/children' % pid):
        try:
            with open(task) as f:
                out += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def comm(pid):
    try:
        with open('/proc/%d/comm' % pid) as f:
            return f.read().strip()
    except OSError:
        return ''


class RssSampler(threading.Thread):
    """Samples, every `period` seconds until stop(), the VmRSS of each side's process tree: the
    tmux pane's process (Neovim's UI: run_case starts it with exec) and its descendants, which
    are Neovim's own `nvim --embed` (the editor, holding the buffers) and, on the Tome side, the
    server. Keeps the peaks of the sums: {'plain': bytes, 'tome': bytes} for the processes
    named nvim, 'server' for the others (the Tome side's `tome serve`)."""

    def __init__(self, tm, period=0.1):
        super().__init__(daemon=True)
        self.tm, self.period = tm, period
        self.pids = {}
        self.peaks = {'plain': 0, 'tome': 0, 'server': 0}
        self.halt = threading.Event()

    def pane_pid(self, side):
        r = self.tm.run('list-panes', '-t', '=' + side + ':', '-F', '#{pane_pid}')
        try:
            return int(r.stdout.split()[0])
        except (IndexError, ValueError):
            return None

    def run(self):
        while not self.halt.is_set():
            for side in ('plain', 'tome'):
                if side not in self.pids:
                    pid = self.pane_pid(side)
                    if pid:
                        self.pids[side] = pid
                pid = self.pids.get(side)
                if not pid:
                    continue
                todo, nv, other = [pid], 0, 0
                while todo:
                    p = todo.pop()
                    if comm(p) == 'nvim':
                        nv += vm_rss(p)
                    else:
                        other += vm_rss(p)
                    todo += children(p)
                self.peaks[side] = max(self.peaks[side], nv)
                if side == 'tome':
                    self.peaks['server'] = max(self.peaks['server'], other)
            self.halt.wait(self.period)

    def stop(self):
        self.halt.set()
        self.join()


def wait_ready(tm, sess, timeout=15.0):
    """Waits until the editor drew its first screen (a line of the file or a ~ shows)."""
    end = time.time() + timeout
    while time.time() < end:
        s = tm.screen(sess)
        if s.strip() and not s.startswith('(no screen'):
            return True
        time.sleep(0.05)
    return False


def first_difference(a, b, reg=False):
    """None if files a and b are equal, else where they differ. reg: register contents (lines
    joined by line breaks, none after the last), counted in lines as getreg() lists them."""
    with open(a, 'rb') as f:
        da = f.read()
    with open(b, 'rb') as f:
        db = f.read()
    if da == db:
        return None
    la, lb = da.split(b'\n'), db.split(b'\n')
    n = 0
    while n < min(len(la), len(lb)) and la[n] == lb[n]:
        n += 1
    def show(ls):
        return repr(ls[n][:100]) if n < len(ls) else '(end of file)'
    extra = 1 if reg else 0
    return ('%s differ (plain %d bytes, %d lines; tome %d bytes, %d lines); first at line %d:\n'
            '      plain: %s\n      tome:  %s') % ('contents' if reg else 'files', len(da),
                                                   da.count(b'\n') + extra, len(db),
                                                   db.count(b'\n') + extra, n + 1, show(la), show(lb))


def read_result(d):
    p = os.path.join(d, 'result')
    if not os.path.exists(p):
        return None
    res = {}
    with open(p, encoding='utf-8', errors='replace') as f:
        for line in f.read().splitlines():
            k, _, v = line.partition('=')
            res[k] = v
    return res


def compare(case, pd, td, fname):
    """-> list of differences (empty: the case passes)."""
    why = []
    pr, tr = read_result(pd), read_result(td)
    if pr is None:
        why.append('plain Neovim wrote no result (its screen is below)')
    if tr is None:
        why.append('the Tome side wrote no result (its screen is below)')
    if pr is not None and tr is not None:
        if tr.get('tome') != 'yes':
            why.append('the Tome side did not open the file through Tome')
        for k in sorted(set(pr) | set(tr)):
            if k != 'tome' and pr.get(k) != tr.get(k):
                why.append('%s: plain %s, tome %s' % (k, pr.get(k), tr.get(k)))
        for r in case.regs:
            suffix = '.reg%d' % ord(r)
            a, b = os.path.join(pd, 'result' + suffix), os.path.join(td, 'result' + suffix)
            if os.path.exists(a) and os.path.exists(b):
                diff = first_difference(a, b, reg=True)
                if diff:
                    why.append('register %s: %s' % (r, diff))
    for out in case.outputs:
        a, b = os.path.join(pd, out), os.path.join(td, out)
        if not os.path.exists(a) or not os.path.exists(b):
            why.append('output %s: written by %s' % (out, 'neither' if not os.path.exists(a) and not os.path.exists(b)
                                                     else 'plain only' if os.path.exists(a) else 'tome only'))
            continue
        with open(a, 'rb') as f:
            da = f.read()
        with open(b, 'rb') as f:
            db = f.read()
        if da != db:
            la, lb = da.split(b'\n'), db.split(b'\n')
            why.append('output %s differs:' % out)
            for i in range(max(len(la), len(lb))):
                x = la[i] if i < len(la) else b'(none)'
                y = lb[i] if i < len(lb) else b'(none)'
                if x != y:
                    why.append('      line %d plain: %r' % (i + 1, x[:110]))
                    why.append('      line %d tome:  %r' % (i + 1, y[:110]))
    diff = first_difference(os.path.join(pd, fname), os.path.join(td, fname))
    if diff:
        why.append(diff)
    return why


def run_case(case, nvim, tome_bin, work, fixtures, n, size):
    workdir = os.path.join(work, case.name)
    os.makedirs(workdir)
    tm = Tmux('tome-diff-%d-%d' % (os.getpid(), n))
    fixture = fixtures[case.file]
    fname = os.path.basename(fixture)
    screens = {}
    problems = []
    gib = size / GIB
    ready = 15.0 + 60.0 * gib
    timeout = case.timeout + case.timeout_per_gib * gib
    sampler = RssSampler(tm)
    try:
        pd = start_side(tm, 'plain', nvim, tome_bin, case, workdir, fixture)
        td = start_side(tm, 'tome', nvim, tome_bin, case, workdir, fixture)
        sampler.start()
        for side in ('plain', 'tome'):
            if not wait_ready(tm, side, ready):
                problems.append('%s: no screen after %d s' % (side, ready))
        for toks in case.lines:
            for side in ('plain', 'tome'):
                tm.send(side, [t for t in toks if t[0] != 'sleep'])
            for t in toks:
                if t[0] == 'sleep':
                    time.sleep(t[1])
            time.sleep(case.pause)
        time.sleep(0.3)
        for side in ('plain', 'tome'):
            screens[side] = tm.screen(side)
        finish = [('key', 'Escape')]
        for side in ('plain', 'tome'):
            tm.send(side, finish)
        time.sleep(0.1)
        for side in ('plain', 'tome'):
            tm.send(side, [('lit', ':call DiffResult()'), ('key', 'Enter'), ('lit', ':wq'), ('key', 'Enter')])
        end = time.time() + timeout
        left = ['plain', 'tome']
        while left and time.time() < end:
            left = [s for s in left if tm.alive(s)]
            time.sleep(0.05)
        for side in left:
            problems.append('%s: still running %d s after :wq (screen then below); forced :qa!'
                            % (side, timeout))
            screens[side + ' at timeout'] = tm.screen(side)
            tm.send(side, [('key', 'Escape'), ('key', 'Escape'), ('key', 'C-c'), ('lit', ':qa!'), ('key', 'Enter')])
        end = time.time() + 5
        while left and time.time() < end:
            left = [s for s in left if tm.alive(s)]
            time.sleep(0.1)
    finally:
        if sampler.is_alive():
            sampler.stop()
        tm.kill()
    why = problems + compare(case, pd, td, fname)
    return why, screens, pd, td, sampler.peaks


def main():
    if len(sys.argv) < 3:
        print(__doc__.split('\n\n')[1], file=sys.stderr)
        sys.exit(2)
    nvim, tome_bin = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    pattern = sys.argv[3] if len(sys.argv) > 3 else '*'
    cases = [Case(p) for p in sorted(glob.glob(os.path.join(HERE, 'cases', '*.keys')))]
    cases = [c for c in cases if fnmatch.fnmatch(c.name, pattern)]
    if not cases:
        print('no case matches %r' % pattern)
        sys.exit(2)
    size_text = os.environ.get('DIFF_SIZE', '24M')
    size = parse_size(size_text)
    xfail = {}
    with open(os.path.join(HERE, 'xfail.txt'), encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#'):
                name, _, reason = line.partition(' ')
                name, _, at_least = name.partition('@')
                if not at_least or size >= parse_size(at_least):
                    xfail[name] = reason.strip()
    stale = [n for n in xfail if n not in {os.path.basename(p)[:-5] for p in glob.glob(os.path.join(HERE, 'cases', '*.keys'))}]
    limit = os.environ.get('DIFF_RSS_LIMIT_MIB')
    limit = float(limit) if limit else (150.0 if size >= 512 * MIB else 0.0)
    work = tempfile.mkdtemp(prefix='tome-diff.')
    fixtures = {'big': os.path.join(work, 'big.log'), 'odd': os.path.join(work, 'odd.log'),
                'long': os.path.join(work, 'long.log')}
    subprocess.run([tome_bin, 'gen', '--size', size_text, fixtures['big']], check=True,
                   stdout=subprocess.DEVNULL)
    if any(c.file == 'odd' for c in cases):
        make_odd(fixtures['big'], fixtures['odd'])
    if any(c.file == 'long' for c in cases):
        make_long(fixtures['big'], fixtures['long'])
    for c in cases:
        if c.file not in fixtures:
            print('%s: unknown file %r' % (c.name, c.file))
            sys.exit(2)
    print('file: %s (%d bytes); Tome-side Neovim RSS limit: %s' % (
        size_text, os.path.getsize(fixtures['big']), '%g MiB' % limit if limit else 'none'),
        flush=True)
    passed = failed = expected = 0
    peaks = []
    t0 = time.time()
    for i, case in enumerate(cases):
        t = time.time()
        why, screens, pd, td, peak = run_case(case, nvim, tome_bin, work, fixtures, i, size)
        secs = time.time() - t
        peaks.append(peak)
        mem = 'RSS peak: tome nvim %.0f MiB, server %.0f MiB, plain nvim %.0f MiB' % (
            peak['tome'] / MIB, peak['server'] / MIB, peak['plain'] / MIB)
        over = limit and peak['tome'] > limit * MIB
        if not os.environ.get('DIFF_KEEP'):
            for d in (pd, td):
                try:
                    os.remove(os.path.join(d, os.path.basename(fixtures[case.file])))
                except OSError:
                    pass
        if over:
            failed += 1
            print('FAIL  %s (%.1fs; %s): the Tome side\'s Neovim went over %g MiB%s' % (
                case.name, secs, mem, limit, ' (and the case fails: listed in xfail.txt)'
                if why and case.name in xfail else ''), flush=True)
            for w in why:
                print('      ' + w)
            continue
        if not why:
            if case.name in xfail:
                failed += 1
                print('XPASS %s (%.1fs; %s): listed in xfail.txt but passes: remove it' % (case.name, secs, mem))
            else:
                passed += 1
                print('ok    %s (%.1fs; %s)' % (case.name, secs, mem), flush=True)
            continue
        if case.name in xfail:
            expected += 1
            print('xfail %s (%.1fs; %s): %s' % (case.name, secs, mem, xfail[case.name]), flush=True)
            if os.environ.get('DIFF_VERBOSE'):
                for w in why:
                    print('      ' + w)
            continue
        failed += 1
        print('FAIL  %s (%.1fs; %s): %s' % (case.name, secs, mem, case.about))
        for w in why:
            print('      ' + w)
        for side, s in screens.items():
            print('      --- %s screen:' % side)
            for line in s.rstrip('\n').split('\n'):
                print('      | ' + line)
        msgs = os.path.join(td, 'result.msgs')
        if os.path.exists(msgs):
            with open(msgs, encoding='utf-8', errors='replace') as f:
                m = [l for l in f.read().splitlines() if l.strip()]
            if m:
                print('      --- tome :messages (last 10):')
                for line in m[-10:]:
                    print('      | ' + line)
        sys.stdout.flush()
    for n in stale:
        print('note: xfail.txt lists %s, which is not a case' % n)
    if os.environ.get('DIFF_KEEP'):
        print('work directory kept: ' + work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    for key, what in (('tome', 'Tome-side Neovim'), ('server', 'Tome server'), ('plain', 'plain Neovim')):
        v = sorted(p[key] for p in peaks)
        med = (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2
        print('RSS peak of %s over %d cases: max %.0f MiB, median %.0f MiB' % (what, len(v), v[-1] / MIB, med / MIB))
    print('%d passed, %d failed, %d expected failures (%.0f s)' % (passed, failed, expected, time.time() - t0))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
