/ A small schema for the live reflection tests: tables hold a row so that meta reports the
/ types of string columns (an empty () column is mixed, as in kdb+).
trade:([] time:2024.01.02D09:30:00 2024.01.02D09:30:01; sym:`AAPL`MSFT; price:185.5 370.1; size:100 200; side:"BS"; cond:(enlist "@";"FX"))
daily:([sym:`AAPL`MSFT; date:2024.01.02 2024.01.02] close:185.5 370.1; volume:1000 2000)

// @desc Last traded price.
// @param s {symbol} The instrument.
// @return {float}
.api.lastPx:{[s] exec last price from trade where sym=s}

\d .api
// @return {trade}
allTrades:{[] trade}
\d .

double:{x*2}
