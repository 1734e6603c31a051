"""An application written against the package qorm-codegen generated from ``schema.q``.

Every model and q function it touches comes from ``generated/``, so ``mypy --strict`` checks
the column names, the field types and the arguments of each q call against the live schema.
It runs against qorm's embedded q engine, loaded with the same ``schema.q``::

    python -m qorm_codegen generate --from-q generated_example/schema.q \\
        --out generated_example/generated
    mypy --strict generated_example/app.py
    python generated_example/app.py
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from generated import (
    Instrument,
    Quote,
    Trade,
    aio,
    api_get_trades,
    api_spread,
    api_vwap,
    counts,
)

from qorm import AsyncSession, Engine, Session, aj, avg_, count_, lj, sum_

HERE = Path(__file__).resolve().parent
OPEN = dt.datetime(2024, 1, 2, 9, 30)


def morning_trades() -> list[Trade]:
    """A few more trades, as a feed handler would build them."""
    rows = [
        ("AAPL", 185.60, 300, "B", "@"),
        ("IBM", 161.20, 50, "S", "@"),
        ("MSFT", 370.40, 100, "B", "FI"),
        ("AAPL", 185.70, 200, "S", "@"),
    ]
    return [
        Trade(
            time=OPEN + dt.timedelta(seconds=1 + i),
            sym=sym,
            price=price,
            size=size,
            side=side,
            cond=cond,
            venue="XNAS",
        )
        for i, (sym, price, size, side, cond) in enumerate(rows)
    ]


def main() -> None:
    engine = Engine.embedded(load=HERE / "schema.q")
    try:
        with Session(engine) as s:
            inserted = s.exec(Trade.insert(morning_trades()))
            print(f"inserted {inserted} trades")

            by_sym = s.exec(
                Trade.select(
                    Trade.sym,
                    avg_price=avg_(Trade.price),
                    volume=sum_(Trade.size),
                    trades=count_(),
                )
                .where(Trade.price > 100)
                .by(Trade.sym)
            )
            for row in by_sym:
                print(
                    f"{row.sym}: {row.trades} trades, avg {row.avg_price:.2f}, {row.volume} shares"
                )

            s.exec(Trade.update().set(venue="ARCX").where(Trade.sym == "IBM"))
            ibm = s.exec(Trade.select().where(Trade.sym == "IBM"))
            for trade in ibm:
                print(f"IBM traded {trade.size} at {trade.price} on {trade.venue}")

            print("\ntrades with the prevailing quote (aj):")
            print(s.exec(aj([Trade.sym, Trade.time], Trade, Quote)).to_dataframe().to_string())

            print("\ntrades with their instrument (lj):")
            print(s.exec(lj([Trade.sym], Trade, Instrument)).to_dataframe().to_string())

            window = api_get_trades(s, ["AAPL", "MSFT"], OPEN, OPEN + dt.timedelta(minutes=1))
            print(f"\n{len(window)} AAPL/MSFT trades in the first minute (.api.getTrades)")
            print(window.to_dataframe().to_string())
            vwap = api_vwap(s, "AAPL")
            print(f"AAPL VWAP: {vwap:.4f}" if vwap is not None else "AAPL did not trade")
            spread = api_spread(s, "AAPL")
            print(f"AAPL spread: avg {float(spread['avg']):.2f}, max {float(spread['max']):.2f}")
            print("rows per table:", {str(k): int(v) for k, v in counts(s).items()})
        asyncio.run(async_part(engine))
    finally:
        engine.dispose()


async def async_part(engine: Engine) -> None:
    """The same q functions from asyncio: ``generated.aio`` types them for AsyncSession."""
    async with AsyncSession(engine) as s:
        vwap, last = await asyncio.gather(aio.api_vwap(s, "MSFT"), aio.api_last_quote(s))
        print(f"\nasync: MSFT VWAP {vwap:.4f}, last quotes for {len(last)} instruments")


if __name__ == "__main__":
    main()
