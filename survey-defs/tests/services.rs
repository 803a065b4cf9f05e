//! The services module of the built-in questionnaire: which services tried
//! to help a pupil in the last year, then three questions about each one
//! used, routed on that service being ticked.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use survey_defs::{
    Answer, AnswerSet, Band, Indicator, ModuleId, ModuleSwitches, Question, QuestionId,
    Questionnaire, Stage, Theme, builtin, is_routed, plan, score_routed,
};

/// Option codes of the services, and the part of their follow-ups' ids.
const SERVICES: [(&str, &str); 8] = [
    ("school_nurse", "nurse"),
    ("doctor", "doctor"),
    ("mental_health", "mental_health"),
    ("social_worker", "social_worker"),
    ("youth_worker", "youth_worker"),
    ("counsellor", "counsellor"),
    ("police", "police"),
    ("other", "other"),
];
const FOLLOW_UPS: [&str; 3] = ["listened", "retold", "helped"];

fn wellbeing() -> Questionnaire {
    builtin().unwrap().remove(0)
}

fn question<'a>(q: &'a Questionnaire, id: &str) -> &'a Question {
    q.question(&id.parse::<QuestionId>().unwrap())
        .unwrap_or_else(|| panic!("no question {id}"))
}

/// "p" or "s": the prefix of the band's question ids.
fn prefix(stage: Stage) -> &'static str {
    match stage.band() {
        Band::Primary => "p",
        Band::Secondary => "s",
    }
}

/// Answers as a pupil's form would give them: question id, option codes.
fn answers(q: &Questionnaire, given: &[(&str, &[&str])]) -> AnswerSet {
    given
        .iter()
        .map(|(id, values)| {
            let question = question(q, id);
            (
                question.ordinal(),
                question.parse_answer(values).unwrap().unwrap(),
            )
        })
        .collect()
}

/// The follow-ups a pupil is asked, by id, in order.
fn follow_ups(q: &Questionnaire, stage: Stage, answers: &AnswerSet) -> Vec<String> {
    let services = format!("{}_svc_", prefix(stage));
    plan(q, stage, &ModuleSwitches::all_on(), answers)
        .ordinals()
        .map(|o| q.questions()[usize::from(o)].id().to_string())
        .filter(|id| id.starts_with(&services))
        .collect()
}

fn ids(stage: Stage, part: &str) -> Vec<String> {
    FOLLOW_UPS
        .iter()
        .map(|f| format!("{}_svc_{part}_{f}", prefix(stage)))
        .collect()
}

fn result(scores: &[(Indicator, Option<bool>)], indicator: Indicator) -> Option<bool> {
    scores.iter().find(|(i, _)| *i == indicator).unwrap().1
}

#[test]
fn a_pupil_who_ticks_only_the_doctor_is_asked_only_the_doctors_questions() {
    let q = wellbeing();
    for stage in Stage::ALL {
        let services = format!("{}_services", prefix(stage));
        let given = answers(&q, &[(&services, &["doctor"])]);
        assert_eq!(
            follow_ups(&q, stage, &given),
            ids(stage, "doctor"),
            "{stage} ticked the doctor"
        );
        // Every service routes to its own three questions and no others.
        for (code, part) in SERVICES {
            let given = answers(&q, &[(&services, &[code])]);
            assert_eq!(follow_ups(&q, stage, &given), ids(stage, part), "{code}");
        }
        // Two services: both sets, in questionnaire order.
        let given = answers(&q, &[(&services, &["police", "school_nurse"])]);
        let mut both = ids(stage, "nurse");
        both.extend(ids(stage, "police"));
        assert_eq!(follow_ups(&q, stage, &given), both);
    }
}

#[test]
fn a_pupil_who_ticks_none_declines_or_skips_is_asked_no_follow_up() {
    let q = wellbeing();
    for stage in Stage::ALL {
        let services = format!("{}_services", prefix(stage));
        for code in ["none", "pnts"] {
            let given = answers(&q, &[(&services, &[code])]);
            assert_eq!(
                follow_ups(&q, stage, &given),
                Vec::<String>::new(),
                "{code}"
            );
        }
        let skipped = AnswerSet::new();
        assert_eq!(follow_ups(&q, stage, &skipped), Vec::<String>::new());
        // The services question itself is asked of every stage (the module
        // is on unless a partnership switches it off).
        let asked = plan(&q, stage, &ModuleSwitches::all_on(), &skipped);
        assert!(asked.contains(question(&q, &services).ordinal()), "{stage}");
        // "None of these" cannot be ticked with a service.
        assert!(
            question(&q, &services)
                .parse_answer(&["none", "doctor"])
                .is_err()
        );
    }
}

#[test]
fn each_service_used_has_a_page_of_its_own() {
    let q = wellbeing();
    let section = q
        .sections()
        .iter()
        .position(|s| s.id().as_str() == "services")
        .unwrap();
    for stage in [Stage::P7, Stage::S3] {
        let services = format!("{}_services", prefix(stage));
        let given = answers(&q, &[(&services, &["doctor", "police", "other"])]);
        let pages: Vec<Vec<String>> = plan(&q, stage, &ModuleSwitches::all_on(), &given)
            .pages
            .iter()
            .filter(|p| p.section == section)
            .map(|p| {
                p.questions
                    .iter()
                    .map(|&o| q.questions()[usize::from(o)].id().to_string())
                    .collect()
            })
            .collect();
        let mut expected = vec![vec![services.clone()]];
        for part in ["doctor", "police", "other"] {
            match stage.band() {
                // Secondary: one page per service, its three questions together.
                Band::Secondary => expected.push(ids(stage, part)),
                // Primary: one question per page, as everywhere in primary.
                Band::Primary => expected.extend(ids(stage, part).into_iter().map(|id| vec![id])),
            }
        }
        assert_eq!(pages, expected, "{stage}");
    }
}

#[test]
fn switching_the_services_module_off_removes_exactly_its_questions() {
    let q = wellbeing();
    let module: ModuleId = "services".parse().unwrap();
    let mut off = ModuleSwitches::all_on();
    off.disable(module.clone());
    let in_module = |o: u16| q.questions()[usize::from(o)].module() == Some(&module);
    for stage in Stage::ALL {
        let p = prefix(stage);
        let services = format!("{p}_services");
        let given = answers(
            &q,
            &[
                (&services, &["doctor", "counsellor"]),
                (&format!("{p}_svc_doctor_listened"), &["yes_bit"]),
            ],
        );
        let with = plan(&q, stage, &ModuleSwitches::all_on(), &given);
        let without = plan(&q, stage, &off, &given);
        assert_eq!(with.ordinals().filter(|&o| in_module(o)).count(), 7);
        let expected: Vec<u16> = with.ordinals().filter(|&o| !in_module(o)).collect();
        assert_eq!(without.ordinals().collect::<Vec<_>>(), expected, "{stage}");
        let doctor = question(&q, &format!("{p}_svc_doctor_listened")).ordinal();
        assert!(!is_routed(&q, stage, &off, &given, doctor));
        // Nor do its answers count towards an indicator once it is off.
        assert_eq!(
            score_routed(&q, stage, &off, &given),
            score_routed(&q, stage, &off, &AnswerSet::new())
        );
    }
}

#[test]
fn listening_scores_into_respected_help_into_included_and_retelling_into_nothing() {
    let q = wellbeing();
    for stage in [Stage::P5, Stage::S1] {
        for (_, part) in SERVICES {
            let id = |f: &str| format!("{}_svc_{part}_{f}", prefix(stage));
            let listened = question(&q, &id("listened"));
            assert_eq!(listened.theme(), Theme::Indicator(Indicator::Respected));
            assert!(listened.scoring().is_some());
            let helped = question(&q, &id("helped"));
            assert_eq!(helped.theme(), Theme::Indicator(Indicator::Included));
            assert!(helped.scoring().is_some());
            assert!(question(&q, &id("retold")).scoring().is_none());
        }
    }

    let all = ModuleSwitches::all_on();
    // A secondary pupil helped by the doctor and the police, who were
    // listened to by one and not the other: Respected 1 and 0, mean 0.5
    // (not positive); helped a lot and a bit, Included mean 0.75 (positive).
    let follow_ups: [(&str, &[&str]); 6] = [
        ("s_svc_doctor_listened", &["yes_lot"]),
        ("s_svc_doctor_retold", &["yes"]),
        ("s_svc_doctor_helped", &["yes_lot"]),
        ("s_svc_police_listened", &["no"]),
        ("s_svc_police_retold", &["no"]),
        ("s_svc_police_helped", &["yes_bit"]),
    ];
    let ticking = |services: &[&str]| {
        let mut given = vec![("s_services", services)];
        given.extend(follow_ups);
        answers(&q, &given)
    };
    let given = ticking(&["doctor", "police"]);
    let scores = score_routed(&q, Stage::S2, &all, &given);
    assert_eq!(result(&scores, Indicator::Respected), Some(false));
    assert_eq!(result(&scores, Indicator::Included), Some(true));
    assert_eq!(
        question(&q, "s_svc_police_helped").item_score(&Answer::Choice(1)),
        Some(0.5)
    );

    // Retelling alone scores nothing.
    let retold = answers(
        &q,
        &[
            ("s_services", &["doctor", "police"]),
            ("s_svc_doctor_retold", &["no"]),
            ("s_svc_police_retold", &["no"]),
        ],
    );
    let scores = score_routed(&q, Stage::S2, &all, &retold);
    assert_eq!(result(&scores, Indicator::Respected), None);
    assert_eq!(result(&scores, Indicator::Included), None);

    // Answers to a service the pupil did not tick do not count: the police
    // questions are not routed once only the doctor is ticked, leaving one
    // Respected item, too few for a result.
    let unticked = ticking(&["doctor"]);
    let scores = score_routed(&q, Stage::S2, &all, &unticked);
    assert_eq!(result(&scores, Indicator::Respected), None);

    // Primary items use the four-point picture scale: "Yes, a bit" is 2 of 3.
    let primary = answers(
        &q,
        &[
            ("p_services", &["school_nurse"]),
            ("p_svc_nurse_listened", &["yes_bit"]),
            ("p_svc_nurse_helped", &["not_really"]),
        ],
    );
    let listened = question(&q, "p_svc_nurse_listened");
    let yes_bit = listened.option_index("yes_bit").unwrap();
    assert_eq!(
        listened.item_score(&Answer::Choice(yes_bit)),
        Some(2.0 / 3.0)
    );
    let scores = score_routed(&q, Stage::P6, &all, &primary);
    // One item each: no result on its own, but the items are counted.
    assert_eq!(result(&scores, Indicator::Respected), None);
    let with_core = answers(
        &q,
        &[
            ("p_services", &["school_nurse"]),
            ("p_svc_nurse_listened", &["yes_bit"]),
            ("p_svc_nurse_helped", &["not_really"]),
            ("p_ideas_heard", &["always"]),
        ],
    );
    // Mean of 1 and 2/3: positive.
    let scores = score_routed(&q, Stage::P6, &all, &with_core);
    assert_eq!(result(&scores, Indicator::Respected), Some(true));
}
