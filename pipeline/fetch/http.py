"""HTTP for ``fetch``: requests, with retries, backoff, ``Retry-After``, pacing and clear
errors.

Why requests (and not urllib directly): it is the well-kept client Dagster already installs
(pinned in constraints.txt), streams downloads, enforces ``Content-Length`` through urllib3
(a body cut short raises instead of passing as a short file) and tells a name that does not
resolve from a connection reset. The retry loop is ours, not urllib3's ``Retry``: it must
sleep through an injectable clock (tests do not wait in real time), pace calls within the
API's call limit, bound the total time, and retry a 200 whose body was cut off.

Policy:

* 429, 500, 502, 503, 504, timeouts, resets and bodies cut short are retried with
  exponential backoff (1 s, 2 s, 4 s … at most 60 s), or after ``Retry-After`` when the
  server sends one (seconds or an HTTP date), until ``max_wait`` seconds have passed; then
  :class:`GaveUp` names what was fetched, the attempts and the last status.
* A host that cannot be reached at all (its name does not resolve, the connection is
  refused) is not retried: :class:`Unreachable`, one line.
* A whole answer that is a web page (HTML) instead of JSON is not retried: :class:`NotJson`
  (a wrong URL or a maintenance page answers the same each time).
* Any other 4xx is not retried: :class:`HttpStatusError` with the status and the start of
  the body; the caller adds what it likely means (PxWeb's 400).
* :meth:`Http.pace` keeps calls within ``max_calls`` per ``window`` seconds (a sliding
  window over the calls made, retries included).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NameResolutionError, NewConnectionError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "kuntakokeilu-pipeline/0.1 (python-requests; monthly fetch of public statistics)"


class FetchError(Exception):
    """A fetch that did not succeed; the message is one line meant for the user."""


class Unreachable(FetchError):
    """The host cannot be reached at all (no network, a wrong name, nothing listening)."""

    def __init__(self, message: str, host: str = "", reason: str = ""):
        super().__init__(message)
        self.host, self.reason = host, reason


class NotJson(FetchError):
    """A whole answer that is a web page (HTML), not the API's JSON: a wrong URL, or a
    maintenance page. Not retried: the same URL gives the same page."""


class GaveUp(FetchError):
    """Retried until the time allowed ran out."""

    def __init__(self, message: str, last_status: str):
        super().__init__(message)
        self.last_status = last_status


class HttpStatusError(FetchError):
    """An HTTP error status that retrying will not fix (400, 404 …)."""

    def __init__(self, message: str, status: int, body: str):
        super().__init__(message)
        self.status, self.body = status, body


class _Transient(Exception):
    """A failure worth retrying: what happened, and the server's Retry-After if any."""

    def __init__(self, what: str, retry_after: float | None = None):
        super().__init__(what)
        self.what, self.retry_after = what, retry_after


@dataclass
class Clock:
    """Time for the retry loop and the pacing: tests pass a fake that does not sleep."""

    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _reason(e: BaseException) -> str:
    """The innermost useful text of a requests/urllib3 exception."""
    seen = e
    for _ in range(6):
        inner = (getattr(seen, "reason", None) or (seen.args[0] if seen.args else None))
        if isinstance(inner, BaseException) and inner is not seen:
            seen = inner
            continue
        break
    text = str(seen)
    short = re.search(r"IncompleteRead\((\d+) bytes read, (\d+) more expected\)", text)
    if short:
        got, more = int(short.group(1)), int(short.group(2))
        return f"{got} of {got + more} bytes arrived"
    if isinstance(seen, NameResolutionError):
        return "the name does not resolve (no network, or a wrong host name)"
    if isinstance(seen, NewConnectionError):
        return "the connection was refused or the network is unreachable"
    return text.split(": ", 1)[-1][:200] if text else type(seen).__name__


def _unreachable(e: requests.ConnectionError) -> bool:
    seen: BaseException | None = e
    for _ in range(6):
        if isinstance(seen, (NameResolutionError, NewConnectionError)):
            return True
        if seen is None:
            return False
        inner = getattr(seen, "reason", None) or (seen.args[0] if seen.args else None)
        seen = inner if isinstance(inner, BaseException) else None
    return False


class Http:
    """One session's HTTP: retries, backoff, pacing and errors as described above."""

    def __init__(self, clock: Clock | None = None, *, max_wait: float = 600.0,
                 timeout: tuple[float, float] = (15.0, 120.0), backoff: float = 1.0,
                 max_backoff: float = 60.0, session: requests.Session | None = None,
                 notify: Callable[[str], None] | None = None):
        self.clock = clock or Clock()
        # Told each retry in one line, so a wait of minutes is not silence (the CLI's
        # stderr, the Dagster step's log).
        self.notify = notify
        self.max_wait = max_wait
        self.timeout = timeout
        self.backoff, self.max_backoff = backoff, max_backoff
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", USER_AGENT)
        self.max_calls: int | None = None
        self.window: float = 0.0
        self._calls: deque[float] = deque()
        self.calls = 0          # requests sent (retries included)
        self.waited = 0.0       # seconds slept (backoff and pacing)

    # -- pacing ---------------------------------------------------------------------------

    def set_rate_limit(self, max_calls: int | None, window: float) -> None:
        """At most ``max_calls`` calls in any ``window`` seconds (None: no limit)."""
        self.max_calls, self.window = max_calls, float(window)

    def pace(self) -> None:
        """Wait, if need be, so this call keeps within the call limit; then count it."""
        now = self.clock.monotonic()
        if self.max_calls:
            while self._calls and now - self._calls[0] >= self.window:
                self._calls.popleft()
            if len(self._calls) >= self.max_calls:
                wait = self._calls[0] + self.window - now
                if wait > 0:
                    self._sleep(wait)
                now = self.clock.monotonic()
                while self._calls and now - self._calls[0] >= self.window:
                    self._calls.popleft()
        self._calls.append(now)
        self.calls += 1

    def _sleep(self, seconds: float) -> None:
        self.waited += seconds
        self.clock.sleep(seconds)

    # -- requests -------------------------------------------------------------------------

    def get_json(self, url: str, what: str):
        """GET and parse JSON, retrying transient failures (a body that is not JSON too:
        a cut-off response)."""
        return self._retrying(lambda: self._json(self._send("GET", url, what, None), what), what,
                              url)

    def post_json(self, url: str, body: dict, what: str):
        """POST a JSON body and parse the JSON answer."""
        return self._retrying(lambda: self._json(self._send("POST", url, what, body), what), what,
                              url)

    def post_bytes(self, url: str, body: dict, what: str) -> bytes:
        """POST a JSON body; the answer's bytes, whole (checked against Content-Length)."""
        return self._retrying(lambda: self._send("POST", url, what, body).content, what, url)

    def download(self, url: str, dest: Path, what: str, chunk: int = 1 << 20) -> str:
        """Stream a GET to ``dest`` (overwritten on each attempt); returns its SHA-256. A
        body cut short or a reset mid-way is retried from the start."""

        def attempt() -> str:
            resp = self._send("GET", url, what, None, stream=True)
            h = hashlib.sha256()
            try:
                with open(dest, "wb") as f:
                    for block in resp.iter_content(chunk):
                        f.write(block)
                        h.update(block)
            except (requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ConnectionError) as e:
                raise _Transient(f"the download was cut off ({_reason(e)})") from None
            except requests.exceptions.Timeout:
                raise _Transient(f"no data for {self.timeout[1]:g} s (read timeout)") from None
            finally:
                resp.close()
            return h.hexdigest()

        return self._retrying(attempt, what, url)

    def _json(self, resp: requests.Response, what: str):
        try:
            body = resp.content
        except (requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ConnectionError) as e:
            raise _Transient(f"the response was cut off ({_reason(e)})") from None
        try:
            return resp.json() if body else None
        except ValueError:
            kind = resp.headers.get("Content-Type", "").split(";")[0].strip() or "no type"
            if "html" in kind or body.lstrip()[:1] == b"<":
                # The body arrived whole (urllib3 checks Content-Length): a page, not JSON
                # cut off. Retrying would wait out max_wait for the same page.
                title = re.search(rb"<title[^>]*>([^<]{0,120})", body, re.I)
                shown = (title.group(1).decode("utf-8", "replace").strip() if title else
                         body.lstrip()[:60].decode("utf-8", "replace"))
                raise NotJson(f"{what}: {resp.url} answered HTTP {resp.status_code} with a web "
                              f"page ({kind}, {len(body)} bytes: {shown!r}), not the API's "
                              "JSON") from None
            raise _Transient(f"HTTP {resp.status_code} but the body ({len(body)} bytes) is "
                             "not valid JSON (cut off?)") from None

    def _send(self, method: str, url: str, what: str, body: dict | None,
              stream: bool = False) -> requests.Response:
        """One request: the response if its status is good; _Transient for what a retry
        may fix; Unreachable / HttpStatusError / FetchError for what it will not."""
        self.pace()
        try:
            resp = self.session.request(method, url, json=body, timeout=self.timeout,
                                        stream=True)
        except requests.exceptions.ConnectionError as e:
            if _unreachable(e):
                raise Unreachable(f"cannot reach {_host(url)} ({url}): {_reason(e)}",
                                  _host(url), _reason(e)) from None
            if isinstance(e, requests.exceptions.ConnectTimeout):
                raise _Transient(f"no connection within {self.timeout[0]:g} s") from None
            raise _Transient(f"connection error ({_reason(e)})") from None
        except requests.exceptions.Timeout:
            raise _Transient(f"no answer within {self.timeout[1]:g} s (timeout)") from None
        except requests.exceptions.RequestException as e:
            raise FetchError(f"{what}: cannot request {url}: {_reason(e)}") from None
        if resp.status_code < 400:
            if not stream:
                try:
                    _ = resp.content  # read it all now, so a cut-off body is retried here
                except (requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ConnectionError) as e:
                    raise _Transient(f"HTTP {resp.status_code} but the body was cut off "
                                     f"({_reason(e)})") from None
                except requests.exceptions.Timeout:
                    raise _Transient(f"HTTP {resp.status_code} but the body stalled "
                                     f"(read timeout {self.timeout[1]:g} s)") from None
            return resp
        status = f"HTTP {resp.status_code} {resp.reason or ''}".strip()
        try:
            text = resp.content[:2000].decode("utf-8", "replace")
        except requests.exceptions.RequestException:
            text = ""
        finally:
            resp.close()
        if resp.status_code in RETRY_STATUSES:
            raise _Transient(status, parse_retry_after(resp.headers.get("Retry-After"),
                                                       self.clock.now()))
        raise HttpStatusError(f"{what}: {status} from {url}", resp.status_code, text)

    def _retrying(self, attempt: Callable, what: str, url: str):
        start = self.clock.monotonic()
        tries = 0
        while True:
            tries += 1
            try:
                return attempt()
            except _Transient as t:
                delay = t.retry_after if t.retry_after is not None else min(
                    self.max_backoff, self.backoff * 2 ** (tries - 1))
                spent = self.clock.monotonic() - start
                if spent + delay > self.max_wait:
                    asked = (f", asking to wait {t.retry_after:g} s more"
                             if t.retry_after is not None else "")
                    raise GaveUp(
                        f"{what}: gave up after {tries} attempt(s) in {spent:.0f} s "
                        f"(the limit is {self.max_wait:g} s); last: {t.what}{asked} from {url}",
                        t.what) from None
                if self.notify:
                    why = " (Retry-After)" if t.retry_after is not None else ""
                    self.notify(f"{what}: {t.what}; retrying in {delay:g} s{why}")
                self._sleep(delay)
