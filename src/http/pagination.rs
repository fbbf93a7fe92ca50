//! One pagination rule for every list: `page` from 1, `per_page` 1..=200 (default 50), and
//! `meta` that always tells the true total.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::http::PageMeta;

pub const DEFAULT_PER_PAGE: i64 = 50;
pub const MAX_PER_PAGE: i64 = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: i64,
    pub per_page: i64,
}

impl Page {
    /// Validates the query parameters (400 `invalid_query` when out of range).
    pub fn new(page: Option<i64>, per_page: Option<i64>) -> Result<Page, ApiError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        if page < 1 {
            return Err(invalid("`page` starts at 1."));
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            return Err(invalid("`per_page` must be between 1 and 200."));
        }
        if page
            .checked_mul(per_page)
            .is_none_or(|end| end > i64::from(i32::MAX))
        {
            return Err(invalid("`page` is too large."));
        }
        Ok(Page { page, per_page })
    }

    pub fn limit(&self) -> i64 {
        self.per_page
    }

    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    /// This page of a list held whole in memory (short lists: a category's descriptions, a
    /// bill's payments), with its meta.
    pub fn cut<T>(&self, rows: Vec<T>) -> (Vec<T>, PageMeta) {
        let meta = self.meta(rows.len() as i64);
        let rows = rows
            .into_iter()
            .skip(self.offset() as usize)
            .take(self.limit() as usize)
            .collect();
        (rows, meta)
    }

    pub fn meta(&self, total_items: i64) -> PageMeta {
        PageMeta {
            page: self.page,
            per_page: self.per_page,
            total_items,
            total_pages: (total_items + self.per_page - 1) / self.per_page,
        }
    }
}

/// `page` and `per_page`, for lists with no filters of their own.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub per_page: Option<i64>,
}

impl PageQuery {
    pub fn page(&self) -> Result<Page, ApiError> {
        Page::new(self.page, self.per_page)
    }
}

fn invalid(message: &str) -> ApiError {
    ApiError::BadRequest {
        code: "invalid_query",
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_offsets() {
        let page = Page::new(None, None).unwrap();
        assert_eq!((page.page, page.per_page, page.offset()), (1, 50, 0));
        let third = Page::new(Some(3), Some(20)).unwrap();
        assert_eq!(third.offset(), 40);
    }

    #[test]
    fn meta_counts_pages() {
        let page = Page::new(Some(1), Some(50)).unwrap();
        assert_eq!(page.meta(0).total_pages, 0);
        assert_eq!(page.meta(50).total_pages, 1);
        assert_eq!(page.meta(1234).total_pages, 25);
    }

    #[test]
    fn out_of_range_is_rejected() {
        for (page, per_page) in [
            (Some(0), None),
            (None, Some(0)),
            (None, Some(201)),
            (Some(i64::MAX), None),
        ] {
            assert_eq!(
                Page::new(page, per_page).unwrap_err().code(),
                "invalid_query"
            );
        }
    }
}
