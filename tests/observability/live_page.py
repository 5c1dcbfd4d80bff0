"""Opens a URL of `aex dashboard` in headless Chromium and watches the page
update itself: speaks the DevTools protocol over --remote-debugging-pipe
(fds 3 and 4, JSON messages ended by NUL) and polls, in the one loaded page,
the snapshot the page was served with (`initial.seq`), the last one it shows
(#live's data-seq) and a module row's event count. Succeeds once the page
shows two snapshots after its initial one and the module's count has grown
(60 s deadline); prints "initial shown count_before count_after navigations".
usage: live_page.py URL PROFILE_DIR MODULE"""
import json
import os
import subprocess
import sys
import time

url, profile, module = sys.argv[1], sys.argv[2], sys.argv[3]
to_chrome_r, to_chrome_w = os.pipe()
from_chrome_r, from_chrome_w = os.pipe()


def child_fds():  # the pipes' ends as the child's fds 3 (it reads) and 4 (it writes)
    a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
    os.dup2(a, 3)
    os.dup2(b, 4)


chrome = subprocess.Popen(
    ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
     "--disable-background-networking", "--disable-component-update", "--disable-sync",
     f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
    preexec_fn=child_fds, close_fds=False, stderr=subprocess.DEVNULL)
os.close(to_chrome_r)
os.close(from_chrome_w)
pending = b""
last_id = 0


def call(method, params=None, session=None):
    global pending, last_id
    last_id += 1
    message = {"id": last_id, "method": method, "params": params or {}}
    if session:
        message["sessionId"] = session
    os.write(to_chrome_w, json.dumps(message).encode() + b"\0")
    while True:  # skip events until our answer
        while b"\0" not in pending:
            chunk = os.read(from_chrome_r, 65536)
            if not chunk:
                sys.exit("chromium closed the pipe")
            pending += chunk
        raw, pending = pending.split(b"\0", 1)
        answer = json.loads(raw)
        if answer.get("id") == last_id:
            if "error" in answer:
                sys.exit(f"{method}: {answer['error']}")
            return answer["result"]


PROBE = """JSON.stringify({
  initial: typeof initial === "object" && initial ? initial.seq : null,
  shown: Number(document.getElementById("live").dataset.seq || 0),
  navigations: performance.getEntriesByType("navigation").length,
  count: Number((document.getElementById("module-%s") || {dataset: {}}).dataset.events ?? -1)})
""" % module

try:
    target = call("Target.createTarget", {"url": url})["targetId"]
    session = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    first = last = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        value = call("Runtime.evaluate", {"expression": PROBE, "returnByValue": True},
                     session)["result"].get("value")
        last = json.loads(value) if value else None
        if last and last["initial"] is not None:
            first = first or last
            if last["shown"] >= last["initial"] + 2 and last["count"] > first["count"]:
                print(last["initial"], last["shown"], first["count"], last["count"],
                      last["navigations"])
                break
        time.sleep(0.1)  # polling the page, with the deadline above
    else:
        sys.exit(f"the page did not update itself within 60 s: first {first}, last {last}")
finally:
    chrome.kill()
    chrome.wait()
