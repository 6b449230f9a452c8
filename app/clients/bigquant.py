"""The BigQuant trading API client (BIGQUANT.md §1): signed GET requests, every page fetched.

- Signature: hex(HMAC-SHA256(secret_key, path + body + timestamp)), `path` without the query.
- Temporary failures (connection errors, timeouts, HTTP 5xx, 429) are retried with backoff; a
  wrong key, a non-zero `code`, an answer that is not JSON or not the expected shape, a page
  missing are not: they raise `BigQuantError` at once, in words a user understands.
- A fetch is all or nothing: one failed page fails the whole fetch (a partial day makes no order).

The only error that leaves this module is `BigQuantError` (and its subclasses).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from app.clients.planned_orders import (
    PlannedOrdersError,
    _ident,
    decode_utf8,
    parse_planned_orders,
    parse_planned_orders_json,
)
from app.domain.signals import SignalBatch, SignalLine

PLANNED_ORDER_PATH = "/planned_order"
MAX_PAGE_SIZE = 3000  # what BigQuant's own sample asks for
MAX_PAGES = 1000
MAX_RESPONSE_BYTES = 50 * 1024 * 1024
MAX_BACKOFF_S = 30.0
AUTH_CODES = range(40100, 40400)  # 401xx-403xx: the key or the signature was refused


class BigQuantError(Exception):
    """A fetch from BigQuant that did not work; the message is for the user."""


class BigQuantAuthError(BigQuantError):
    """The access key or secret key was refused: never retried."""


class BigQuantUnreachableError(BigQuantError):
    """No answer after every retry (connection refused, timeouts, 5xx, 429)."""


class BigQuantAnswerError(BigQuantError):
    """An answer that is not JSON, not the expected shape, a non-zero code, or a page missing."""


def sign(secret_key: str, path: str, body: str | bytes, timestamp_ms: str | int) -> str:
    """hex(HMAC-SHA256(secret_key, path + body + timestamp)) as BIGQUANT.md describes."""
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    message = f"{path}{body}{timestamp_ms}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    access_key: str, secret_key: str, path: str, body: str | bytes, timestamp_ms: int
) -> dict[str, str]:
    return {
        "X-BigQuant-Access-Key": access_key,
        "X-BigQuant-Timestamp": str(timestamp_ms),
        "X-BigQuant-Signature": sign(secret_key, path, body, timestamp_ms),
    }


@dataclass(frozen=True, slots=True)
class StrategyInfo:
    strategy_id: str
    account_id: str
    account_type: str
    params: Mapping[str, Any] = field(default_factory=dict)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000  # a request header, not trading time: the wall clock is right


class BigQuantClient:
    """Signed GETs against `base_url` (e.g. https://bigquant.com/bigapis/trading/v1)."""

    def __init__(
        self,
        base_url: str,
        access_key: str,
        secret_key: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        page_size: int = MAX_PAGE_SIZE,
        sleep: Callable[[float], None] = time.sleep,
        now_ms: Callable[[], int] = _now_ms,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not access_key or not secret_key:
            raise BigQuantAuthError(
                "BigQuant 密钥未设置 (the BigQuant keys are not set): "
                "python -m app secrets set bigquant.access_key / bigquant.secret_key"
            )
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, was {page_size}")
        self.base_url = base_url.rstrip("/")
        try:
            self._base_path = urlsplit(self.base_url).path.rstrip("/")
            httpx.URL(self.base_url)
        except (ValueError, httpx.InvalidURL) as exc:
            raise BigQuantError(f"bigquant.base_url 不是有效的地址 (not a valid URL): {exc}") from None
        self._access_key = access_key
        self._secret_key = secret_key
        self.retries = max(0, retries)
        self.backoff = backoff
        self.page_size = page_size
        self._sleep = sleep
        self._now_ms = now_ms
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def __repr__(self) -> str:  # never the keys
        return f"BigQuantClient({self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BigQuantClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ endpoints
    def strategy(self, strategy_id: str) -> StrategyInfo:
        # percent-encoded as it goes on the wire, and signed as it goes
        data = self._get(
            f"/strategies/{quote(strategy_id, safe='')}", {}, what=f"策略 {strategy_id} (strategy)"
        )
        accounts = data.get("account_id") if isinstance(data, dict) else None
        if (
            not isinstance(accounts, dict)
            or len(accounts) != 1
            or not all(isinstance(k, str) and isinstance(v, str | int) for k, v in accounts.items())
        ):
            raise BigQuantAnswerError(
                f"策略 {strategy_id} 的回答缺少 data.account_id (the strategy's answer has no "
                f"account_id {{paper account: account type}})"
            )
        ((account_id, account_type),) = accounts.items()
        params = data.get("strategy_params")
        return StrategyInfo(
            strategy_id, account_id, str(account_type), dict(params) if isinstance(params, dict) else {}
        )

    def paper_cash(self, account: StrategyInfo) -> dict[str, Any]:
        """The paper account's cash (`GET /accounts/{id}/cash`, BIGQUANT.md §1), as BigQuant gives it."""
        path = f"/accounts/{quote(account.account_id, safe='')}/cash"
        data = self._get(path, {}, what=f"模拟账户 {account.account_id} 资金 (paper account cash)")
        if not isinstance(data, dict):
            raise BigQuantAnswerError(
                f"模拟账户 {account.account_id} 资金: 回答没有 data 对象 (no data object)"
            )
        return data

    def paper_positions(self, account: StrategyInfo) -> list[dict[str, Any]]:
        """The paper account's positions (`GET /account_positions/{id}/positions`), as BigQuant gives them."""
        path = f"/account_positions/{quote(account.account_id, safe='')}/positions"
        data = self._get(path, {}, what=f"模拟账户 {account.account_id} 持仓 (paper account positions)")
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise BigQuantAnswerError(
                f"模拟账户 {account.account_id} 持仓: 没有 data.items 列表 (no list data.items in the answer)"
            )
        return items

    def planned_order_items(
        self, account: StrategyInfo, day: date, raw_pages: list[str] | None = None
    ) -> list[Any]:
        """Every planned order of `account` for `day`, all pages; raises when a page is missing.
        The answers' text, exactly as received, is appended to `raw_pages` when given."""
        constraints = json.dumps(
            {
                "account_type": account.account_type,
                "account_id": account.account_id,
                "trading_day__gte": day.isoformat(),
                "trading_day__lte": day.isoformat(),
            },
            separators=(",", ":"),
        )
        items: list[Any] = []
        total: int | None = None
        for page in range(1, MAX_PAGES + 1):
            what = f"计划订单第 {page} 页 (planned orders, page {page})"
            data = self._get(
                PLANNED_ORDER_PATH,
                {"constraints": constraints, "page": str(page), "size": str(self.page_size)},
                what=what,
                exact_numbers=True,
                raw=raw_pages,
            )
            page_items = data.get("items") if isinstance(data, dict) else None
            if not isinstance(page_items, list):
                raise BigQuantAnswerError(f"{what}: 没有 data.items 列表 (no list data.items in the answer)")
            page_total = data.get("total")
            if page_total is not None:
                if isinstance(page_total, bool) or not isinstance(page_total, int) or page_total < 0:
                    raise BigQuantAnswerError(f"{what}: data.total 不是非负整数 (not a count)")
                if total is not None and page_total != total:
                    raise BigQuantAnswerError(
                        f"{what}: 总数在翻页时改变 (the total changed between pages: {total} → {page_total})；"
                        "请稍后重试 (try again later)"
                    )
                total = page_total
            items.extend(page_items)
            if total is not None:
                if len(items) > total:
                    raise BigQuantAnswerError(
                        f"{what}: 收到 {len(items)} 条，多于总数 {total} (more items than the total)"
                    )
                if len(items) == total:
                    return items
                if not page_items or len(page_items) < _served_size(data, self.page_size):
                    raise BigQuantAnswerError(
                        f"{what} 缺失 (a page is missing): 总数 {total} 条，只收到 {len(items)} 条 "
                        f"(total {total}, received {len(items)})；不下任何单 (no order is placed)"
                    )
            elif len(page_items) < _served_size(data, self.page_size):
                return items  # no total given: a short page is the last one
        raise BigQuantAnswerError(f"计划订单超过 {MAX_PAGES} 页 (more than {MAX_PAGES} pages)")

    # ------------------------------------------------------------------ transport
    def _get(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        what: str,
        exact_numbers: bool = False,
        raw: list[str] | None = None,
    ) -> Any:
        url = self.base_url + path
        signed_path = self._base_path + path
        attempt = 0
        while True:
            retry_after: float | None = None
            headers = signed_headers(self._access_key, self._secret_key, signed_path, "", self._now_ms())
            try:
                response = self._http.get(url, params=params, headers=headers)
            except httpx.TimeoutException:
                problem = "超时 (timed out)"
            except httpx.TransportError as exc:
                problem = f"无法连接 (cannot connect): {type(exc).__name__}"
            except (httpx.HTTPError, httpx.InvalidURL) as exc:  # e.g. an invalid URL: not temporary
                raise BigQuantError(f"{what}: 请求失败 (request failed): {exc}") from None
            else:
                status = response.status_code
                if status >= 500 or status == 429:
                    problem = f"服务器暂时不可用 (server busy or failing): HTTP {status}"
                else:
                    return self._answer(response, what=what, exact_numbers=exact_numbers, raw=raw)
                retry_after = _retry_after(response)
            if attempt >= self.retries:
                raise BigQuantUnreachableError(
                    f"BigQuant 无法访问 (unreachable) {self.base_url}: {what}: {problem}；"
                    f"已尝试 {attempt + 1} 次 (tried {attempt + 1} times)"
                )
            delay = min(MAX_BACKOFF_S, self.backoff * 2**attempt)
            if problem.startswith("服务器") and retry_after is not None:
                delay = min(MAX_BACKOFF_S, max(delay, retry_after))
            attempt += 1
            self._sleep(delay)

    def _answer(
        self, response: httpx.Response, *, what: str, exact_numbers: bool, raw: list[str] | None = None
    ) -> Any:
        status = response.status_code
        body = response.content
        if len(body) > MAX_RESPONSE_BYTES:
            raise BigQuantAnswerError(f"{what}: 回答太大 (answer too large: {len(body):,} bytes)")
        payload: Any = None
        problem = ""
        try:
            text = decode_utf8(body, what="回答 (the answer)", exc_type=PlannedOrdersError)
            payload = (
                parse_planned_orders_json(text, source="回答 (the answer)")
                if exact_numbers
                else json.loads(text)
            )
        except PlannedOrdersError as exc:
            problem = str(exc)
        except (ValueError, RecursionError) as exc:
            problem = f"不是有效的 JSON (not valid JSON): {type(exc).__name__}"
        code = payload.get("code") if isinstance(payload, dict) else None
        message = _short(payload.get("message")) if isinstance(payload, dict) else ""
        if status in (401, 403) or (
            isinstance(code, int) and not isinstance(code, bool) and code in AUTH_CODES
        ):
            raise BigQuantAuthError(
                f"BigQuant 拒绝了密钥 (the key was refused): {message or f'HTTP {status}'}；"
                "请检查 bigquant.access_key 和 bigquant.secret_key "
                "(check them: python -m app secrets set bigquant.access_key)"
            )
        if problem:
            kind = response.headers.get("content-type", "?").split(";")[0]
            raise BigQuantAnswerError(
                f"{what}: BigQuant 的回答不是 JSON (the answer is not JSON; HTTP {status}, {kind}): {problem}"
            )
        if not isinstance(payload, dict) or "code" not in payload:
            raise BigQuantAnswerError(
                f"{what}: 回答不是预期的格式 (not the expected {{code, message, data}} envelope; HTTP {status})"
            )
        if isinstance(code, bool) or code != 0:
            raise BigQuantAnswerError(f"{what}: BigQuant 返回错误 (error) {_short(code)}: {message}")
        if status != 200:
            raise BigQuantAnswerError(f"{what}: HTTP {status}")
        if raw is not None:
            raw.append(text)
        return payload.get("data")


def _served_size(data: dict[str, Any], asked: int) -> int:
    """The page size the server used: it may give fewer than asked per page (and say so)."""
    size = data.get("size")
    if isinstance(size, int) and not isinstance(size, bool) and 1 <= size < asked:
        return size
    return asked


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


def _short(value: Any) -> str:
    if isinstance(value, int | str) and not isinstance(value, bool):
        text = str(value) if not isinstance(value, int) or value.bit_length() < 128 else "<huge>"
        return text if len(text) <= 200 else text[:197] + "…"
    return "" if value is None else f"<{type(value).__name__}>"


# ------------------------------------------------------------------------------------ batches


def validate_batches(
    batches: list[SignalBatch], day: date, known_codes: Collection[str] | None = None
) -> list[SignalBatch]:
    """Item 3's checks on top of the line parser (bounds, side, duplicates): every line belongs to
    `day`, and to a known instrument when `known_codes` is given. A bad line is moved to `rejected`
    with its reason; the rest of its batch goes on."""
    out: dict[str, tuple[list[SignalLine], list[tuple[str, str]]]] = {}
    for batch in batches:
        lines, rejected = out.setdefault(batch.strategy_id, ([], []))
        if batch.trading_day != day:
            reason = (
                f"交易日不符 (wrong trading day): {batch.trading_day.isoformat()}，"
                f"应为 {day.isoformat()} (expected)"
            )
            rejected.extend((line.signal_id, reason) for line in batch.lines)
            rejected.extend((ident, f"{reason}; {why}") for ident, why in batch.rejected)
            continue
        rejected.extend(batch.rejected)
        for line in batch.lines:
            if known_codes is not None and line.code not in known_codes:
                rejected.append(
                    (line.signal_id, f"当日未知证券 (unknown instrument on {day.isoformat()}): {line.code}")
                )
            else:
                lines.append(line)
    return [
        SignalBatch(strategy, day, tuple(lines), tuple(rejected))
        for strategy, (lines, rejected) in sorted(out.items())
    ]


class BigQuantSignalSource:
    """The SignalSource for BigQuant: the followed strategies' planned orders for a day.

    `fetch` raises BigQuantError when any request fails (no partial day); bad lines are kept in
    `SignalBatch.rejected` with their reasons. `raw_pages` holds the last fetch's answers.
    """

    def __init__(
        self,
        client: BigQuantClient,
        strategy_ids: Collection[str],
        known_codes: Callable[[date], Collection[str] | None] | None = None,
    ) -> None:
        self.client = client
        self.strategy_ids = tuple(strategy_ids)
        self.known_codes = known_codes
        self.raw_pages: dict[str, list[str]] = {}  # the last fetch's answers, per strategy, as received

    def fetch(self, day: date) -> list[SignalBatch]:
        if not self.strategy_ids:
            raise BigQuantError(
                "没有关注的策略 (no strategy to follow): 请设置 bigquant.strategy_ids "
                "(e.g. --set bigquant.strategy_ids=ID1,ID2)"
            )
        raw: dict[str, list[Any]] = {}
        pages: dict[str, list[str]] = {}
        for strategy_id in self.strategy_ids:
            account = self.client.strategy(strategy_id)
            raw[strategy_id] = self.client.planned_order_items(
                account, day, pages.setdefault(strategy_id, [])
            )
        self.raw_pages = pages
        known = self.known_codes(day) if self.known_codes is not None else None
        batches: list[SignalBatch] = []
        for strategy_id, items in raw.items():
            # a paper account may carry several strategies' orders: keep this strategy's only
            mine = [
                i for i in items if not isinstance(i, dict) or _of_strategy(i.get("strategy_id"), strategy_id)
            ]
            if not mine:
                batches.append(SignalBatch(strategy_id, day, ()))
                continue
            try:
                parsed = parse_planned_orders(mine, source=f"策略 {strategy_id}")
            except PlannedOrdersError as exc:  # not one usable line: every one rejected, by its id
                reason = str(exc) if len(str(exc)) <= 500 else str(exc)[:499] + "…"
                rejected = tuple((_ident(item, n), reason) for n, item in enumerate(mine, start=1))
                parsed = [SignalBatch(strategy_id, day, (), rejected)]
            validated = validate_batches(parsed, day, known)
            batches.extend(validated or [SignalBatch(strategy_id, day, ())])
        return batches


def _of_strategy(value: Any, strategy_id: str) -> bool:
    """An item of this strategy, or one whose strategy_id is missing or malformed (then its line is
    rejected with the reason, never silently dropped); another strategy's item belongs to that one."""
    if isinstance(value, str):
        return value.strip() in (strategy_id, "")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() <= 128:
        return str(value) == strategy_id
    return True


def source_from_settings(
    settings: Any,
    access_key: str | None,
    secret_key: str | None,
    known_codes: Callable[[date], Collection[str] | None] | None = None,
) -> BigQuantSignalSource:
    """The source for `settings` (a BigQuantSettings); keys come from the keyring, never the file."""
    client = BigQuantClient(
        settings.base_url,
        access_key or "",
        secret_key or "",
        timeout=settings.timeout_s,
        retries=settings.retries,
        page_size=settings.page_size,
    )
    return BigQuantSignalSource(client, settings.strategy_ids, known_codes)


def batches_as_json(batches: list[SignalBatch]) -> dict[str, Any]:
    """`python -m app fetch --json`: {"batches": [{strategy_id, trading_day, batch_id, lines, rejected}]}."""
    return {
        "batches": [
            {
                "strategy_id": batch.strategy_id,
                "trading_day": batch.trading_day.isoformat(),
                "batch_id": batch.batch_id,
                "lines": [
                    {
                        "signal_id": line.signal_id,
                        "code": line.code,
                        "side": line.side.value,
                        "qty": line.qty,
                        "price": None if line.ref_price is None else str(line.ref_price),
                        "exec_time": line.exec_time.strftime("%H:%M:%S"),
                    }
                    for line in batch.lines
                ],
                "rejected": [{"signal_id": ident, "reason": reason} for ident, reason in batch.rejected],
            }
            for batch in batches
        ]
    }


def format_batches(batches: list[SignalBatch], day: date) -> str:
    """The batches in plain words: each with its accepted lines and its rejected lines with reasons."""
    if not batches:
        return f"{day.isoformat()}: 没有计划订单 (no planned orders)"
    out: list[str] = []
    for batch in batches:
        out.append(
            f"策略 (strategy) {batch.strategy_id}  交易日 (day) {batch.trading_day.isoformat()}  "
            f"批次 (batch) {batch.batch_id[:12]}  接受 (accepted) {len(batch.lines)}  "
            f"拒绝 (rejected) {len(batch.rejected)}"
        )
        for line in batch.lines:
            price = "-" if line.ref_price is None else str(line.ref_price)
            out.append(
                f"  ✓ {line.signal_id}  {line.code} {line.name}  {line.side.value}  {line.qty}  "
                f"参考价 (ref) {price}  {line.exec_time:%H:%M}"
            )
        for ident, reason in batch.rejected:
            out.append(f"  ✗ {ident}: {reason}")
    out.append("没有下任何订单 (no order was placed)")
    return "\n".join(out)
