//! Laws of page planning and routing, checked over random valid questionnaires.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use proptest::prelude::*;
use survey_defs::{
    Answer, AnswerSet, Band, ModuleId, ModuleSwitches, Questionnaire, Stage, every_route,
    is_routed, load_str, plan, routed,
};

const MODULES: [&str; 2] = ["mod_a", "mod_b"];

#[derive(Debug, Clone)]
struct GenQuestion {
    stages: Vec<usize>,
    /// 0: core, 1..: MODULES[n - 1]
    module: usize,
    /// Pick among earlier questions this one may route on, and whether it
    /// is asked after "yes" (else after "no").
    route: Option<(usize, bool)>,
}

fn question_strategy() -> impl Strategy<Value = GenQuestion> {
    (
        proptest::collection::btree_set(0usize..7, 1..7),
        0usize..3,
        proptest::option::weighted(0.4, (any::<usize>(), any::<bool>())),
    )
        .prop_map(|(stages, module, route)| GenQuestion {
            stages: stages.into_iter().collect(),
            module,
            route,
        })
}

/// Writes a questionnaire file and loads it, so only valid ones are used.
fn build(sections: &[Vec<GenQuestion>]) -> Questionnaire {
    let mut text = String::from(
        "id = \"gen\"\nversion = 1\ntitle = { en = \"Generated\" }\n[[locales]]\ncode = \"en\"\nname = \"English\"\n",
    );
    for m in MODULES {
        text.push_str(&format!(
            "[[modules]]\nid = \"{m}\"\ntitle = {{ en = \"{m}\" }}\n"
        ));
    }
    // (id, module) of questions written so far.
    let mut written: Vec<(String, usize)> = Vec::new();
    for (si, questions) in sections.iter().enumerate() {
        text.push_str(&format!(
            "[[sections]]\nid = \"s{si}\"\ntheme = \"about_you\"\ntitle = {{ en = \"Section\" }}\n"
        ));
        for q in questions {
            let id = format!("q{}", written.len());
            let stages: Vec<String> = q
                .stages
                .iter()
                .map(|&i| format!("\"{}\"", Stage::ALL[i]))
                .collect();
            text.push_str(&format!(
                "[[sections.questions]]\nid = \"{id}\"\nkind = \"yes_no\"\ntext = {{ en = \"Is it so?\" }}\nstages = [{}]\noptions = [{{ code = \"yes\", label = {{ en = \"Yes\" }} }}, {{ code = \"no\", label = {{ en = \"No\" }} }}]\n",
                stages.join(", ")
            ));
            if q.module > 0 {
                text.push_str(&format!("module = \"{}\"\n", MODULES[q.module - 1]));
            }
            if let Some((pick, after_yes)) = q.route {
                // Route only where the file format allows: the core, or the same module.
                let allowed: Vec<&String> = written
                    .iter()
                    .filter(|(_, m)| *m == 0 || *m == q.module)
                    .map(|(id, _)| id)
                    .collect();
                if !allowed.is_empty() {
                    let target = allowed[pick % allowed.len()];
                    let code = if after_yes { "yes" } else { "no" };
                    text.push_str(&format!(
                        "show_if = {{ question = \"{target}\", any_of = [\"{code}\"] }}\n"
                    ));
                }
            }
            written.push((id, q.module));
        }
    }
    match load_str("gen.toml", &text) {
        Ok(l) => l.questionnaire,
        Err(e) => panic!("generated file does not load:\n{e}\n{text}"),
    }
}

fn scenario() -> impl Strategy<Value = (Questionnaire, Stage, Vec<bool>, Vec<Option<bool>>)> {
    proptest::collection::vec(proptest::collection::vec(question_strategy(), 1..7), 1..5)
        .prop_flat_map(|sections| {
            let q = build(&sections);
            let n = q.questions().len();
            (
                Just(q),
                proptest::sample::select(Stage::ALL.to_vec()),
                proptest::collection::vec(any::<bool>(), MODULES.len()),
                proptest::collection::vec(proptest::option::of(any::<bool>()), n),
            )
        })
}

fn switches(off: &[bool]) -> ModuleSwitches {
    MODULES
        .iter()
        .zip(off)
        .filter(|(_, off)| **off)
        .map(|(m, _)| m.parse::<ModuleId>().unwrap())
        .collect()
}

fn answers(q: &Questionnaire, given: &[Option<bool>]) -> AnswerSet {
    given
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let a = (*a)?;
            let question = &q.questions()[i];
            let code = if a { "yes" } else { "no" };
            Some((
                question.ordinal(),
                Answer::Choice(question.option_index(code).unwrap()),
            ))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn plan_shows_every_routed_question_once_in_order((q, stage, off, given) in scenario()) {
        let switches = switches(&off);
        let answers = answers(&q, &given);
        let plan = plan(&q, stage, &switches, &answers);
        let shown: Vec<u16> = plan.ordinals().collect();
        let expected: Vec<u16> = q
            .questions()
            .iter()
            .map(|x| x.ordinal())
            .filter(|&o| is_routed(&q, stage, &switches, &answers, o))
            .collect();
        prop_assert_eq!(&shown, &expected);
        let flags = routed(&q, stage, &switches, &answers);
        for (o, flag) in flags.iter().enumerate() {
            prop_assert_eq!(*flag, expected.contains(&(o as u16)));
        }
        let limit = match stage.band() { Band::Primary => 1, Band::Secondary => 4 };
        for page in &plan.pages {
            prop_assert!(!page.questions.is_empty() && page.questions.len() <= limit);
            prop_assert_eq!(&page.key, q.questions()[page.questions[0] as usize].id().as_str());
            for &o in &page.questions {
                let question = &q.questions()[o as usize];
                prop_assert_eq!(question.section(), page.section);
                if let Some(c) = question.show_if() {
                    prop_assert!(!page.questions.contains(&c.depends_on()), "shares a page with its routing question");
                    for &other in &page.questions {
                        if let Some(theirs) = q.questions()[other as usize].show_if() {
                            prop_assert_eq!(theirs, c, "follow-ups to different answers share a page");
                        }
                    }
                }
            }
        }
        for page in &plan.pages {
            prop_assert_eq!(plan.page_index(&page.key).map(|i| &plan.pages[i]), Some(page));
        }
    }

    #[test]
    fn hiding_a_module_removes_exactly_its_questions((q, stage, off, given) in scenario(), which in 0usize..2) {
        let answers = answers(&q, &given);
        let before = switches(&off);
        let mut after = before.clone();
        let module: ModuleId = MODULES[which].parse().unwrap();
        after.disable(module.clone());
        let with: Vec<u16> = plan(&q, stage, &before, &answers).ordinals().collect();
        let without: Vec<u16> = plan(&q, stage, &after, &answers).ordinals().collect();
        let expected: Vec<u16> = with
            .iter()
            .copied()
            .filter(|&o| q.questions()[o as usize].module() != Some(&module))
            .collect();
        prop_assert_eq!(without, expected);
    }

    #[test]
    fn answering_never_regroups_settled_pages((q, stage, off, given) in scenario(), cut in any::<prop::sample::Index>()) {
        let switches = switches(&off);
        let full = answers(&q, &given);
        let cut = cut.index(q.questions().len() + 1) as u16;
        let partial: AnswerSet = full.iter().filter(|(o, _)| *o < cut).map(|(o, a)| (o, *a)).collect();
        let early = plan(&q, stage, &switches, &partial);
        let late = plan(&q, stage, &switches, &full);
        // A page followed by one that starts before the cut is settled: only
        // questions after the cut can change.
        for (i, pair) in early.pages.windows(2).enumerate() {
            if pair[1].questions[0] >= cut {
                break;
            }
            prop_assert_eq!(&pair[0], &late.pages[i]);
        }
    }

    #[test]
    fn every_route_holds_whatever_any_pupil_is_shown((q, stage, off, given) in scenario()) {
        let switches = switches(&off);
        let everything = every_route(&q, stage, &switches);
        let all: Vec<u16> = everything.ordinals().collect();
        let answered: Vec<u16> = plan(&q, stage, &switches, &answers(&q, &given)).ordinals().collect();
        for o in &answered {
            prop_assert!(all.contains(o), "question {} is shown to a pupil but missing from every route", o);
        }
        // Where no two follow-ups of one question ask for different
        // answers, a pupil who gives every answer a follow-up asks for sees
        // exactly every route, in the same pages.
        let mut wanted: Vec<Option<bool>> = vec![None; q.questions().len()];
        let mut consistent = true;
        for question in q.questions() {
            if let Some(c) = question.show_if() {
                let target = &q.questions()[usize::from(c.depends_on())];
                let asks_yes = c.matches(&Answer::Choice(target.option_index("yes").unwrap()));
                let slot = &mut wanted[usize::from(c.depends_on())];
                consistent &= slot.is_none_or(|w| w == asks_yes);
                *slot = Some(asks_yes);
            }
        }
        if consistent {
            let meets = answers(&q, &wanted);
            prop_assert_eq!(everything, plan(&q, stage, &switches, &meets));
        }
    }
}
