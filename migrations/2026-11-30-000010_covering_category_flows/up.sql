-- Budget spending and forecast series sum one category's rollup rows over a range of days (with
-- rollover, every day since the budget began: years of rows). Carrying the summed columns in
-- the index makes that an index-only scan. Measured with bench/budgets.sql (50 budgets, 10 of
-- them with rollover, over 1 M transactions, pgbench -c 16): 97-115 -> 169-175 queries/s; the
-- insert benchmark did not move (1,111-1,236 -> 1,162-1,292/s).
DROP INDEX daily_category_flows_category_idx;
CREATE INDEX daily_category_flows_category_idx ON daily_category_flows (user_id, category_id, day)
    INCLUDE (type, currency, amount, transactions);
