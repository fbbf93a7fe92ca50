use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::money::Money;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    /// The PostgreSQL `date_trunc` field (a fixed word, safe in SQL text).
    pub fn sql(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Sub-categories rolled into their top-level category.
    Top,
    /// Each category as used.
    Leaf,
}

/// What a report covers: `from`/`to` (inclusive) or the last `days` (default 30), one wallet or
/// all, one currency (default the wallet's or the user's; amounts in other currencies are left
/// out, never added).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The last N days including today, 1 to 3660 (default 30 when no dates are given).
    #[param(minimum = 1, maximum = 3660)]
    pub days: Option<u32>,
    /// Only this wallet; the report is then in the wallet's currency.
    pub wallet_id: Option<Uuid>,
    /// ISO 4217 code (default: the wallet's with `wallet_id`, else the user's).
    #[param(example = "VND")]
    pub currency: Option<String>,
    /// For trend and cash flow: `day`, `week` (from Monday) or `month` (default).
    pub granularity: Option<Granularity>,
    /// For spending by category: `top` (default) or `leaf`.
    pub level: Option<Level>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryShare {
    pub category_id: Uuid,
    pub name: String,
    pub amount: Money,
    /// Percent of all spending in the report; the shares add up to exactly 100.
    #[schema(value_type = f64, example = 42.5)]
    pub share_pct: Money,
    pub transaction_count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LargestExpense {
    pub id: Uuid,
    pub amount: Money,
    pub description: String,
    pub date: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Comparison {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub income: Money,
    pub expense: Money,
    /// Null when the previous period had none.
    #[schema(value_type = Option<f64>)]
    pub income_change_pct: Option<Money>,
    #[schema(value_type = Option<f64>)]
    pub expense_change_pct: Option<Money>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub currency: String,
    pub income: Money,
    pub expense: Money,
    pub net: Money,
    /// Money moved between the user's own wallets (not income or expense).
    pub transfer_volume: Money,
    pub transaction_count: i64,
    /// Expense divided by the days in the range.
    pub average_daily_expense: Money,
    pub largest_expense: Option<LargestExpense>,
    /// The five largest categories (split shares counted apart).
    pub top_categories: Vec<CategoryShare>,
    /// The same number of days just before.
    pub compared_to_previous_period: Comparison,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrendPoint {
    pub period_start: NaiveDate,
    pub income: Money,
    pub expense: Money,
    pub net: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CashFlowPeriod {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub opening: Money,
    /// Income and transfers in.
    pub inflow: Money,
    /// Expenses and transfers out.
    pub outflow: Money,
    pub closing: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletCashFlow {
    pub wallet_id: Uuid,
    pub wallet_name: String,
    pub periods: Vec<CashFlowPeriod>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DailyAmount {
    pub date: NaiveDate,
    pub amount: Money,
}

/// Seed 002's expense summary: totals, daily average, by category and by day.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpenseSummary {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub currency: String,
    pub total: Money,
    pub count: i64,
    pub average_daily: Money,
    pub by_category: Vec<CategoryShare>,
    /// Every day of the range, zeros included.
    pub by_day: Vec<DailyAmount>,
}

/// Statistics of the expense amounts (one per transaction).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpenseStats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub currency: String,
    pub count: i64,
    pub total: Money,
    pub mean: Option<Money>,
    pub median: Option<Money>,
    pub max: Option<Money>,
    pub min: Option<Money>,
    /// Sample standard deviation (0 for fewer than two).
    pub std_dev: Option<Money>,
}

/// One member's income and expense in the report's period and currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberShare {
    /// `null`: what FinAI recorded itself (recurring templates, autopay; `automatic`), or
    /// what former members whose accounts are gone recorded (one line for all of them).
    pub user_id: Option<Uuid>,
    #[schema(example = "Lan")]
    pub name: Option<String>,
    /// FinAI recorded these itself. The rows of accounts deleted before this field existed
    /// count here too: nothing recorded told them apart.
    pub automatic: bool,
    pub income: Money,
    pub expense: Money,
    pub transaction_count: i64,
}

/// One category's line of a profit-and-loss statement: its amount in each month of the
/// report (in the order of `months`) and its total.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfitAndLossLine {
    pub category_id: Uuid,
    #[schema(example = "Office supplies")]
    pub name: String,
    pub by_month: Vec<Money>,
    pub total: Money,
}

/// Income and expense by category and month, with the net result (business ledgers).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfitAndLoss {
    #[schema(example = "VND")]
    pub currency: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The first day of each month the report covers, oldest first.
    pub months: Vec<NaiveDate>,
    pub income: Vec<ProfitAndLossLine>,
    pub expense: Vec<ProfitAndLossLine>,
    pub income_by_month: Vec<Money>,
    pub expense_by_month: Vec<Money>,
    /// Income − expense, per month.
    pub net_by_month: Vec<Money>,
    pub total_income: Money,
    pub total_expense: Money,
    pub net: Money,
}

/// Income or expense of one tax rate: the amounts include the tax.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaxRateLine {
    /// `income` (tax collected) or `expense` (tax paid).
    #[serde(rename = "type")]
    #[schema(example = "income")]
    pub kind: String,
    /// Percent.
    #[schema(value_type = f64, example = 10)]
    pub rate: Money,
    /// The amounts as recorded, tax included.
    pub gross: Money,
    /// `gross − tax`.
    pub net: Money,
    /// `gross × rate / (100 + rate)`, to 4 decimals.
    pub tax: Money,
    pub transaction_count: i64,
}

/// A deductible expense category's total.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeductibleCategory {
    pub category_id: Uuid,
    #[schema(example = "Office supplies")]
    pub name: String,
    pub amount: Money,
    pub transaction_count: i64,
}

/// Tax collected and paid per rate, the balance due, and the deductible expenses (business
/// ledgers).
#[derive(Debug, Serialize, ToSchema)]
pub struct TaxSummary {
    #[schema(example = "VND")]
    pub currency: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by_rate: Vec<TaxRateLine>,
    /// Tax included in income (collected).
    pub output_tax: Money,
    /// Tax included in expenses (paid).
    pub input_tax: Money,
    /// `output_tax − input_tax`: negative when more was paid than collected.
    pub net_tax_due: Money,
    pub deductible_expenses: Money,
    pub deductible_by_category: Vec<DeductibleCategory>,
}

/// What a report comes as: `json` (default, in the envelope), `pdf` (with its chart and table,
/// A4, page numbers) or `xlsx` (typed cells, a frozen header and a native chart).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    #[default]
    Json,
    Pdf,
    Xlsx,
}

/// The file a report is answered as, and how numbers and dates read in it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportFormatQuery {
    pub format: Option<ReportFormat>,
    /// A BCP 47 language tag for the file's number and date formats (default: the account's
    /// `language`).
    #[param(example = "vi-VN")]
    pub locale: Option<String>,
}

/// The reports as documents for their PDF and xlsx forms: the same figures as their JSON.
pub mod documents {
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    use super::*;
    use crate::dto::budgets::BudgetStatusLine;
    use crate::export::{Cell, Chart, ChartKind, Document, Series};

    fn money(m: &Money) -> Cell {
        Cell::Money(m.0)
    }

    fn category_rows(rows: &[CategoryShare]) -> Vec<Vec<Cell>> {
        rows.iter()
            .map(|r| {
                vec![
                    Cell::Text(r.name.clone()),
                    money(&r.amount),
                    Cell::Percent(r.share_pct.0),
                    Cell::Count(r.transaction_count),
                ]
            })
            .collect()
    }

    const CATEGORY_COLUMNS: [&str; 4] = ["Category", "Amount", "Share", "Transactions"];

    pub fn summary(report: &SummaryReport) -> Document {
        let mut document = Document::new("Summary", report.from, report.to, &report.currency)
            .columns(&CATEGORY_COLUMNS);
        document.facts = vec![
            ("Income".into(), money(&report.income)),
            ("Expense".into(), money(&report.expense)),
            ("Net".into(), money(&report.net)),
            ("Transfers".into(), money(&report.transfer_volume)),
            ("Transactions".into(), Cell::Count(report.transaction_count)),
            (
                "Average daily expense".into(),
                money(&report.average_daily_expense),
            ),
        ];
        if let Some(largest) = &report.largest_expense {
            document.facts.push((
                format!("Largest expense: {}", largest.description),
                money(&largest.amount),
            ));
        }
        document.rows = category_rows(&report.top_categories);
        let mut document = document.chart_of(ChartKind::Pie, 0, &[1]);
        // The pie is of all spending: what the top categories leave is one more slice, whose
        // share is what theirs leave of 100.
        let shown: Decimal = report.top_categories.iter().map(|c| c.amount.0).sum();
        if let Some(chart) = document.chart.as_mut() {
            chart.shares = report
                .top_categories
                .iter()
                .map(|c| c.share_pct.0)
                .collect();
            if report.expense.0 > shown {
                chart.labels.push("Other".into());
                chart.series[0].values.push(report.expense.0 - shown);
                let rest = Decimal::ONE_HUNDRED - chart.shares.iter().copied().sum::<Decimal>();
                chart.shares.push(rest.max(Decimal::ZERO));
            }
        }
        document
    }

    pub fn spending_by_category(
        rows: &[CategoryShare],
        (from, to, currency): (NaiveDate, NaiveDate, &str),
    ) -> Document {
        let mut document =
            Document::new("Spending by category", from, to, currency).columns(&CATEGORY_COLUMNS);
        let total = rows.iter().map(|r| r.amount.0).sum();
        document.facts = vec![("Total spent".into(), Cell::Money(total))];
        document.rows = category_rows(rows);
        let mut document = document.chart_of(ChartKind::Pie, 0, &[1]);
        if let Some(chart) = document.chart.as_mut() {
            chart.shares = rows.iter().map(|r| r.share_pct.0).collect();
        }
        document
    }

    pub fn trend(
        points: &[TrendPoint],
        (from, to, currency): (NaiveDate, NaiveDate, &str),
    ) -> Document {
        let mut document = Document::new("Income and expense over time", from, to, currency)
            .columns(&["Period", "Income", "Expense", "Net"]);
        let income = points.iter().map(|p| p.income.0).sum();
        let expense = points.iter().map(|p| p.expense.0).sum();
        document.facts = vec![
            ("Income".into(), Cell::Money(income)),
            ("Expense".into(), Cell::Money(expense)),
            ("Net".into(), Cell::Money(income - expense)),
        ];
        document.rows = points
            .iter()
            .map(|p| {
                vec![
                    Cell::Date(p.period_start),
                    money(&p.income),
                    money(&p.expense),
                    money(&p.net),
                ]
            })
            .collect();
        document.chart_of(ChartKind::Bars, 0, &[1, 2])
    }

    pub fn cash_flow(
        wallets: &[WalletCashFlow],
        (from, to, currency): (NaiveDate, NaiveDate, &str),
    ) -> Document {
        let mut document = Document::new("Cash flow", from, to, currency).columns(&[
            "Wallet",
            "Period",
            "Opening",
            "Money in",
            "Money out",
            "Closing",
        ]);
        document.rows = wallets
            .iter()
            .flat_map(|w| {
                w.periods.iter().map(|p| {
                    vec![
                        Cell::Text(w.wallet_name.clone()),
                        Cell::Date(p.period_start),
                        money(&p.opening),
                        money(&p.inflow),
                        money(&p.outflow),
                        money(&p.closing),
                    ]
                })
            })
            .collect();
        let inflow = wallets
            .iter()
            .flat_map(|w| &w.periods)
            .map(|p| p.inflow.0)
            .sum();
        let outflow = wallets
            .iter()
            .flat_map(|w| &w.periods)
            .map(|p| p.outflow.0)
            .sum();
        document.facts = vec![
            ("Money in".into(), Cell::Money(inflow)),
            ("Money out".into(), Cell::Money(outflow)),
        ];
        // Each bar group is a wallet's, named by it (and its period when it has several).
        let mut document = document.chart_of(ChartKind::Bars, 0, &[3, 4]);
        if wallets.iter().any(|w| w.periods.len() > 1) {
            if let Some(chart) = document.chart.as_mut() {
                chart.labels = wallets
                    .iter()
                    .flat_map(|w| {
                        w.periods
                            .iter()
                            .map(|p| format!("{} {}", w.wallet_name, p.period_start))
                    })
                    .collect();
            }
        }
        document
    }

    pub fn by_member(
        members: &[MemberShare],
        (from, to, currency): (NaiveDate, NaiveDate, &str),
    ) -> Document {
        let mut document = Document::new("Spending and income by member", from, to, currency)
            .columns(&["Member", "Income", "Expense", "Transactions"]);
        document.rows = members
            .iter()
            .map(|m| {
                vec![
                    Cell::Text(match (&m.name, m.automatic) {
                        (Some(name), _) => name.clone(),
                        (None, true) => "FinAI (automatic)".into(),
                        (None, false) => "Former member".into(),
                    }),
                    money(&m.income),
                    money(&m.expense),
                    Cell::Count(m.transaction_count),
                ]
            })
            .collect();
        document.chart_of(ChartKind::Bars, 0, &[1, 2])
    }

    /// The statement's lines by category (income, then expense) with their totals, the net
    /// result, and a chart of income and expense per month.
    pub fn profit_and_loss(report: &ProfitAndLoss) -> Document {
        let mut document =
            Document::new("Profit and loss", report.from, report.to, &report.currency)
                .columns(&["Category", "Type", "Total"]);
        document.facts = vec![
            ("Income".into(), money(&report.total_income)),
            ("Expense".into(), money(&report.total_expense)),
            ("Net result".into(), money(&report.net)),
        ];
        let lines = |lines: &[ProfitAndLossLine], kind: &str| -> Vec<Vec<Cell>> {
            lines
                .iter()
                .map(|l| {
                    vec![
                        Cell::Text(l.name.clone()),
                        Cell::Text(kind.into()),
                        money(&l.total),
                    ]
                })
                .collect()
        };
        document.rows = lines(&report.income, "income");
        document.rows.extend(lines(&report.expense, "expense"));
        document.rows.push(vec![
            Cell::Text("Net result".into()),
            Cell::Empty,
            money(&report.net),
        ]);
        document.chart = Some(Chart {
            kind: ChartKind::Bars,
            shares: Vec::new(),
            label_column: None,
            labels: report
                .months
                .iter()
                .map(|m| m.format("%Y-%m").to_string())
                .collect(),
            series: vec![
                Series {
                    name: "Income".into(),
                    values: report.income_by_month.iter().map(|m| m.0).collect(),
                },
                Series {
                    name: "Expense".into(),
                    values: report.expense_by_month.iter().map(|m| m.0).collect(),
                },
            ],
        });
        document
    }

    pub fn tax_summary(report: &TaxSummary) -> Document {
        let mut document = Document::new("Tax summary", report.from, report.to, &report.currency)
            .columns(&["Rate", "Gross", "Net", "Tax", "Transactions"]);
        document.facts = vec![
            ("Tax collected (output)".into(), money(&report.output_tax)),
            ("Tax paid (input)".into(), money(&report.input_tax)),
            ("Net tax due".into(), money(&report.net_tax_due)),
            (
                "Deductible expenses".into(),
                money(&report.deductible_expenses),
            ),
        ];
        document.rows = report
            .by_rate
            .iter()
            .map(|line| {
                vec![
                    Cell::Text(format!("{} at {} %", line.kind, line.rate.0.normalize())),
                    money(&line.gross),
                    money(&line.net),
                    money(&line.tax),
                    Cell::Count(line.transaction_count),
                ]
            })
            .collect();
        document.chart_of(ChartKind::Bars, 0, &[3])
    }

    pub fn budget_progress(
        lines: &[BudgetStatusLine],
        (from, to, currency): (NaiveDate, NaiveDate, &str),
    ) -> Document {
        // The amount and what rolled over from the period before (negative after an overrun)
        // make the period's limit: amount + rolled over − spent = remaining, as in the JSON.
        let mut document = Document::new("Budget progress", from, to, currency).columns(&[
            "Budget",
            "Period end",
            "Budget amount",
            "Rolled over",
            "Spent",
            "Remaining",
            "Used",
        ]);
        document.rows = lines
            .iter()
            .map(|line| {
                let amount = |m: &Money| Cell::Amount(m.0, line.currency.clone());
                vec![
                    Cell::Text(line.name.clone()),
                    Cell::Date(line.period_end),
                    amount(&line.amount),
                    amount(&line.rolled_over),
                    amount(&line.spent),
                    amount(&line.remaining),
                    Cell::Percent(line.progress.0),
                ]
            })
            .collect();
        let exceeded = lines.iter().filter(|l| l.is_exceeded).count();
        document.facts = vec![
            ("Budgets".into(), Cell::Count(lines.len() as i64)),
            ("Exceeded".into(), Cell::Count(exceeded as i64)),
        ];
        // Spent beside what remains: together, the period's limit. One axis holds one
        // currency: budgets in others stay out of the chart, and a key figure says so.
        let others = lines.iter().filter(|l| l.currency != currency).count();
        if others == 0 {
            return document.chart_of(ChartKind::Bars, 0, &[4, 5]);
        }
        document.facts.push((
            "Not charted (other currencies)".into(),
            Cell::Count(others as i64),
        ));
        let charted: Vec<&BudgetStatusLine> =
            lines.iter().filter(|l| l.currency == currency).collect();
        if !charted.is_empty() {
            let series = |name: &str, value: fn(&BudgetStatusLine) -> Money| Series {
                name: name.into(),
                values: charted.iter().map(|l| value(l).0).collect(),
            };
            document.chart = Some(Chart {
                kind: ChartKind::Bars,
                // Not the table's rows: the workbook charts none, the PDF draws these.
                label_column: None,
                labels: charted.iter().map(|l| l.name.clone()).collect(),
                series: vec![
                    series("Spent", |l| l.spent),
                    series("Remaining", |l| l.remaining),
                ],
                shares: Vec::new(),
            });
        }
        document
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;

    fn period(start: &str) -> CashFlowPeriod {
        CashFlowPeriod {
            period_start: start.parse().unwrap(),
            period_end: start.parse().unwrap(),
            opening: Money::ZERO,
            inflow: Money(Decimal::ONE),
            outflow: Money::ZERO,
            closing: Money(Decimal::ONE),
        }
    }

    fn wallet(name: &str, starts: &[&str]) -> WalletCashFlow {
        WalletCashFlow {
            wallet_id: Uuid::nil(),
            wallet_name: name.into(),
            periods: starts.iter().map(|s| period(s)).collect(),
        }
    }

    #[test]
    fn the_cash_flow_chart_names_each_wallet() {
        let span = (
            "2026-11-01".parse().unwrap(),
            "2026-11-30".parse().unwrap(),
            "USD",
        );
        let one = [
            wallet("Cash", &["2026-11-01"]),
            wallet("Bank", &["2026-11-01"]),
        ];
        let chart = documents::cash_flow(&one, span).chart.unwrap();
        assert_eq!(chart.labels, ["Cash", "Bank"]);
        let several = [wallet("Cash", &["2026-10-01", "2026-11-01"])];
        let chart = documents::cash_flow(&several, span).chart.unwrap();
        assert_eq!(chart.labels, ["Cash 2026-10-01", "Cash 2026-11-01"]);
    }

    fn line(name: &str, currency: &str, spent: i64) -> crate::dto::budgets::BudgetStatusLine {
        let day = "2026-11-30".parse().unwrap();
        crate::dto::budgets::BudgetStatusLine {
            id: Uuid::nil(),
            name: name.into(),
            amount: Money(Decimal::from(1000)),
            rolled_over: Money::ZERO,
            currency: currency.into(),
            period_start: day,
            period_end: day,
            spent: Money(Decimal::from(spent)),
            remaining: Money(Decimal::from(1000 - spent)),
            progress: Money::ZERO,
            is_exceeded: false,
            state: crate::domain::period::BudgetState::OnTrack,
            days_left: 0,
        }
    }

    #[test]
    fn the_budget_chart_keeps_to_the_report_currency() {
        let span = (
            "2026-11-01".parse().unwrap(),
            "2026-11-30".parse().unwrap(),
            "USD",
        );
        let same = [line("Food", "USD", 100), line("Fun", "USD", 200)];
        let chart = documents::budget_progress(&same, span).chart.unwrap();
        assert_eq!(chart.label_column, Some(0));
        let mixed = [line("Food", "USD", 100), line("Pho", "VND", 200)];
        let document = documents::budget_progress(&mixed, span);
        let chart = document.chart.unwrap();
        assert_eq!(chart.labels, ["Food"]);
        assert_eq!(chart.series[0].values, [Decimal::from(100)]);
        assert_eq!(
            document.facts.last().unwrap(),
            &(
                "Not charted (other currencies)".to_owned(),
                crate::export::Cell::Count(1)
            )
        );
        // Each row keeps its own currency.
        assert_eq!(
            document.rows[1][4],
            crate::export::Cell::Amount(Decimal::from(200), "VND".into())
        );
        let only_other = [line("Pho", "VND", 200)];
        assert!(documents::budget_progress(&only_other, span)
            .chart
            .is_none());
    }
}
