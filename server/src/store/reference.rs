//! Reference data: the 32 Scottish council areas, each one Community Planning
//! Partnership, loaded idempotently at start-up.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

use super::entities::cpp;

/// The council areas as shipped with the server (GSS code, name).
pub const COUNCIL_AREAS_CSV: &str = include_str!("../../reference/scottish_council_areas.csv");

/// A council area from the reference file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouncilArea {
    pub gss_code: String,
    pub name: String,
}

/// Parses the shipped reference file.
pub fn council_areas() -> Result<Vec<CouncilArea>, csv::Error> {
    let mut reader = csv::Reader::from_reader(COUNCIL_AREAS_CSV.as_bytes());
    reader
        .records()
        .map(|record| {
            let record = record?;
            Ok(CouncilArea {
                gss_code: record.get(0).unwrap_or_default().trim().to_owned(),
                name: record.get(1).unwrap_or_default().trim().to_owned(),
            })
        })
        .collect()
}

/// Inserts any council area not yet present; running it again changes nothing.
pub async fn load_council_areas(db: &impl ConnectionTrait) -> Result<usize, DbErr> {
    let areas = council_areas().map_err(|e| DbErr::Custom(format!("reference data: {e}")))?;
    let count = areas.len();
    let models = areas.into_iter().map(|area| cpp::ActiveModel {
        gss_code: Set(area.gss_code),
        name: Set(area.name),
        is_demo: Set(false),
        ..Default::default()
    });
    cpp::Entity::insert_many(models)
        .on_conflict_do_nothing_on([cpp::Column::GssCode])
        .exec(db)
        .await?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_thirty_two_council_areas_ship() {
        let areas = council_areas().unwrap();
        assert_eq!(areas.len(), 32);
        assert!(areas.iter().all(|a| a.gss_code.starts_with("S12")));
        assert!(areas.iter().any(|a| a.name == "Na h-Eileanan Siar"));
    }
}
