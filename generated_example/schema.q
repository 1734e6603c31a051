/ A tick-style schema: the tables a real-time database (RDB) holds, with the morning's rows,
/ and the API a gateway exposes over them. qorm-codegen reflects it (tables from meta,
/ functions from system "f", their types from the qDoc comments below) into
/ generated_example/generated; app.py uses that package.

/ The tables hold a few rows because meta reports a column's type from its data: an empty
/ string column () is a mixed list until its first row arrives, in kdb+ as here.

/ reference data: one row per instrument, keyed by sym (unique)
instrument:([sym:`u#`AAPL`MSFT`IBM] name:("Apple Inc";"Microsoft Corp";"IBM Corp"); sector:`tech`tech`services; lot:100 100 50i; listed:1980.12.12 1986.03.13 1962.01.02)

/ trades and quotes, as a tickerplant publishes them (sym grouped, as an RDB holds it)
trade:([] time:`timestamp$(); sym:`g#`symbol$(); price:`float$(); size:`long$(); side:`char$(); cond:(); venue:`symbol$())
`trade insert (2024.01.02D09:30:00.100000000 2024.01.02D09:30:00.200000000; `AAPL`MSFT; 185.50 370.10; 100 200; "BS"; (enlist "@";"FI"); `XNAS`XNAS)

quote:([] time:`timestamp$(); sym:`g#`symbol$(); bid:`float$(); ask:`float$(); bsize:`long$(); asize:`long$())
`quote insert (2024.01.02D09:29:59.900000000 2024.01.02D09:30:00.000000000; `AAPL`MSFT; 185.45 370.00; 185.55 370.20; 300 100; 200 400)

/ end-of-day bars, keyed by sym and date
daily:([sym:`symbol$(); date:`date$()] open:`float$(); high:`float$(); low:`float$(); close:`float$(); volume:`long$())
`daily upsert (`AAPL;2023.12.29;193.90;194.40;191.73;192.53;42628800)

/ order book snapshots: the price and size ladders are nested columns (a vector per row)
book:([] time:`timestamp$(); sym:`symbol$(); bids:(); asks:(); depth:`short$())
`book insert (2024.01.02D09:30:00.000000000; `AAPL; enlist 185.45 185.40 185.35; enlist 185.55 185.60 185.65; 3h)

\d .api

// @desc Trades in some instruments within a time window.
// @param syms {symbol[]} The instruments.
// @param start {timestamp} Start of the window (inclusive).
// @param end {timestamp} End of the window (exclusive).
// @return {trade} The trades, in time order.
getTrades:{[syms;start;end]
  `time xasc select from trade where sym in syms, time>=start, time<end
  }

// @desc Volume-weighted average price of one instrument.
// @param s {sym} The instrument.
// @return {float|null} The VWAP, or null when it did not trade.
vwap:{[s] exec size wavg price from trade where sym=s}

// @desc The last quote of each instrument.
// @return {quote} One row per instrument.
lastQuote:{[] select by sym from quote}

// @desc Bid-ask spread statistics of one instrument.
// @param s {symbol} The instrument.
// @return {dict} avg, min and max of ask-bid.
spread:{[s] d:exec ask-bid from quote where sym=s; `avg`min`max!(avg d;min d;max d)}

\d .

// @desc The tickerplant's update callback: append rows to a table.
// @param t {symbol} Table name.
// @param x {table} The rows.
upd:{[t;x] t insert x}

// @desc Number of rows in each table.
// @return {dict}
counts:{[] tables[]!count each value each tables[]}
