DROP INDEX daily_category_flows_category_idx;
CREATE INDEX daily_category_flows_category_idx ON daily_category_flows (user_id, category_id, day);
