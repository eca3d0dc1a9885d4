"""The command under faults, run as a user would (subprocesses on real files): ids whose
file names would collide, a file-size limit and a full or read-only file system, and
SIGTERM, SIGINT and SIGKILL at random moments followed by a re-run that must finish with
every mask present, byte-identical to an uninterrupted run, and no temporary file left."""

import contextlib
import csv
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from reference import ref_decode, ref_encode

SHAPE = (32, 256)  # (32 KiB an image in four channels)
posix_only = pytest.mark.skipif(os.name != "posix", reason="signals and rlimits are POSIX")


def command(*args, limit_bytes=None):
    def limit():
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return [sys.executable, "-m", "rlecodec", *map(str, args)], (limit if limit_bytes else None)


def run(*args, limit_bytes=None):
    argv, pre = command(*args, limit_bytes=limit_bytes)
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, preexec_fn=pre)


def dataset(tmp_path, n_images, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_images):
        for cls in (1, 2, 3, 4):
            m = np.zeros(SHAPE, np.uint8)
            y, x = rng.integers(0, SHAPE[0] - 8), rng.integers(0, SHAPE[1] - 30)
            m[y:y + 8, x:x + 30] = 1
            rows.append([f"img{k:04d}.jpg", cls, ref_encode(m)])
    path = tmp_path / "train.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([["ImageId", "ClassId", "EncodedPixels"], *rows])
    return path


def outputs(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def leftovers(folder):
    return [p.name for p in folder.iterdir() if ".tmp-" in p.name]


def one_line(stderr):
    lines = [line for line in stderr.strip().splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("rlecodec: ") and "Traceback" not in stderr
    return lines[0]


# ------------------------------------------------------------------------------ names
def test_ids_that_would_share_a_file_get_files_of_their_own(tmp_path):
    ids = ["a/b", "a_b", "x.jpg", "x.png", "A.png", "a.png", "plain.jpg", "n\\m"]
    texts = {image: f"{k + 1} {k + 2}" for k, image in enumerate(ids)}
    path = tmp_path / "t.csv"
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows([["ImageId", "EncodedPixels"], *texts.items()])
    out = tmp_path / "out"
    proc = run("decode", path, "--shape", "4x5", "--out", out)
    assert proc.returncode == 0 and "8 written" in proc.stderr, proc.stderr
    with open(out / "index.csv", newline="") as handle:
        index = dict(list(csv.reader(handle))[1:])
    assert sorted(index) == sorted(ids)
    files = list(index.values())
    assert len({f.casefold() for f in files}) == len(ids), "two ids share a file"
    assert index["plain.jpg"] == "plain.npy" and index["a_b"] == "a_b.npy"
    for image, text in texts.items():
        np.testing.assert_array_equal(np.load(out / index[image]), ref_decode(text, (4, 5)))
    assert sorted(p.name for p in out.glob("*.npy")) == sorted(files)
    again = run("decode", path, "--shape", "4x5", "--out", out)
    assert "0 written, 8 already there" in again.stderr
    # A shard names its files by the same rule (it sees every id of the CSV).
    shard = run("decode", path, "--shape", "4x5", "--out", tmp_path / "s", "--shard", "0/2")
    assert shard.returncode == 0
    with open(tmp_path / "s" / "index.csv", newline="") as handle:
        assert dict(list(csv.reader(handle))[1:]) == index


# ------------------------------------------------------------------------------ file systems
@posix_only
def test_a_file_size_limit_is_one_line_and_a_rerun_resumes(tmp_path):
    path = dataset(tmp_path, 40)
    reference = tmp_path / "ref"
    assert run("decode", path, "--shape", "32x256", "--out", reference).returncode == 0
    out = tmp_path / "out"
    # (A file-size limit below one mask's file: a disk that fills up at the first write.)
    proc = run("decode", path, "--shape", "32x256", "--out", out, limit_bytes=20_000)
    assert proc.returncode == 1
    line = one_line(proc.stderr)
    assert "File too large" in line and str(out) in line and "resumes" in line
    assert not leftovers(out)
    for name, data in outputs(out).items():
        assert data == (reference / name).read_bytes(), f"{name} is not whole"
    proc = run("decode", path, "--shape", "32x256", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert outputs(out) == outputs(reference) and not leftovers(out)


@posix_only
def test_encode_and_convert_leave_no_output_when_the_limit_is_hit(tmp_path):
    path = dataset(tmp_path, 30)
    proc = run("convert", path, "--shape", "32x256", "--to-base", "0", "--out",
               tmp_path / "c.csv", limit_bytes=4_000)
    assert proc.returncode == 1 and "File too large" in one_line(proc.stderr)
    assert not (tmp_path / "c.csv").exists() and not leftovers(tmp_path)
    masks = tmp_path / "masks"
    masks.mkdir()
    for k in range(20):
        np.save(masks / f"m{k}.npy", np.eye(32, 256, k, dtype=np.uint8))
    proc = run("encode", masks, "--out", tmp_path / "sub.csv", limit_bytes=2_000)
    assert proc.returncode == 1 and "File too large" in one_line(proc.stderr)
    assert not (tmp_path / "sub.csv").exists() and not leftovers(tmp_path)


@contextlib.contextmanager
def small_tmpfs(folder, options):
    """A tmpfs mounted at ``folder`` (root only, where the sandbox lets us mount)."""
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@posix_only
def test_a_full_file_system_is_one_line_and_a_rerun_resumes(tmp_path):
    path = dataset(tmp_path, 40)
    with small_tmpfs(tmp_path / "small", "size=300k") as out:
        proc = run("decode", path, "--shape", "32x256", "--out", out)
        assert proc.returncode == 1
        assert "No space left on device" in one_line(proc.stderr)
        assert not leftovers(out)
        written = [p for p in out.glob("*.npy")]
        for p in written:
            assert len(p.read_bytes()) == 128 + 32 * 256 * 4
        for p in written:
            p.unlink()
        proc = run("decode", path, "--shape", "32x256", "--out", out, "--shard", "0/20")
        assert proc.returncode == 0, proc.stderr


@posix_only
def test_a_read_only_folder_is_one_line(tmp_path):
    path = dataset(tmp_path, 3)
    with small_tmpfs(tmp_path / "ro", "ro,size=100k") as out:
        proc = run("decode", path, "--shape", "32x256", "--out", out)
        assert proc.returncode == 1 and "Read-only file system" in one_line(proc.stderr)


# ------------------------------------------------------------------------------ signals
@posix_only
@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130),
                                            (signal.SIGKILL, -9)])
def test_a_signal_at_a_random_moment_then_a_rerun_finishes_the_same(tmp_path, signum, status):
    path = dataset(tmp_path, 1500)
    reference, out = tmp_path / "ref", tmp_path / "out"
    try:
        t0 = time.monotonic()  # (timed as the runs below are made: two workers)
        assert run("decode", path, "--shape", "32x256", "--out", reference,
                   "--workers", "2").returncode == 0
        whole = time.monotonic() - t0
        rng = np.random.default_rng(signum)
        stopped = 0
        for _ in range(8):
            argv, _ = command("decode", path, "--shape", "32x256", "--out", out,
                              "--overwrite", "--workers", "2")
            start = time.monotonic()
            proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
            deadline = start + float(rng.uniform(0.45, 0.9)) * whole  # (mostly decoding)
            while proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            if proc.poll() is not None:  # it finished first (a warmer run): aim earlier
                whole = min(whole, time.monotonic() - start)
                proc.communicate(timeout=120)
                continue
            proc.send_signal(signum)
            _, stderr = proc.communicate(timeout=120)
            if proc.returncode == 0:
                continue  # (it finished first)
            if signum != signal.SIGKILL and proc.returncode == -signum and not stderr.strip():
                continue  # (it came while Python was still starting: nothing ran yet)
            stopped += 1
            assert proc.returncode == status, stderr
            if signum != signal.SIGKILL:
                line = one_line(stderr)
                assert signal.Signals(signum).name in line and "resumes" in line
                assert not leftovers(out), "a stopped run left temporary files"
            for name in (p.name for p in out.glob("*.npy")):
                assert (out / name).read_bytes() == (reference / name).read_bytes()
        assert stopped, "the run always finished before the signal"
        proc = run("decode", path, "--shape", "32x256", "--out", out)
        assert proc.returncode == 0, proc.stderr
        assert outputs(out) == outputs(reference) and not leftovers(out)
    finally:  # (about 100 MB of output in all)
        shutil.rmtree(reference, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)


@posix_only
def test_sigterm_during_convert_leaves_no_output(tmp_path):
    path = dataset(tmp_path, 3000)
    argv, _ = command("convert", path, "--shape", "32x256", "--to-order", "C", "--out",
                      tmp_path / "c.csv")
    t0 = time.monotonic()
    subprocess.run(argv, check=True, capture_output=True)
    whole = time.monotonic() - t0
    (tmp_path / "c.csv").unlink()
    for share in (0.5, 0.7, 0.4, 0.8, 0.6):
        proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
        time.sleep(share * whole)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
        if proc.returncode == -signal.SIGTERM and not stderr.strip():
            continue  # (it came while Python was still starting: nothing ran yet)
        if proc.returncode == 143:
            assert "SIGTERM" in one_line(stderr)
            assert not (tmp_path / "c.csv").exists() and not leftovers(tmp_path)
            return
        (tmp_path / "c.csv").unlink(missing_ok=True)
    pytest.fail("convert always finished before the signal")


def test_a_signal_inside_a_deferred_block_stops_the_run_when_the_block_ends():
    """A signal while the main thread waits on a worker must not raise inside the wait
    (an exception between a lock's bytecodes leaves it half released): it is taken where
    the block ends."""
    from rlecodec._output import Stopped, StopSignals

    signals = StopSignals()
    reached = []
    with signals, pytest.raises(Stopped) as stopped:
        with signals.deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # (the handler runs here; nothing may be raised)
            reached.append("the end of the block")
    assert reached == ["the end of the block"]
    assert stopped.value.signum == signal.SIGINT and signals.stop.is_set()
