-- Transfer matching of imported rows: a pending outflow from one wallet and a pending inflow of
-- the same amount into another within 3 days name each other; approving either makes the pair
-- one transfer (services::imports::review). No foreign key: a row whose partner is gone simply
-- has no match any more (the review clears such ids when it deletes a row).
ALTER TABLE transactions ADD COLUMN transfer_match_id uuid;
