//! Form parsing, answer encoding and indicator scoring against the built-in
//! questionnaire.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use survey_defs::{
    Answer, AnswerError, AnswerSet, Indicator, ModuleSwitches, Question, QuestionId, Questionnaire,
    Stage, builtin, is_routed, plan, score, score_routed,
};

fn wellbeing() -> Questionnaire {
    builtin().unwrap().remove(0)
}

fn question<'a>(q: &'a Questionnaire, id: &str) -> &'a Question {
    q.question(&id.parse::<QuestionId>().unwrap())
        .unwrap_or_else(|| panic!("no question {id}"))
}

fn answer(q: &Questionnaire, id: &str, values: &[&str]) -> (u16, Answer) {
    let question = question(q, id);
    (
        question.ordinal(),
        question.parse_answer(values).unwrap().unwrap(),
    )
}

fn result(scores: &[(Indicator, Option<bool>)], indicator: Indicator) -> Option<bool> {
    scores.iter().find(|(i, _)| *i == indicator).unwrap().1
}

#[test]
fn form_values_become_answers() {
    let q = wellbeing();
    let safe = question(&q, "s_safe_school");
    assert_eq!(safe.parse_answer(&["often"]), Ok(Some(Answer::Choice(1))));
    assert_eq!(safe.parse_answer(&[]), Ok(None));
    assert_eq!(safe.parse_answer(&["", " "]), Ok(None));
    assert_eq!(
        safe.parse_answer(&["often", "often"]),
        Ok(Some(Answer::Choice(1)))
    );
    assert_eq!(
        safe.parse_answer(&["often", "never"]),
        Err(AnswerError::TooManyValues)
    );
    assert_eq!(
        safe.parse_answer(&["<script>"]),
        Err(AnswerError::UnknownOption("<script>".into()))
    );

    let days = question(&q, "s_active_days");
    assert_eq!(days.parse_answer(&[" 3 "]), Ok(Some(Answer::Number(3))));
    assert_eq!(
        days.parse_answer(&["three"]),
        Err(AnswerError::NotANumber("three".into()))
    );
    assert_eq!(
        days.parse_answer(&["8"]),
        Err(AnswerError::OutOfRange {
            value: 8,
            min: 0,
            max: 7
        })
    );

    let wher = question(&q, "s_bullied_where");
    assert_eq!(
        wher.parse_answer(&["school", "online"]),
        Ok(Some(Answer::Multi(0b101)))
    );
    assert_eq!(
        wher.parse_answer(&["school", "pnts"]),
        Err(AnswerError::ExclusiveOption("pnts".into()))
    );
    assert_eq!(
        wher.parse_answer(&["pnts"]),
        Ok(Some(Answer::Multi(0b10000)))
    );
}

#[test]
fn answers_turn_back_into_form_values() {
    let q = wellbeing();
    for (id, values) in [
        ("s_safe_school", vec!["sometimes"]),
        ("s_active_days", vec!["6"]),
        ("s_bullied_where", vec!["journey", "elsewhere"]),
    ] {
        let question = question(&q, id);
        let a = question.parse_answer(&values).unwrap().unwrap();
        assert_eq!(question.answer_values(&a), values);
        assert_eq!(question.check_answer(&a), Ok(()));
    }
    assert_eq!(
        question(&q, "s_safe_school").check_answer(&Answer::Number(1)),
        Err(AnswerError::WrongKind)
    );
    assert!(
        question(&q, "s_safe_school")
            .check_answer(&Answer::Choice(200))
            .is_err()
    );
}

#[test]
fn a_full_secondary_response_round_trips_through_bytes() {
    let q = wellbeing();
    let mut set = AnswerSet::new();
    for question in q
        .questions()
        .iter()
        .filter(|x| x.stages().contains(Stage::S4))
    {
        let a = match question.kind() {
            survey_defs::QuestionKind::Number { max, .. } => Answer::Number(*max),
            survey_defs::QuestionKind::MultipleChoice => Answer::Multi(0b11),
            _ => Answer::Choice((question.options().len() - 1) as u8),
        };
        set.insert(question.ordinal(), a);
    }
    let bytes = set.encode();
    assert!(
        bytes.len() < 3 * set.len(),
        "{} bytes for {} answers",
        bytes.len(),
        set.len()
    );
    assert_eq!(AnswerSet::decode(&bytes).unwrap(), set);
    let streamed = AnswerSet::iter_encoded(&bytes).count();
    assert_eq!(streamed, set.len());
}

#[test]
fn positive_answers_score_positive_and_negative_ones_do_not() {
    let q = wellbeing();
    let good: AnswerSet = [
        answer(&q, "s_safe_school", &["always"]),
        answer(&q, "s_safe_area", &["fairly"]),
        answer(&q, "s_bullied", &["no"]),
    ]
    .into_iter()
    .collect();
    assert_eq!(result(&score(&q, &good), Indicator::Safe), Some(true));

    let bad: AnswerSet = [
        answer(&q, "s_safe_school", &["rarely"]),
        answer(&q, "s_bullied", &["yes"]),
    ]
    .into_iter()
    .collect();
    assert_eq!(result(&score(&q, &bad), Indicator::Safe), Some(false));
}

#[test]
fn reverse_scored_items_count_the_right_way() {
    let q = wellbeing();
    let never_left_out: AnswerSet = [
        answer(&q, "s_left_out", &["never"]),
        answer(&q, "s_lonely", &["never"]),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        result(&score(&q, &never_left_out), Indicator::Included),
        Some(true)
    );
    assert_eq!(
        question(&q, "s_lonely").item_score(&Answer::Choice(0)),
        Some(0.0)
    );
}

#[test]
fn too_few_answers_or_only_prefer_not_to_say_give_no_result() {
    let q = wellbeing();
    let one: AnswerSet = [answer(&q, "s_safe_school", &["always"])]
        .into_iter()
        .collect();
    assert_eq!(result(&score(&q, &one), Indicator::Safe), None);

    let declined: AnswerSet = [
        answer(&q, "s_safe_home", &["pnts"]),
        answer(&q, "s_bullied", &["pnts"]),
        answer(&q, "s_safe_area", &["dont_know"]),
    ]
    .into_iter()
    .collect();
    assert_eq!(result(&score(&q, &declined), Indicator::Safe), None);
    // Every indicator has a rule, in indicator order.
    let indicators: Vec<Indicator> = score(&q, &AnswerSet::new())
        .into_iter()
        .map(|(i, _)| i)
        .collect();
    assert_eq!(indicators, Indicator::ALL.to_vec());
}

#[test]
fn numbers_score_inside_their_range() {
    let q = wellbeing();
    let days = question(&q, "s_active_days");
    assert_eq!(days.item_score(&Answer::Number(5)), Some(1.0));
    assert_eq!(days.item_score(&Answer::Number(4)), Some(0.0));
}

#[test]
fn routed_scoring_ignores_answers_to_questions_no_longer_shown() {
    let q = wellbeing();
    // A primary pupil's answers to secondary questions do not count.
    let answers: AnswerSet = [
        answer(&q, "s_safe_school", &["never"]),
        answer(&q, "s_bullied", &["yes"]),
        answer(&q, "p_safe_school", &["always"]),
        answer(&q, "p_safe_home", &["always"]),
    ]
    .into_iter()
    .collect();
    let all = ModuleSwitches::all_on();
    assert_eq!(
        result(
            &score_routed(&q, Stage::P6, &all, &answers),
            Indicator::Safe
        ),
        Some(true)
    );
    assert_eq!(result(&score(&q, &answers), Indicator::Safe), Some(false));
}

#[test]
fn follow_up_questions_appear_only_after_a_matching_answer() {
    let q = wellbeing();
    let all = ModuleSwitches::all_on();
    let follow = question(&q, "s_bullied_where").ordinal();
    let mut answers = AnswerSet::new();
    assert!(!plan(&q, Stage::S2, &all, &answers).contains(follow));
    let (o, a) = answer(&q, "s_bullied", &["yes"]);
    answers.insert(o, a);
    let p = plan(&q, Stage::S2, &all, &answers);
    assert!(p.contains(follow));
    assert!(is_routed(&q, Stage::S2, &all, &answers, follow));
    let page_of = |ordinal| {
        p.pages
            .iter()
            .position(|pg| pg.questions.contains(&ordinal))
    };
    assert_ne!(
        page_of(o),
        page_of(follow),
        "a follow-up shares a page with its question"
    );
    // Not for primary pupils, whatever they answered.
    assert!(!is_routed(&q, Stage::P7, &all, &answers, follow));
}

#[test]
fn switching_off_a_module_hides_it_and_primary_pages_hold_one_question() {
    let q = wellbeing();
    let mut switches = ModuleSwitches::all_on();
    switches.disable("substance_use".parse().unwrap());
    let p = plan(&q, Stage::S4, &switches, &AnswerSet::new());
    assert!(p.ordinals().all(|o| {
        q.questions()[usize::from(o)]
            .module()
            .is_none_or(|m| m.as_str() != "substance_use")
    }));
    let primary = plan(&q, Stage::P5, &ModuleSwitches::all_on(), &AnswerSet::new());
    assert!(primary.pages.iter().all(|pg| pg.questions.len() == 1));
    // 40 core questions and the services question; its follow-ups wait
    // for an answer.
    assert_eq!(primary.len(), 41);
}
