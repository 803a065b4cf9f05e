//! Staff accounts: create one, issue a reset link, set a new password,
//! disable or enable, and record sign-ins. Each change is one transaction
//! with its audit entry. Password hashing and the password rules are in
//! [`super::auth`].

use chrono::{Duration, Utc};

use super::Actor;
use super::auth;
use crate::domain::Role;
use crate::secret::ServerSecret;
use crate::store::staff::{self, NewStaff, StaffRow};
use crate::store::{self, Db};

/// How long a reset link works.
pub const RESET_HOURS: i64 = 72;

/// A new account that passed every check (see the users form's parser).
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub role: Role,
    pub cpp_id: Option<i32>,
    pub school_id: Option<i32>,
    pub is_demo: bool,
}

/// The keyed hash under which a reset token is stored.
pub fn reset_token_hash(secret: &ServerSecret, token: &str) -> String {
    hex::encode(secret.mac("staff-reset", token.as_bytes()))
}

/// Creates an account with the given password hash, and the audit entry.
/// With `issue_reset`, also a one-time reset token, returned for the link
/// its owner uses to choose a password (only its keyed hash is stored).
pub async fn create(
    db: &Db,
    secret: &ServerSecret,
    actor: &Actor,
    new: NewAccount,
    password_hash: String,
    issue_reset: bool,
) -> Result<(StaffRow, Option<String>), store::Error> {
    let detail = format!("{} as {}", new.email, new.role);
    let tx = store::begin(db).await?;
    let row = staff::create(
        &tx,
        NewStaff {
            email: new.email,
            password_hash,
            role: new.role,
            cpp_id: new.cpp_id,
            school_id: new.school_id,
            is_demo: new.is_demo,
        },
    )
    .await?;
    let token = if issue_reset {
        Some(store_reset_token(&tx, secret, row.id).await?)
    } else {
        None
    };
    actor.record(&tx, "account-created", &detail).await?;
    tx.commit().await?;
    Ok((row, token))
}

async fn store_reset_token(
    db: &impl store::ConnectionTrait,
    secret: &ServerSecret,
    user_id: i32,
) -> Result<String, store::Error> {
    let token = auth::random_token();
    let expires = Utc::now() + Duration::hours(RESET_HOURS);
    staff::set_reset_token(db, user_id, &reset_token_hash(secret, &token), expires).await?;
    Ok(token)
}

/// Issues a new one-time reset token for an account, with the audit entry.
pub async fn issue_reset(
    db: &Db,
    secret: &ServerSecret,
    actor: &Actor,
    user: &StaffRow,
) -> Result<String, store::Error> {
    let tx = store::begin(db).await?;
    let token = store_reset_token(&tx, secret, user.id).await?;
    actor.record(&tx, "reset-link-issued", &user.email).await?;
    tx.commit().await?;
    Ok(token)
}

/// Disables or re-enables an account, with the audit entry.
pub async fn set_active(
    db: &Db,
    actor: &Actor,
    user: &StaffRow,
    active: bool,
) -> Result<(), store::Error> {
    let tx = store::begin(db).await?;
    staff::set_active(&tx, user.id, active).await?;
    let action = if active {
        "account-enabled"
    } else {
        "account-disabled"
    };
    actor.record(&tx, action, &user.email).await?;
    tx.commit().await
}

/// Gives an account another role and scope, with the audit entry. Every
/// session of the account ends with it.
pub async fn change_role(
    db: &Db,
    actor: &Actor,
    user: &StaffRow,
    role: Role,
    cpp_id: Option<i32>,
    school_id: Option<i32>,
) -> Result<(), store::Error> {
    let tx = store::begin(db).await?;
    staff::set_role(&tx, user.id, role, cpp_id, school_id).await?;
    let detail = format!("{}: {} to {role}", user.email, user.role.0);
    actor.record(&tx, "role-changed", &detail).await?;
    tx.commit().await
}

/// Sets the password chosen through a reset link, with the audit entry.
pub async fn reset_password(db: &Db, user: &StaffRow, new_hash: &str) -> Result<(), store::Error> {
    let tx = store::begin(db).await?;
    staff::set_password(&tx, user.id, new_hash).await?;
    owner(user).record(&tx, "password-reset", "").await?;
    tx.commit().await
}

/// Records a successful sign-in: replaces a hash made at an older cost
/// (`upgraded`), and adds the audit entry.
pub async fn signed_in(
    db: &Db,
    user: &StaffRow,
    upgraded: Option<&str>,
) -> Result<(), store::Error> {
    let tx = store::begin(db).await?;
    if let Some(upgraded) = upgraded {
        staff::upgrade_password_hash(&tx, user.id, &user.password_hash, upgraded).await?;
    }
    owner(user).record(&tx, "login", "").await?;
    tx.commit().await
}

/// The actor of a failed sign-in whose address names no account.
pub const UNKNOWN_ACCOUNT: &str = "unknown account";

/// Records a failed sign-in with its audit entry: the same single write
/// whether or not the address typed names an account.
pub async fn sign_in_failed(db: &Db, user: Option<&StaffRow>) -> Result<(), store::Error> {
    // What was typed is recorded only when it names an account: an unknown
    // "address" may be a password typed in the wrong box.
    let (actor_id, actor, detail) = match user {
        Some(u) => (Some(u.id), u.email.as_str(), ""),
        None => (None, UNKNOWN_ACCOUNT, "no account has the address typed"),
    };
    store::audit::record(db, actor_id, actor, "login-failed", detail).await?;
    Ok(())
}

/// Signs an account out everywhere: every session of it ends, with the
/// audit entry.
pub async fn signed_out(db: &Db, actor: &Actor, user_id: i32) -> Result<(), store::Error> {
    let tx = store::begin(db).await?;
    staff::end_sessions(&tx, user_id).await?;
    actor.record(&tx, "logout", "").await?;
    tx.commit().await
}

fn owner(user: &StaffRow) -> Actor {
    Actor::Staff {
        id: user.id,
        email: user.email.clone(),
    }
}
