"""The simulated broker: an A-share counter behind the BrokerGateway port (see broker.py)."""

from app.gateways.sim.broker import SimulatedBroker

__all__ = ["SimulatedBroker"]
