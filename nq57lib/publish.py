"""Publishing a run: the lock on the output folder, the temporary run folder, the manifest, the index
page, and ``latest``.

A run writes into ``<out>/.tmp-<run id>/`` and renames it to ``<out>/<run id>/`` at the end.
``<out>/latest`` is switched (atomically) to a run only when the run is complete (every report of the
whole set) and every report succeeded, so a failed, interrupted or partial run never replaces a good
one. Only the process that runs ``nq57 run`` holds the lock (workers and kernels never inherit it), and
it writes its process id into the lock file, so a run killed with ``kill -9`` frees the folder at once
and a busy folder names its holder. Any file-system error while publishing (a full disk, a read-only
folder) is an :class:`OutputError` (exit code 3) and leaves no temporary folder behind.
"""
from __future__ import annotations

import datetime as _dt
import errno
import fcntl
import html
import json
import os
import shutil
from pathlib import Path

from .errors import EXIT_OUTPUT, Nq57Error

#: file-system errors that mean "the output folder cannot take the run" rather than a notebook's fault
OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}


class OutputError(Nq57Error):
    """The output folder cannot be written, or another run holds it."""
    exit_code = EXIT_OUTPUT


def describe_os_error(e: OSError) -> str:
    """An OSError in words, with the file it concerns."""
    return _why(e) + (f" (writing {e.filename})" if getattr(e, "filename", None) else "")


def _why(e: OSError) -> str:
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    if e.errno == errno.EFBIG:
        return "a file is larger than this system allows (file size limit)"
    return e.strerror or str(e)


class OutputLock:
    """Exclusive use of an output folder for one run (``flock`` on ``<out>/.nq57.lock``)."""

    def __init__(self, out: Path):
        self.out = out
        self.file = None

    def __enter__(self) -> "OutputLock":
        try:
            if self.out.exists() and not self.out.is_dir():
                raise OutputError(f"cannot write to the output folder {self.out}: it is a file, not a folder; "
                                  "choose a folder with --out")
            self.out.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.out / ".nq57.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            raise OutputError(f"cannot write to the output folder {self.out}: {_why(e)}; choose another with --out") from None
        self.file = os.fdopen(fd, "r+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self.file.read().strip()
            self.file.close()
            who = f" (process {holder})" if holder.isdigit() else ""
            raise OutputError(f"another nq57 run{who} is writing to {self.out}; wait for it to finish or use another --out") from None
        try:
            self.file.seek(0)
            self.file.truncate()
            self.file.write(str(os.getpid()))
            self.file.flush()
        except OSError:
            pass  # the pid is a courtesy: a full disk must not stop the run from reporting it
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.file.seek(0)
            self.file.truncate()
        except OSError:
            pass
        self.file.close()


def clean_stale(out: Path, log=print) -> list[str]:
    """Remove what a run that died (kill -9, out of memory, a CI timeout) left: its temporary folder and
    a half-made ``latest`` link. Safe only while holding the lock (no other run can be writing)."""
    removed = []
    for p in sorted(out.glob(".tmp-*")) + sorted(out.glob(".latest-*")):
        try:
            if p.is_symlink() or p.is_file():
                p.unlink()
            else:
                shutil.rmtree(p)
            removed.append(p.name)
        except OSError:
            pass
    if removed:
        log(f"Removed what an earlier run that did not finish left behind: {', '.join(removed)}")
    return removed


def new_run_folder(out: Path) -> tuple[str, Path]:
    """A fresh run id (UTC time) and its temporary folder."""
    run_id = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base, n = run_id, 1
    while any((out / name).exists() for name in (run_id, f".tmp-{run_id}", f"{run_id}-interrupted")):
        n += 1
        run_id = f"{base}.{n}"
    tmp = out / f".tmp-{run_id}"
    try:
        tmp.mkdir()
        (tmp / "logs").mkdir()
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"cannot write to the output folder {out}: {_why(e)}; choose another with --out") from None
    return run_id, tmp


def output_failure(jobs) -> str:
    """The message of the first report that failed because the output folder could not take it ('' if none)."""
    for j in jobs:
        if j.error and j.error.get("errno") in OUTPUT_ERRNOS:
            return j.error["message"]
    return ""


def finish(out: Path, tmp: Path, run_id: str, manifest: dict, publish_latest: bool) -> Path:
    """Write the manifest and index, rename the temporary folder, and switch ``latest`` if asked."""
    try:
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        (tmp / "index.html").write_text(index_page(manifest), encoding="utf-8")
        final = out / (run_id if manifest["status"] != "interrupted" else f"{run_id}-interrupted")
        os.rename(tmp, final)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"cannot write the run into {out}: {_why(e)}; nothing was published, "
                          f"{out / 'latest'} is unchanged") from None
    if publish_latest:
        link = out / f".latest-{run_id}"
        try:
            os.symlink(final.name, link)
            os.replace(link, out / "latest")
        except OSError as e:
            try:
                link.unlink()
            except OSError:
                pass
            raise OutputError(f"the run is in {final} but {out / 'latest'} could not be switched to it: {_why(e)}") from None
    return final


def discard(tmp: Path) -> None:
    shutil.rmtree(tmp, ignore_errors=True)


def manifest_entry(job, run_dir: Path, project_root: Path) -> dict:
    """One report in ``manifest.json``: what ran, how it went, its page, its inputs' key (incremental runs)."""
    return {"id": job.id, "name": job.name, "title": job.title,
            "notebook": os.path.relpath(job.notebook, project_root), "parameters": job.parameters,
            "status": job.status, "duration_s": job.duration_s, "error": job.error,
            "html": f"{job.id}.html" if (run_dir / f"{job.id}.html").exists() else None,
            "inputs": (job.inputs or {}).get("key"), "reused_from": (job.inputs or {}).get("reused_from")}


_STATUS = {"succeeded": ("Thành công", "Succeeded"), "failed": ("Lỗi", "Failed"), "reused": ("Dùng lại", "Reused"),
           "interrupted": ("Bị dừng", "Interrupted"), "pending": ("Chưa chạy", "Not run")}


def index_page(manifest: dict) -> str:
    """The run's index.html: every report with its status, time and error (bilingual; everything escaped)."""
    esc = html.escape
    rows = []
    for r in manifest["reports"]:
        vi, en = _STATUS.get(r["status"], (r["status"], r["status"]))
        link = f'<a href="{esc(r["html"])}">{esc(r["title"])}</a>' if r["html"] else esc(r["title"])
        err = ""
        if r["error"]:
            cell = f" (ô/cell {r['error']['cell']})" if r["error"].get("cell") is not None else ""
            msg = (r["error"]["message"] or "").splitlines()[0] if r["error"]["message"] else ""
            err = f"{esc(r['error']['error'])}{esc(cell)}: {esc(msg)}"
        status = f"{esc(vi)} / {esc(en)}"
        if r.get("reused_from"):
            status += f' <span class="meta">(từ lượt / from run {esc(r["reused_from"])})</span>'
        rows.append(f'<tr class="{esc(r["status"])}"><td>{link}</td><td>{status}</td>'
                    f'<td>{r["duration_s"]:.1f} s</td><td>{err}</td></tr>')
    vi, en = _STATUS.get(manifest["status"], (manifest["status"],) * 2)
    partial = ""
    if manifest.get("partial"):
        partial = (" · chạy một phần (--only/--province): không thay thế <code>latest</code> / "
                   "partial run (--only/--province): <code>latest</code> not replaced")
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><title>nq57: báo cáo Nghị quyết 57 / Resolution 57 reports</title>
<style>body{{font-family:"DejaVu Sans",Arial,sans-serif;margin:2em;max-width:70em;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:.4em .6em;text-align:left}}
tr.failed td{{background:#fbe9e7}}tr.interrupted td{{background:#fff8e1}}.meta{{color:#555;font-size:.9em}}</style></head>
<body><h1>Báo cáo theo dõi Nghị quyết 57-NQ/TW</h1><p>Resolution 57-NQ/TW progress reports</p>
<p class="meta">Lượt chạy / run {esc(manifest["run_id"])} · {esc(vi)} / {esc(en)} · dữ liệu / data sha256 {esc(manifest["data_hash"][:12])}
· <a href="manifest.json">manifest.json</a>{partial}</p>
<table><thead><tr><th>Báo cáo / Report</th><th>Trạng thái / Status</th><th>Thời gian / Time</th><th>Lỗi / Error</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></body></html>
"""
