//! What a staff member may do.

/// What a staff member may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything: partnerships, schools, accounts, the audit log.
    Admin,
    /// A CPP coordinator: their own partnership's schools (and their
    /// sittings), its settings and its released results.
    Coordinator,
    /// A CPP analyst: their own partnership's released results only; no schools,
    /// sittings or settings.
    Analyst,
    /// School staff: their own school's sittings only.
    School,
}

impl Role {
    /// Every role, from the widest reach to the narrowest.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Coordinator, Role::Analyst, Role::School];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Analyst => "analyst",
            Role::School => "school",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// Whether an account in this role must belong to one partnership.
    pub fn needs_cpp(self) -> bool {
        matches!(self, Role::Coordinator | Role::Analyst)
    }

    pub fn describe(self) -> &'static str {
        match self {
            Role::Admin => "System administrator",
            Role::Coordinator => "CPP coordinator",
            Role::Analyst => "CPP analyst",
            Role::School => "School staff",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = UnknownName;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::parse(text).ok_or(UnknownName)
    }
}

/// A stored name that is not one of the type's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a known name")]
pub struct UnknownName;
