"""The report page in a real headless Chromium: every <img> decodes and every
<audio> loads its WAV's metadata with a positive duration.

The page is served over HTTP on 127.0.0.1 (as a user would serve a report
folder off a cluster); the test serves a copy of index.html with a probe script
injected that writes what loaded into data- attributes, and asserts on the DOM
Chromium dumps. The report itself stays script-free.
"""
from __future__ import annotations

import functools
import re
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pyannow_hpc.report.render import render

pytestmark = pytest.mark.browser

PROBE = """<script>
function pwMark() {
  const imgs = [...document.images], auds = [...document.querySelectorAll('audio')];
  const b = document.body;
  b.dataset.imgsTotal = imgs.length;
  b.dataset.imgsOk = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  b.dataset.audioTotal = auds.length;
  b.dataset.audioOk = auds.filter(a => a.readyState >= 1 && a.duration > 0 && isFinite(a.duration)).length;
  b.dataset.audioDurations = auds.map(a => a.duration.toFixed(3)).join(',');
  b.dataset.audioErrors = auds.filter(a => a.error).map(a => a.error.code).join(',');
}
document.addEventListener('DOMContentLoaded', () => {
  document.querySelectorAll('audio').forEach(a => { a.addEventListener('loadedmetadata', pwMark); a.addEventListener('error', pwMark); });
  window.addEventListener('load', pwMark);
  pwMark();
});
setInterval(pwMark, 100);
</script>"""


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        pytest.fail("chromium is not installed: run scripts/install_system_deps.sh as root (apt-get install chromium)")
    return exe


@pytest.fixture
def served_report(ledger, tmp_path):
    path, led = ledger
    out = tmp_path / "report"
    index = render(path, out, top_k=3, progress=False)
    page = index.read_text()
    (out / "probe.html").write_text(page.replace("</body>", PROBE + "</body>"))
    handler = functools.partial(QuietHandler, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/probe.html", led, tmp_path
    finally:
        server.shutdown()
        server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


def chromium_dump_dom(url: str, profile_dir) -> str:
    cmd = [
        _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--mute-audio", f"--user-data-dir={profile_dir}",
        "--virtual-time-budget=5000", "--dump-dom", url,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_report_page_audio_and_images_load_in_chromium(served_report):
    url, led, tmp = served_report
    dom = chromium_dump_dom(url, tmp / "chromium-profile")
    body = re.search(r"<body([^>]*)>", dom)
    assert body, dom[:500]
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))
    assert attrs.get("imgs-total") == "4" and attrs.get("imgs-ok") == "4", attrs  # z, loss, scatter, piano roll
    assert attrs.get("audio-total") == "4" and attrs.get("audio-ok") == "4", attrs
    assert attrs.get("audio-errors") == "", attrs
    # each WAV is as long as its notes: last onset + the synth's tail, never empty
    durations = [float(d) for d in attrs["audio-durations"].split(",")]
    assert all(d > 0.5 for d in durations), durations
    # the target track is the scored 4 s window (last onset 3.7 s into it)
    assert 3.7 < durations[0] < 5.0, durations
