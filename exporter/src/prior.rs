//! What earlier releases of the same wave and scope published, read back
//! from their stored CSV files, and the cells a new release must therefore
//! hide.
//!
//! A reader who holds two releases can subtract one from the other. So a
//! new release hides, beyond what its own rule hides:
//! - every cell hidden in any earlier release (a hidden cell stays hidden);
//! - every cell whose count differs from an earlier release's published
//!   count by less than the threshold (but not by zero); a cell an earlier
//!   release did not have at all counts as an earlier 0.
//!
//! These hidden cells then go through secondary suppression like any small
//! cell, so none of them can be worked out from the new release's published
//! cells. Since every cell the new release publishes was published before
//! with the same count or a count at least the threshold away, the
//! cell-by-cell difference of the two releases publishes no change of
//! fewer than threshold pupils.

use std::collections::HashMap;

use crate::layout::ALL;

/// Where a cell sits in the published files: school seed code (or `All`),
/// stage level, sex code (or `All`), table id (question or indicator id, or
/// [`RATES`]) and option code (or `All` for the base).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CellKey {
    pub school: String,
    pub stage: String,
    pub sex: String,
    pub table: String,
    pub option: String,
}

/// The table id under which response counts (`response_rates.csv`) are kept.
pub const RATES: &str = "response_rates";

/// The published cells of one earlier release of one unit: `None` where the
/// cell was hidden.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    cells: HashMap<CellKey, Option<u64>>,
    totals_only: bool,
}

/// Why a stored release's files could not be read back.
#[derive(Debug, thiserror::Error)]
#[error("an earlier release's {file} cannot be read: {message}")]
pub struct PriorError {
    pub file: String,
    pub message: String,
}

impl Published {
    /// Reads the cells of `unit` (a partnership's GSS code, or `All` for
    /// Scotland) from a release's `frequencies.csv`, `indicators.csv` and
    /// `response_rates.csv`: every cell, or with `totals_only` the cells of
    /// all schools together (what Scotland's cells add up from).
    pub fn from_files(
        unit: &str,
        frequencies: &[u8],
        indicators: &[u8],
        rates: &[u8],
        totals_only: bool,
    ) -> Result<Self, PriorError> {
        let mut published = Published {
            totals_only,
            ..Published::default()
        };
        for (file, bytes) in [
            ("frequencies.csv", frequencies),
            ("indicators.csv", indicators),
        ] {
            published.read(file, bytes, unit, |row| {
                Some((
                    CellKey {
                        school: row.get(2)?.to_owned(),
                        stage: row.get(4)?.to_owned(),
                        sex: row.get(5)?.to_owned(),
                        table: row.get(6)?.to_owned(),
                        option: row.get(7)?.to_owned(),
                    },
                    row.get(9)?,
                    row.get(11)?,
                ))
            })?;
        }
        published.read("response_rates.csv", rates, unit, |row| {
            Some((
                CellKey {
                    school: row.get(2)?.to_owned(),
                    stage: row.get(4)?.to_owned(),
                    sex: ALL.to_owned(),
                    table: RATES.to_owned(),
                    option: ALL.to_owned(),
                },
                row.get(5)?,
                row.get(8)?,
            ))
        })?;
        Ok(published)
    }

    fn read(
        &mut self,
        file: &str,
        bytes: &[u8],
        unit: &str,
        fields: impl for<'r> Fn(&'r csv::StringRecord) -> Option<(CellKey, &'r str, &'r str)>,
    ) -> Result<(), PriorError> {
        let error = |message: String| PriorError {
            file: file.to_owned(),
            message,
        };
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(bytes);
        for (line, record) in reader.records().enumerate() {
            let record = record.map_err(|e| error(e.to_string()))?;
            if record.get(0) != Some(unit) || (self.totals_only && record.get(2) != Some(ALL)) {
                continue;
            }
            let (key, count, status) =
                fields(&record).ok_or_else(|| error(format!("row {} is short", line + 2)))?;
            let value =
                if status.is_empty() {
                    Some(count.parse::<u64>().map_err(|_| {
                        error(format!("row {} has the count \"{count}\"", line + 2))
                    })?)
                } else {
                    None
                };
            self.cells.insert(key, value);
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// A cell as published: `Some(None)` where hidden, `None` where the
    /// release had no such cell.
    pub fn get(&self, key: &CellKey) -> Option<Option<u64>> {
        self.cells.get(key).copied()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }
}

/// Every earlier release of one unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitPrior {
    pub releases: Vec<Published>,
}

impl UnitPrior {
    /// Whether a cell holding `value` must be hidden because of an earlier
    /// release (see the module's documentation).
    pub fn forces(&self, key: &CellKey, value: u64, threshold: u64) -> bool {
        self.releases.iter().any(|r| match r.cells.get(key) {
            Some(None) => true,
            Some(Some(before)) => {
                let change = before.abs_diff(value);
                change > 0 && change < threshold
            }
            None => value > 0 && value < threshold,
        })
    }
}

/// Earlier releases per unit: by GSS code, `All` for Scotland.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prior {
    pub units: HashMap<String, UnitPrior>,
}

impl Prior {
    pub fn unit(&self, code: &str) -> Option<&UnitPrior> {
        self.units.get(code).filter(|u| !u.releases.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(option: &str) -> CellKey {
        CellKey {
            school: ALL.into(),
            stage: "S2".into(),
            sex: ALL.into(),
            table: "safe_home".into(),
            option: option.into(),
        }
    }

    #[test]
    fn hidden_stays_hidden_and_small_changes_are_hidden() {
        let frequencies = "\u{feff}cpp_code,cpp_name,school_seed,school_name,stage,sex,question_id,option_code,option_label,count,percent,status\r\n\
            S1,A,All,All,S2,All,safe_home,yes,Yes,40,80.0,\r\n\
            S1,A,All,All,S2,All,safe_home,no,No,,,c\r\n\
            S2,B,All,All,S2,All,safe_home,yes,Yes,3,,\r\n";
        let rates = "cpp_code,cpp_name,school_seed,school_name,stage,responses,roll,rate,status\r\n\
            S1,A,All,All,S2,50,60,83.3,\r\n";
        let published =
            Published::from_files("S1", frequencies.as_bytes(), b"", rates.as_bytes(), false)
                .unwrap();
        assert_eq!(published.len(), 3);
        let prior = UnitPrior {
            releases: vec![published],
        };
        assert!(!prior.forces(&key("yes"), 40, 10), "unchanged");
        assert!(prior.forces(&key("yes"), 41, 10), "one more pupil");
        assert!(prior.forces(&key("yes"), 31, 10), "nine fewer");
        assert!(!prior.forces(&key("yes"), 50, 10), "ten more");
        assert!(prior.forces(&key("no"), 500, 10), "hidden before");
        assert!(prior.forces(&key("maybe"), 4, 10), "new and small");
        assert!(!prior.forces(&key("maybe"), 12, 10), "new and large");
        let rate = CellKey {
            school: ALL.into(),
            stage: "S2".into(),
            sex: ALL.into(),
            table: RATES.into(),
            option: ALL.into(),
        };
        assert!(prior.forces(&rate, 51, 10));
        assert!(!prior.forces(&rate, 50, 10));
    }

    #[test]
    fn a_garbled_count_is_an_error_not_a_zero() {
        let frequencies = "cpp_code,cpp_name,school_seed,school_name,stage,sex,question_id,option_code,option_label,count,percent,status\r\n\
            S1,A,All,All,S2,All,safe_home,yes,Yes,forty,,\r\n";
        let error =
            Published::from_files("S1", frequencies.as_bytes(), b"", b"", false).unwrap_err();
        assert!(error.to_string().contains("forty"), "{error}");
    }
}
