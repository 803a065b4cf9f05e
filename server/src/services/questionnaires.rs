//! The questionnaire catalogue: the built-in questionnaire, any extra files, and
//! every version stored in the database, each checked against its stored content
//! hash so a version that is in use can never silently change.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use survey_defs::Questionnaire;

use crate::store::questionnaires::Registered;
use crate::store::{self, Db};

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("invalid questionnaire:\n{0}")]
    Invalid(String),
    #[error("cannot read the questionnaire directory {path}: {source}")]
    Directory {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "questionnaire {id} version {version} in {file} differs from the stored version \
         (hash {stored} became {new}) and sittings or responses already use it: \
         give the changed file a new version number"
    )]
    ChangedInUse {
        id: String,
        version: u32,
        file: String,
        stored: String,
        new: String,
    },
    #[error("cannot store questionnaire versions: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// A questionnaire version as the server knows it: its database id and model.
#[derive(Debug, Clone)]
pub struct Entry {
    pub version_id: i32,
    pub questionnaire: Arc<Questionnaire>,
}

/// Every questionnaire version the server can show or export, by database id.
#[derive(Debug, Default)]
pub struct Catalogue {
    by_id: BTreeMap<i32, Entry>,
    /// Languages with a questionnaire translation that no qualified
    /// reviewer has checked yet.
    draft_translations: BTreeSet<String>,
}

impl Catalogue {
    /// Loads the built-in questionnaires and the `*.toml` files of `extra_dir`,
    /// each with its translations (shipped, or in `extra_dir/translations/`),
    /// registers them in the database, and adds stored versions no file
    /// provides. Translations never change a version's content hash.
    pub async fn load(db: &Db, extra_dir: Option<&Path>) -> Result<Self, CatalogueError> {
        let mut sources: Vec<(String, String)> = survey_defs::builtin_sources()
            .iter()
            .map(|(name, text)| ((*name).to_owned(), (*text).to_owned()))
            .collect();
        let mut problems = Vec::new();
        let mut translations = match survey_defs::builtin_translations() {
            Ok(t) => t,
            Err(error) => return Err(CatalogueError::Invalid(error.to_string())),
        };
        if let Some(dir) = extra_dir {
            sources.extend(read_dir(dir)?);
            // Translations of the extra questionnaires sit in translations/
            // beside them, as in survey-defs/questionnaires/; one there may
            // also correct a shipped translation of the built-in one.
            let translations_dir = dir.join("translations");
            if translations_dir.is_dir() {
                for (name, text) in read_dir(&translations_dir)? {
                    match survey_defs::TranslationFile::parse(&name, &text) {
                        Ok(t) => {
                            // A partner's own file replaces the shipped one.
                            translations.retain(|shipped| {
                                shipped.code != t.code || shipped.questionnaire != t.questionnaire
                            });
                            translations.push(t);
                        }
                        Err(error) => problems.push(error.to_string()),
                    }
                }
            }
        }

        let mut parsed = Vec::new();
        for (name, text) in &sources {
            match survey_defs::load_with_translations(name, text, &translations) {
                Ok(t) => parsed.push((name, text, t.loaded.questionnaire)),
                Err(error) => problems.push(error.to_string()),
            }
        }
        if !problems.is_empty() {
            return Err(CatalogueError::Invalid(problems.join("\n")));
        }

        let mut catalogue = Catalogue {
            draft_translations: translations
                .iter()
                .filter(|t| !matches!(t.status, Some(survey_defs::Status::Reviewed { .. })))
                .map(|t| t.code.to_string())
                .collect(),
            ..Catalogue::default()
        };
        for (name, text, questionnaire) in parsed {
            let id = questionnaire.id().to_string();
            let version = questionnaire.version();
            let registered = store::questionnaires::register(
                db,
                &id,
                i32::try_from(version).unwrap_or(i32::MAX),
                questionnaire.content_hash(),
                questionnaire.title(questionnaire.default_locale()),
                text,
            )
            .await?;
            let version_id = match registered {
                Registered::New(v) | Registered::Unchanged(v) | Registered::Updated(v) => v,
                Registered::ChangedInUse { stored_hash, .. } => {
                    return Err(CatalogueError::ChangedInUse {
                        id,
                        version,
                        file: name.clone(),
                        stored: stored_hash,
                        new: questionnaire.content_hash().to_owned(),
                    });
                }
            };
            catalogue.insert(version_id, questionnaire);
        }

        for stored in store::questionnaires::all(db).await? {
            if catalogue.by_id.contains_key(&stored.id) {
                continue;
            }
            let name = format!("stored {}@{}", stored.questionnaire_id, stored.version);
            // An earlier version gets the translations too: what was
            // translated from its English shows, the rest stays English.
            match survey_defs::load_with_translations(&name, &stored.source, &translations) {
                Ok(t) => catalogue.insert(stored.id, t.loaded.questionnaire),
                Err(error) => {
                    tracing::warn!(questionnaire = %name, %error, "a stored questionnaire no longer loads; it is not offered")
                }
            }
        }
        Ok(catalogue)
    }

    fn insert(&mut self, version_id: i32, questionnaire: Questionnaire) {
        self.by_id.insert(
            version_id,
            Entry {
                version_id,
                questionnaire: Arc::new(questionnaire),
            },
        );
    }

    /// Whether a questionnaire translation into `code` is still a draft.
    pub fn translation_is_draft(&self, code: &str) -> bool {
        self.draft_translations.contains(code)
    }

    pub fn get(&self, version_id: i32) -> Option<&Entry> {
        self.by_id.get(&version_id)
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.by_id.values()
    }

    /// The newest version of each questionnaire id: what new sittings use by default.
    pub fn latest(&self) -> Vec<&Entry> {
        let mut newest: BTreeMap<String, &Entry> = BTreeMap::new();
        for entry in self.by_id.values() {
            let key = entry.questionnaire.id().to_string();
            match newest.get(&key) {
                Some(current)
                    if current.questionnaire.version() >= entry.questionnaire.version() => {}
                _ => {
                    newest.insert(key, entry);
                }
            }
        }
        newest.into_values().collect()
    }

    /// Finds `ID` (newest version) or `ID@VERSION`.
    pub fn find(&self, spec: &str) -> Option<&Entry> {
        let (id, version) = match spec.split_once('@') {
            Some((id, v)) => (id, Some(v.parse::<u32>().ok()?)),
            None => (spec, None),
        };
        match version {
            Some(v) => self
                .by_id
                .values()
                .find(|e| e.questionnaire.id().as_str() == id && e.questionnaire.version() == v),
            None => self
                .latest()
                .into_iter()
                .find(|e| e.questionnaire.id().as_str() == id),
        }
    }
}

fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, CatalogueError> {
    let err = |source| CatalogueError::Directory {
        path: dir.display().to_string(),
        source,
    };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(err)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).map_err(err)?;
            Ok((path.display().to_string(), text))
        })
        .collect()
}
