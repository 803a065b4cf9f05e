//! HTML templates (minijinja), embedded in the binary so a release build needs no
//! files beside it. Every template ends in `.html`, so every value is
//! HTML-escaped unless a template says otherwise (none do).

use std::sync::LazyLock;

use minijinja::{Environment, Value};

macro_rules! embed {
    ($env:ident, $($name:literal),* $(,)?) => {
        $(
            $env.add_template($name, include_str!(concat!("../../templates/", $name)))
                .unwrap_or_else(|e| panic!("template {} does not compile: {e}", $name));
        )*
    };
}

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    embed!(
        env,
        "base.html",
        "error.html",
        "partials/prefs.html",
        "partials/question.html",
        "pupil/code.html",
        "pupil/welcome.html",
        "pupil/page.html",
        "pupil/review.html",
        "pupil/ended.html",
        "pupil/withdraw.html",
        "staff/base.html",
        "staff/login.html",
        "staff/reset.html",
        "staff/admin.html",
        "staff/cpp.html",
        "staff/exports.html",
        "staff/school_form.html",
        "staff/settings.html",
        "staff/import.html",
        "staff/users.html",
        "staff/audit.html",
        "staff/school.html",
        "staff/sitting_new.html",
        "staff/slips.html",
        "staff/progress.html",
    );
    env
});

/// Registers extra templates (used by features that keep their own templates).
pub fn environment() -> &'static Environment<'static> {
    &ENV
}

/// Renders `name` with `ctx`. A failure is a bug in a template, reported as an
/// error the caller turns into a 500 page.
pub fn render(name: &str, ctx: Value) -> Result<String, minijinja::Error> {
    ENV.get_template(name)?.render(ctx)
}
