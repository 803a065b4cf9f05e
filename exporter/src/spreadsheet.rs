//! CSV cells that a spreadsheet will not run.
//!
//! A spreadsheet opening a CSV file treats a cell that begins with `=`, `+`,
//! `-` or `@` (or a tab or carriage return before one) as a formula, and a
//! formula can fetch addresses or, in older software, start programs. Text
//! from outside (school, class and partnership names, questionnaire labels)
//! is written with a leading `'`, which spreadsheets show as nothing and
//! which makes the cell text (OWASP's rule for CSV injection). A cell that
//! is a number, negative ones included, is written as it is.

use std::borrow::Cow;
use std::io::Write;

/// `cell`, made safe to open in a spreadsheet.
pub fn safe_cell(cell: &str) -> Cow<'_, str> {
    let risky = cell
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    if !risky || is_number(cell) {
        Cow::Borrowed(cell)
    } else {
        Cow::Owned(format!("'{cell}"))
    }
}

/// A plain decimal number (`-3`, `+2.5`), which a spreadsheet reads as a
/// value, never as a formula.
fn is_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// Writes one record with every cell made safe (see [`safe_cell`]), field
/// by field, so that a cell that needs no change is not copied.
pub fn write_row<W: Write, S: AsRef<str>>(
    writer: &mut csv::Writer<W>,
    cells: impl IntoIterator<Item = S>,
) -> csv::Result<()> {
    for cell in cells {
        writer.write_field(safe_cell(cell.as_ref()).as_bytes())?;
    }
    // An empty record ends the one whose fields were just written.
    writer.write_record(std::iter::empty::<&[u8]>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_numbers_stay_numbers() {
        for formula in [
            "=cmd|' /C calc'!A0",
            "+1+1",
            "-1+1",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "=HYPERLINK(\"http://x\")",
            "-",
            "+",
        ] {
            let safe = safe_cell(formula);
            assert!(safe.starts_with('\''), "{formula:?} became {safe:?}");
            assert_eq!(&safe[1..], formula);
        }
        for kept in [
            "-3",
            "+2.5",
            "-0.1",
            "12",
            "Aird a' Mhachair",
            "",
            "c",
            "S12000036",
        ] {
            assert_eq!(safe_cell(kept), kept);
        }
        assert!(safe_cell("-1.").starts_with('\''));
        assert!(safe_cell("-.5").starts_with('\''));
    }
}
