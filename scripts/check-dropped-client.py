#!/usr/bin/env python3
"""A client that disappears mid-session (ssh killed: the server's stdin and stdout close at once)
leaves the journal to recover from, never a half-written file. Run by scripts/test-nvim-remote.sh:
    check-dropped-client.py TOME_BIN DIR [SIZE_MIB]
Generates a file in DIR (default 100 MiB), then for each case starts `TOME_BIN serve`, edits
near the start, and closes both pipes: with the edit unsaved; and with a save sent 0, 50 and
300 ms before (a whole-file save: it takes longer than that on this file). Checks that the
server exits, that the file is byte for byte the original or the saved edit (never anything
else, nor a temporary file left beside it), and that when the edit was not saved a new server
offers it from the journal and recovers it. Prints one line a case and "N passed, M failed"."""
import glob, os, shutil, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tome_rpc import Tome  # noqa: E402

binary, work = sys.argv[1], sys.argv[2]
size = int(sys.argv[3]) if len(sys.argv) > 3 else 100
os.makedirs(work, exist_ok=True)
src = os.path.join(work, "orig.log")
subprocess.run([binary, "gen", src, "--size", f"{size}M"], check=True, stdout=subprocess.DEVNULL)
orig = open(src, "rb").read()
edited = orig[:10] + b"XYZ" + orig[10:]
passed = failed = 0


def case(name, save_delay):
    global passed, failed
    state = os.path.join(work, f"state-{name}")
    files = os.path.join(work, f"files-{name}")
    for d in (state, files):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    os.environ["TOME_STATE_DIR"] = state
    path = os.path.join(files, "big.log")
    shutil.copy(src, path)
    try:
        t = Tome(binary)
        t.initialize()
        doc = t.request("tome/open", {"path": path})["doc"]
        t.request("tome/edit", {"doc": doc, "version": 0, "edits": [{"offsets": {"start": 10, "end": 10}, "text": "XYZ"}]})
        time.sleep(0.5)  # (the journal is synced every 200 ms)
        if save_delay is not None:
            t.send("tome/save", {"doc": doc})
            time.sleep(save_delay)
        # The connection is gone: no shutdown, no exit, both pipes closed at once.
        t.p.stdin.close()
        t.p.stdout.close()
        code = t.p.wait(timeout=120)
        now = open(path, "rb").read()
        assert now in (orig, edited), f"the file is neither the original nor the saved edit ({len(now)} bytes)"
        assert sorted(os.listdir(files)) == ["big.log"], f"files left beside it: {os.listdir(files)}"
        how = "saved" if now == edited else "unsaved"
        if now == orig:
            assert glob.glob(os.path.join(state, "journal", "*.journal")), "no journal left"
            t = Tome(binary)
            t.initialize()
            res = t.request("tome/open", {"path": path})
            assert (res.get("recovery") or {}).get("fits"), f"no recovery offered: {res.get('recovery')}"
            t.request("tome/recover", {"doc": res["doc"]})
            t.request("tome/save", {"doc": res["doc"]})
            t.shutdown()
            assert open(path, "rb").read() == edited, "the recovered save differs from the edit"
            how += ", recovered from the journal"
        print(f"ok   {name}: server exit {code}, file {how}")
        passed += 1
    except Exception as e:  # (a failed check, or a server that does not answer)
        print(f"FAIL {name}: {e}")
        failed += 1


case("unsaved edit, pipes closed", None)
for delay in (0.0, 0.05, 0.3):
    case(f"save sent {int(delay * 1000)} ms before the pipes closed", delay)
shutil.rmtree(work, ignore_errors=True)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
