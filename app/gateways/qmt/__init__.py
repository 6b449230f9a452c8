"""The QMT gateway: a real account through xtquant's own xttrader (the only package importing xtquant).

gateway.py (QmtGateway, the BrokerGateway port), convert.py (xtquant's objects and codes to Tiller's
reports), paths.py (the userdata_mini folder and the session id), errors.py (what the user is told).
xtquant itself is imported lazily (gateway.load_xtquant), so this package imports on any machine.
"""

from app.gateways.qmt.errors import QmtError
from app.gateways.qmt.gateway import ConnectionState, QmtGateway, load_xtquant
from app.gateways.qmt.paths import choose_session_id, find_userdata_path

__all__ = [
    "ConnectionState",
    "QmtError",
    "QmtGateway",
    "choose_session_id",
    "find_userdata_path",
    "load_xtquant",
]
