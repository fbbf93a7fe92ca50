DROP TABLE notifications;
DROP TABLE recurring_occurrences;
DROP TABLE recurring_transactions;
DROP TABLE bill_payments;
DROP TABLE bills;
DROP TABLE budget_categories;
DROP TABLE budgets;
