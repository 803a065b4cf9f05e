//! Dates typed into forms, as `YYYY-MM-DD` (what a date input sends).

use chrono::NaiveDate;

/// An optional date: empty is `None`; text that is not a real date is an error.
#[allow(clippy::result_unit_err)]
pub fn optional_date(text: &str) -> Result<Option<NaiveDate>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_no_date_and_nonsense_is_an_error() {
        assert_eq!(optional_date("  "), Ok(None));
        assert_eq!(
            optional_date("2027-02-28"),
            Ok(NaiveDate::from_ymd_opt(2027, 2, 28))
        );
        assert_eq!(optional_date("2027-02-30"), Err(()));
        assert_eq!(optional_date("28/02/2027"), Err(()));
    }
}
