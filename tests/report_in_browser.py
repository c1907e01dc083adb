#!/usr/bin/env python3
"""The report as its readers see it: renders a report's index.html in headless
Chromium and fails on an image that does not load, a link to a local file (or
an in-page anchor) that does not exist, or a script error (an uncaught
exception, a console error, a resource that failed to load).

Python 3 standard library only. Chromium is driven through the DevTools
protocol over --remote-debugging-pipe: the browser reads commands on its fd 3
and writes answers and events on its fd 4, one JSON message per NUL byte.

  report_in_browser.py --rnnscope BIN [--self-check]   make a --quick report and check it
  report_in_browser.py --report DIR                    check an existing report folder
  report_in_browser.py --report DIR --screenshot OUT.png [--width 1280 --height 1800]

--self-check also breaks four copies of the report (one figure's PNG deleted,
one overwritten with bytes that are no picture, a link to a missing file added,
a script that throws added) and fails unless each copy fails the check with a
message naming what was broken.

Exit codes: 0 passed, 1 failed, 77 skipped (no Chromium, or it did not start;
the reason is printed), 2 usage.
"""

import argparse
import base64
import fcntl
import html.parser
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

SKIP = 77

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # needed as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-pipe",
]


class Skip(Exception):
    pass


def find_chromium():
    env = os.environ.get("RNNSCOPE_CHROMIUM")
    if env:
        return env if os.path.isfile(env) and os.access(env, os.X_OK) else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """One headless Chromium spoken to over the DevTools pipe."""

    def __init__(self, executable, timeout=20.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="rnnscope-chromium-")
        self.log = open(os.path.join(self.profile, "chromium-stderr.txt"), "w+b")
        to_child_r, self.to_child = os.pipe()
        self.from_child, from_child_w = os.pipe()
        # The child's ends well above 4, so that putting them on 3 and 4 clobbers neither.
        child_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_child_r)
        os.close(from_child_w)

        def on_fds_3_and_4():
            os.dup2(child_r, 3)
            os.dup2(child_w, 4)

        args = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"]
        try:
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                         close_fds=False, preexec_fn=on_fds_3_and_4)
        except OSError as e:
            self._cleanup()
            raise Skip(f"{executable} could not be started: {e}")
        finally:
            os.close(child_r)
            os.close(child_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []
        try:
            self.call("Browser.getVersion", timeout=15.0)
        except RuntimeError as e:
            tail = self.stderr_tail()
            self.close()
            raise Skip(f"{executable} did not start: {e}" + (f"\n{tail}" if tail else ""))

    def stderr_tail(self, lines=15):
        try:
            self.log.flush()
            self.log.seek(0)
            text = self.log.read().decode("utf-8", "replace").strip().splitlines()
            return "\n".join(text[-lines:])
        except (OSError, ValueError):
            return ""

    def _read_message(self, deadline):
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.from_child], [], [], left)
            if not ready:
                return None
            chunk = os.read(self.from_child, 1 << 20)
            if not chunk:
                try:
                    code = self.proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    code = "none yet"
                raise RuntimeError(f"Chromium closed the DevTools pipe (exit code {code})")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self.to_child, data):]
        except BrokenPipeError:
            raise RuntimeError("Chromium closed the DevTools pipe")
        return self.next_id

    def call(self, method, params=None, session=None, timeout=None):
        wanted = self.send(method, params, session)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            message = self._read_message(deadline)
            if message is None:
                raise RuntimeError(f"no answer to {method} within {timeout or self.timeout:g} s")
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error'].get('message', message['error'])}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_event(self, method, session, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            seen = len(self.events)
            message = self._read_message(deadline)
            if message is None:
                raise RuntimeError(f"no {method} within {timeout or self.timeout:g} s")
            if "method" in message:
                self.events.append(message)

    def drain(self, seconds):
        deadline = time.monotonic() + seconds
        while True:
            message = self._read_message(deadline)
            if message is None:
                return
            if "method" in message:
                self.events.append(message)

    def close(self):
        if getattr(self, "proc", None) and self.proc.poll() is None:
            try:
                self.send("Browser.close")
                self.proc.wait(timeout=5)
            except (RuntimeError, OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._cleanup()

    def _cleanup(self):
        for fd in ("to_child", "from_child"):
            if hasattr(self, fd):
                try:
                    os.close(getattr(self, fd))
                except OSError:
                    pass
                delattr(self, fd)
        try:
            self.log.close()
        except (OSError, AttributeError):
            pass
        shutil.rmtree(self.profile, ignore_errors=True)


class LinkParser(html.parser.HTMLParser):
    """Every URL that index.html refers to, and every id/name it defines."""

    ATTRIBUTES = {("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"), ("iframe", "src"),
                  ("object", "data"), ("embed", "src"), ("source", "src"), ("video", "src"), ("audio", "src"),
                  ("video", "poster"), ("track", "src"), ("input", "src")}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls = []  # (tag, attribute, value, line)
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            if (tag, name) in self.ATTRIBUTES:
                self.urls.append((tag, name, value, self.getpos()[0]))
            if name == "srcset" and tag in ("img", "source"):
                for candidate in value.split(","):
                    if candidate.strip():
                        self.urls.append((tag, name, candidate.split()[0], self.getpos()[0]))

    handle_startendtag = handle_starttag


def local_path(url, base_dir):
    """The file a relative or file: URL points at, or None for any other URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        return urllib.request.url2pathname(parts.path)
    if parts.scheme or parts.netloc:
        return None  # http:, mailto:, data:, javascript:, ... are not files of the report
    if not parts.path:
        return None  # "#anchor" or "?query" only: the page itself
    return os.path.normpath(os.path.join(base_dir, urllib.parse.unquote(parts.path)))


def static_problems(index):
    """Problems found in the HTML itself, without a browser: local files and anchors that do not exist,
    as (key, message) pairs."""
    base_dir = os.path.dirname(os.path.abspath(index))
    parser = LinkParser()
    with open(index, encoding="utf-8") as f:
        parser.feed(f.read())
    problems = []
    for tag, attribute, value, line in parser.urls:
        parts = urllib.parse.urlsplit(value)
        path = local_path(value, base_dir)
        if path is not None and not os.path.exists(path):
            kind = "broken link" if tag == "a" else "missing file"
            problems.append((("file", path),
                             f"{kind}: <{tag} {attribute}=\"{value}\"> (line {line}): {path} does not exist"))
        elif path is None and not parts.scheme and not parts.netloc and parts.fragment:
            anchor = urllib.parse.unquote(parts.fragment)
            if anchor not in parser.ids:
                problems.append((("anchor", anchor), f"broken link: <{tag} {attribute}=\"{value}\"> (line {line}): "
                                                      f"no element with id \"{anchor}\" in the page"))
    return problems, len(parser.urls)


# Run in the page after its load event: what the reader would see broken.
PAGE_CHECK = r"""
(() => {
  const out = {images: [], brokenImages: [], refs: [], anchors: []};
  for (const img of document.images) {
    const src = img.currentSrc || img.src;
    out.images.push(src);
    if (!img.complete || img.naturalWidth === 0 || img.naturalHeight === 0)
      out.brokenImages.push({src: img.getAttribute('src'), url: src, alt: img.alt});
  }
  const pick = [['a', 'href'], ['link', 'href'], ['object', 'data'], ['embed', 'src'], ['source', 'src'],
                ['iframe', 'src'], ['script', 'src'], ['video', 'src'], ['audio', 'src']];
  for (const [tag, attr] of pick)
    for (const el of document.querySelectorAll(tag + '[' + attr + ']')) {
      const raw = el.getAttribute(attr);
      const url = new URL(raw, document.baseURI);
      out.refs.push({tag, attr, raw, url: url.href});
      const here = url.href.split('#')[0] === document.URL.split('#')[0];
      if (here && url.hash.length > 1) {
        const id = decodeURIComponent(url.hash.slice(1));
        if (!document.getElementById(id) && document.getElementsByName(id).length === 0)
          out.anchors.push({tag, attr, raw, anchor: id});
      }
    }
  out.title = document.title;
  out.height = Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0);
  return out;
})()
"""


def describe_remote_object(obj):
    if obj.get("type") == "string":
        return obj.get("value", "")
    if "value" in obj:
        return json.dumps(obj["value"])
    return obj.get("description") or obj.get("type", "?")


def browser_problems(browser, index, screenshot=None, width=1280, height=1800):
    """Opens index in a new tab; returns (problems as (key, message) pairs, facts)."""
    url = "file://" + urllib.request.pathname2url(os.path.abspath(index))
    base_dir = os.path.dirname(os.path.abspath(index))
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    problems = []
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable", session=session)
        browser.call("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        first_event = len(browser.events)
        nav = browser.call("Page.navigate", {"url": url}, session=session)
        if nav.get("errorText"):
            return [(url, f"could not open {url}: {nav['errorText']}")], {}
        browser.wait_event("Page.loadEventFired", session)
        result = browser.call("Runtime.evaluate", {"expression": PAGE_CHECK, "returnByValue": True},
                              session=session)
        if "exceptionDetails" in result:
            return [(url, f"the page check itself failed: {result['exceptionDetails'].get('text')}")], {}
        page = result["result"]["value"]
        browser.drain(0.3)  # late console messages

        for img in page["brokenImages"]:
            alt = img["alt"] if len(img["alt"]) <= 60 else img["alt"][:57] + "..."
            problems.append((("image", img["url"]),
                             f"image does not load: <img src=\"{img['src']}\"> ({img['url']}; alt \"{alt}\")"))
        for ref in page["refs"]:
            path = local_path(ref["url"], base_dir)
            if path is not None and not os.path.exists(path):
                kind = "broken link" if ref["tag"] == "a" else "missing file"
                problems.append((("file", path), f"{kind}: <{ref['tag']} {ref['attr']}=\"{ref['raw']}\">: {path} does not exist"))
        for ref in page["anchors"]:
            problems.append((("anchor", ref["anchor"]),
                             f"broken link: <{ref['tag']} {ref['attr']}=\"{ref['raw']}\">: no such anchor in the page"))

        events = [e for e in browser.events[first_event:] if e.get("sessionId") == session]
        requested = {e["params"]["requestId"]: e["params"]["request"]["url"] for e in events
                     if e["method"] == "Network.requestWillBeSent"}
        for event in events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.exceptionThrown":
                d = params["exceptionDetails"]
                what = d.get("exception", {}).get("description") or d.get("text", "exception")
                message = (f"script error: uncaught {what.splitlines()[0]} "
                           f"(line {d.get('lineNumber', -1) + 1} of {d.get('url') or 'the page'})")
                problems.append((message, message))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                text = " ".join(describe_remote_object(a) for a in params.get("args", []))
                message = f"script error: console.{params['type']}: {text}"
                problems.append((message, message))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                entry = params["entry"]
                message = (f"console error ({entry.get('source')}): {entry.get('text')}"
                           + (f" {entry['url']}" if entry.get("url") else ""))
                # A resource that failed is named once, by Network.loadingFailed.
                key = ("load", entry["url"]) if entry.get("source") == "network" and entry.get("url") else message
                problems.append((key, message))
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                url_failed = requested.get(params.get("requestId"), "an unknown URL")
                problems.append((("load", url_failed), f"resource failed to load: {url_failed} ({params.get('errorText')})"))

        if screenshot:
            shot = browser.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False},
                                session=session)
            with open(screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        facts = {"images": len(page["images"]), "links": len(page["refs"]), "title": page["title"],
                 "height": page["height"]}
        return problems, facts
    finally:
        browser.call("Target.closeTarget", {"targetId": target})


def check(browser, index, **kwargs):
    """All problems of one report's index.html, the static ones (with line numbers) first; a file,
    anchor or failed load that both checks find is named once."""
    found, _ = static_problems(index)
    in_browser, facts = browser_problems(browser, index, **kwargs)
    seen, problems = set(), []
    for key, message in found + in_browser:
        if key not in seen:
            seen.add(key)
            problems.append(message)
    return problems, facts


def self_check(browser, report_dir, work):
    """Breaks copies of the report, one way each; each copy must fail with a message that names the
    breakage, from the browser's check and, where the HTML alone shows it, from the static check too."""
    index_text = open(os.path.join(report_dir, "index.html"), encoding="utf-8").read()
    parser = LinkParser()
    parser.feed(index_text)
    pngs = [urllib.parse.unquote(v) for tag, attr, v, _ in parser.urls if tag == "img" and v.endswith(".png")]

    def broken_copy(name):
        dest = os.path.join(work, name)
        shutil.copytree(report_dir, dest)
        return dest

    def add_to_page(dest, html):
        path = os.path.join(dest, "index.html")
        text = open(path, encoding="utf-8").read()
        assert "</main>" in text, "self-check: no </main> in index.html"
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace("</main>", html + "\n</main>", 1))

    # (what, copy, words Chromium's message must hold, words the HTML check's must hold or None)
    cases = []
    dest = broken_copy("deleted-figure")
    if pngs:
        victim = pngs[0]
        os.remove(os.path.join(dest, victim))
    else:  # no figure was drawn (no gnuplot): an <img> of a file that is not there
        victim = "no-such-figure.png"
        add_to_page(dest, f'<img src="{victim}" alt="missing">')
    cases.append(("a deleted figure", dest, ["image does not load", victim], ["missing file", victim]))

    dest = broken_copy("corrupt-figure")
    victim = pngs[-1] if pngs else "corrupt-figure.png"
    with open(os.path.join(dest, victim), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n not a picture")
    if not pngs:
        add_to_page(dest, f'<img src="{victim}" alt="corrupt">')
    cases.append(("a figure whose PNG is corrupt", dest, ["image does not load", victim], None))

    dest = broken_copy("broken-link")
    add_to_page(dest, '<p><a href="no-such-table.csv">a table that is not there</a></p>')
    cases.append(("a link to a missing file", dest, ["broken link", "no-such-table.csv"],
                  ["broken link", "no-such-table.csv"]))

    dest = broken_copy("script-error")
    add_to_page(dest, '<script>throw new Error("rnnscope self-check")</script>')
    cases.append(("a script that throws", dest, ["script error", "rnnscope self-check"], None))

    failures = []
    for what, dest, browser_words, static_words in cases:
        index = os.path.join(dest, "index.html")
        checks = [("Chromium", browser_words, [m for _, m in browser_problems(browser, index)[0]])]
        if static_words:
            checks.append(("the HTML check", static_words, [m for _, m in static_problems(index)[0]]))
        for who, words, problems in checks:
            named = [p for p in problems if all(w in p for w in words)]
            if named:
                print(f"self-check: {what} is caught by {who}: {named[0]}")
            else:
                failures.append(f"self-check: {what} was NOT caught by {who} (wanted a problem naming "
                                f"{words}; got {problems or 'no problem at all'})")
    return failures


def make_report(rnnscope, out):
    cmd = [rnnscope, "report", "--quick", "--quiet", "--out", out]
    run = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=120)
    if run.returncode != 0:
        raise SystemExit(f"FAILED: {' '.join(cmd)} exited with {run.returncode}\n{run.stderr}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--rnnscope", metavar="BIN", help="make a report with `BIN report --quick` and check it")
    source.add_argument("--report", metavar="DIR", help="check the report in DIR (its index.html)")
    ap.add_argument("--self-check", action="store_true",
                    help="also prove that a missing or corrupt image, a broken link and a script error each fail the check")
    ap.add_argument("--screenshot", metavar="PNG", help="save the top of the page as it renders")
    ap.add_argument("--width", type=int, default=1280, help="viewport width in CSS pixels (1280)")
    ap.add_argument("--height", type=int, default=1800, help="viewport height, the screenshot's height (1800)")
    args = ap.parse_args()

    chromium = find_chromium()
    if not chromium:
        wanted = os.environ.get("RNNSCOPE_CHROMIUM")
        print(f"SKIPPED: $RNNSCOPE_CHROMIUM ({wanted}) is not an executable file" if wanted else
              "SKIPPED: Chromium not found (no chromium, chromium-browser, google-chrome or chrome on PATH; "
              "set RNNSCOPE_CHROMIUM to its path)", "- install Debian's chromium package to run this test",
              flush=True)
        return SKIP

    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="rnnscope-report-check-")
    try:
        if args.rnnscope:
            report_dir = os.path.join(work, "report")
            make_report(args.rnnscope, report_dir)
        else:
            report_dir = args.report
        index = os.path.join(report_dir, "index.html")
        if not os.path.isfile(index):
            print(f"FAILED: {index} does not exist")
            return 1

        try:
            browser = Browser(chromium)
        except Skip as e:
            print(f"SKIPPED: {e}", flush=True)
            return SKIP
        try:
            problems, facts = check(browser, index, screenshot=args.screenshot, width=args.width,
                                    height=args.height)
            unproven = self_check(browser, report_dir, work) if args.self_check else []
        except RuntimeError as e:  # Chromium stopped answering, or the page never finished loading
            print(f"FAILED: {e}")
            tail = browser.stderr_tail()
            if tail:
                print(tail)
            return 1
        finally:
            browser.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    took = time.monotonic() - started
    shown = "the --quick report" if args.rnnscope else index
    if problems:
        print(f"FAILED: {shown} as Chromium shows it has {len(problems)} problem(s):")
        for p in problems:
            print(f"  {p}")
    if unproven:
        print("FAILED: the check missed a breakage it must catch:")
        for p in unproven:
            print(f"  {p}")
    if problems or unproven:
        return 1
    print(f"passed: {shown} renders in Chromium with {facts['images']} images loaded, {facts['links']} links "
          f"to existing files or anchors and no script error"
          + (", and each deliberate breakage of a copy was caught" if args.self_check else "")
          + f" ({took:.1f} s)" + (f"; screenshot {args.screenshot}" if args.screenshot else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
