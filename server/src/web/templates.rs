//! HTML templates (minijinja), embedded in the binary so a release build needs no
//! files beside it. Every template ends in `.html`, so every value is
//! HTML-escaped unless a template says otherwise (none do).

use std::sync::LazyLock;

use minijinja::{Environment, UndefinedBehavior, Value};

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
    // A misspelt name fails the render (a 500 page; the log names the template
    // and line) instead of quietly showing nothing. A value a handler may leave
    // out is tested with `is defined` in the template.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    embed!(
        env,
        "base.html",
        "error.html",
        "partials/error_summary.html",
        "partials/languages.html",
        "partials/prefs.html",
        "partials/question.html",
        "partials/signposting.html",
        "pupil/code.html",
        "pupil/welcome.html",
        "pupil/page.html",
        "pupil/review.html",
        "pupil/ended.html",
        "pupil/withdraw.html",
        "pupil/your_answers.html",
        "pupil/accessibility.html",
        "pupil/privacy.html",
        "pupil/notice_choose.html",
        "pupil/language.html",
        "check/device.html",
        "staff/base.html",
        "staff/login.html",
        "staff/reset.html",
        "staff/admin.html",
        "staff/cpp.html",
        "staff/releases.html",
        "staff/trends.html",
        "staff/school_form.html",
        "staff/settings.html",
        "staff/import.html",
        "staff/users.html",
        "staff/user_role.html",
        "staff/waves.html",
        "staff/wave.html",
        "staff/audit.html",
        "staff/school.html",
        "staff/sitting_new.html",
        "staff/slips.html",
        "staff/progress.html",
        "staff/letter.html",
        "staff/questionnaire.html",
        "staff/questionnaire_print.html",
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

#[cfg(test)]
mod tests {
    use minijinja::{ErrorKind, context};

    use super::*;

    #[test]
    fn a_misspelt_variable_is_an_error() {
        let result = render(
            "error.html",
            context! { status => 404, mesage => "Not found", lang => "en", dir => "ltr" },
        );
        let err = result.expect_err("rendering without `message` should fail");
        assert_eq!(
            err.kind(),
            ErrorKind::UndefinedError,
            "expected an undefined-variable error, got {err:#}"
        );
    }

    #[test]
    fn a_misspelt_variable_in_a_condition_is_an_error() {
        let result = environment().render_str(
            "{% if notise %}<p>{{ notice }}</p>{% endif %}",
            context! { notice => "Saved" },
        );
        let err = result.expect_err("testing an undefined `notise` should fail");
        assert_eq!(
            err.kind(),
            ErrorKind::UndefinedError,
            "expected an undefined-variable error, got {err:#}"
        );
    }
}
