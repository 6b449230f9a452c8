"""[qmt]: the QMT (xttrader) connection for live trading."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.config._fields import boolean, id_list, integer, meta, string


@dataclass(frozen=True, slots=True)
class QmtSettings:
    userdata_path: str = field(
        default="",
        metadata=meta(
            parse=string,
            expected="a folder path (the QMT userdata_mini folder)",
            help="QMT's userdata_mini folder",
        ),
    )
    session_id: int = field(
        default=0,
        metadata=meta(
            parse=integer(0, 2**31 - 1),
            expected="an integer from 0 to 2147483647",
            help="xttrader session id; 0 chooses one",
        ),
    )
    live_trading_enabled: bool = field(
        default=False,
        metadata=meta(
            parse=boolean,
            expected="true or false",
            help="allow sending orders to a real account (it must also be armed for the day)",
        ),
    )
    watchlist: tuple[str, ...] = field(
        default=(),
        metadata=meta(
            parse=id_list,
            expected="a list of distinct codes such as 600000.SH; in env or --set: a,b,c",
            help="codes whose xtdata quotes are followed besides the holdings and the plan (live)",
        ),
    )
