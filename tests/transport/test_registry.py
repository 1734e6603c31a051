"""EngineRegistry and EngineGroup, as in the seed README."""

from __future__ import annotations

import pytest

from qorm.engine import Engine
from qorm.exc import EngineNotFoundError
from qorm.registry import EngineGroup, EngineRegistry


def equities() -> EngineRegistry:
    reg = EngineRegistry()
    reg.register("rdb", Engine(host="eq-rdb", port=5010))
    reg.register("hdb", Engine(host="eq-hdb", port=5012))
    reg.register("gw", Engine(host="eq-gw", port=5000))
    return reg


class TestEngineRegistry:
    def test_first_is_default_then_set_default(self) -> None:
        reg = equities()
        assert reg.default == "rdb"
        assert reg.get().host == "eq-rdb"
        reg.set_default("gw")
        assert reg.names == ["rdb", "hdb", "gw"]
        assert reg.default == "gw"
        assert reg.get().port == 5000

    def test_unknown_name_lists_known(self) -> None:
        reg = equities()
        with pytest.raises(EngineNotFoundError, match=r"'tp'.*'rdb', 'hdb', 'gw'"):
            reg.get("tp")
        with pytest.raises(EngineNotFoundError, match="known: 'rdb'"):
            reg.set_default("tp")
        with pytest.raises(EngineNotFoundError, match="none registered"):
            _ = EngineRegistry().default

    def test_from_config(self) -> None:
        reg = EngineRegistry.from_config(
            {
                "rdb": {"host": "fx-rdb", "port": 5020, "user": "u", "pass": "p"},
                "hdb": {"dsn": "kdb://fx-hdb:5022", "timeout": 3},
            }
        )
        assert reg.get("rdb").username == "u" and reg.get("rdb").password == "p"
        assert reg.get("hdb").host == "fx-hdb" and reg.get("hdb").timeout == 3

    def test_from_config_unknown_key(self) -> None:
        with pytest.raises(ValueError, match="unknown key 'hots' in the config of 'rdb'"):
            EngineRegistry.from_config({"rdb": {"hots": "x", "port": 1}})

    def test_from_dsn(self) -> None:
        reg = EngineRegistry.from_dsn(
            {"rdb": "kdb://eq-rdb:5010", "hdb": "kdb://user:pass@eq-hdb:5012"}
        )
        assert reg.get("hdb").username == "user"
        with pytest.raises(ValueError, match="engine 'bad'"):
            EngineRegistry.from_dsn({"bad": "kdb://nohost"})

    def test_from_env(self) -> None:
        env = {
            "QORM_EQ_RDB_HOST": "eq-rdb",
            "QORM_EQ_RDB_PORT": "5010",
            "QORM_EQ_RDB_USER": "alice",
            "QORM_EQ_RDB_PASS": "pw",
            "QORM_EQ_HDB_PORT": "5012",
        }
        reg = EngineRegistry.from_env(names=["rdb", "hdb"], prefix="QORM_EQ", environ=env)
        assert reg.get("rdb") == Engine(host="eq-rdb", port=5010, username="alice", password="pw")
        assert reg.get("hdb").host == "localhost"
        with pytest.raises(ValueError, match="QORM_EQ_GW_PORT is not set"):
            EngineRegistry.from_env(names=["gw"], prefix="QORM_EQ", environ=env)

    def test_from_env_reads_os_environ(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("APP_TP_HOST", "tp")
        monkeypatch.setenv("APP_TP_PORT", "5001")
        assert EngineRegistry.from_env(["tp"], prefix="APP").get("tp").host == "tp"


class TestEngineGroup:
    def test_two_levels_and_attribute_access(self) -> None:
        group = EngineGroup()
        group.register("equities", equities())
        group.register(
            "fx",
            EngineRegistry.from_config(
                {"rdb": {"host": "fx-rdb", "port": 5020}, "hdb": {"host": "fx-hdb", "port": 5022}}
            ),
        )
        assert repr(group.equities.get("rdb")) == "Engine(host='eq-rdb', port=5010)"
        assert group.engine("fx", "hdb").port == 5022
        assert group.names == ["equities", "fx"]
        with pytest.raises(EngineNotFoundError, match=r"'rates'.*'equities', 'fx'"):
            _ = group.rates
        with pytest.raises(EngineNotFoundError):
            group.session("rates", "rdb")

    def test_from_config(self) -> None:
        group = EngineGroup.from_config(
            {
                "equities": {
                    "rdb": {"host": "eq-rdb", "port": 5010},
                    "hdb": {"host": "eq-hdb", "port": 5012},
                },
                "fx": {"rdb": {"host": "fx-rdb", "port": 5020}},
            }
        )
        assert group.fx.default == "rdb"
        assert group["equities"].get("hdb").host == "eq-hdb"


def test_session_on_a_named_engine() -> None:
    from qorm.session import Session
    from qorm.testing import MockKdbServer

    with MockKdbServer() as server:
        server.set_default_response(5)
        reg = EngineRegistry.from_config(
            {"rdb": {"host": "127.0.0.1", "port": server.port}, "hdb": {"port": 1}}
        )
        session = reg.session()
        assert isinstance(session, Session)
        with session as s:
            assert s.raw("2+3") == 5
        group = EngineGroup()
        group.register("equities", reg)
        with group.session("equities", "rdb") as s:
            assert s.raw("2+3") == 5
