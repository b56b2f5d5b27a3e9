//! The request generator (miracle-requests) against the real experts: deterministic,
//! every demonstration checked, and the held-out split held by construction.

use miracle_experts::{Calculator, Code, Registry, Search};
use miracle_requests::{Plan, compose, contains_form, lexicon};
use miracle_router::demos::{CALCULATOR, CODE, Category, LITERATURE, Lang, Split};
use miracle_router::grounding::{implied_numbers, numbers_in};
use miracle_router::protocol::Step;

fn plan(requests: usize) -> Plan {
    Plan {
        requests,
        held_out_share: 0.2,
        joins: 0.3,
        combine: 0.2,
        groups: 0.1,
        institutions: 0.2,
        spacing: 0.2,
        series: 0.2,
        ..Plan::default()
    }
}

/// The agent's experts, with programs run by the `miracle` binary's code worker.
fn registry() -> Registry {
    Registry::new()
        .with(Calculator::new().named(CALCULATOR))
        .with(Search::new().named(LITERATURE).without_snippets())
        .with(
            Code::new()
                .worker(env!("CARGO_BIN_EXE_miracle"))
                .named(CODE),
        )
}

async fn composed(requests: usize, seed: u64) -> Vec<miracle_requests::Composed> {
    let registry = registry();
    compose(&registry, &plan(requests), seed)
        .await
        .expect("every draft checks against the experts")
}

#[tokio::test]
async fn a_run_is_deterministic_and_seeds_differ() {
    let (a, b, c) = (
        composed(60, 3).await,
        composed(60, 3).await,
        composed(60, 4).await,
    );
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[tokio::test]
async fn every_kind_language_and_split_is_made_and_each_answer_is_what_the_experts_return() {
    let demos = composed(400, 1).await;
    for category in [
        Category::Calc,
        Category::Code,
        Category::Literature,
        Category::Direct,
    ] {
        for lang in [Lang::En, Lang::Zh] {
            for split in [Split::Train, Split::HeldOut] {
                assert!(
                    demos.iter().any(|c| c.demo.category == category
                        && c.demo.lang == lang
                        && c.demo.split == split),
                    "no {category:?} {lang:?} {split:?} request"
                );
            }
        }
    }
    assert!(
        demos.iter().any(|c| c.demo.dialogue.exchanges.len() == 2),
        "no conversation"
    );
    let registry = registry();
    let context = miracle_experts::Context::default();
    for c in &demos {
        for exchange in &c.demo.dialogue.exchanges {
            let mut last = None;
            for pair in exchange.steps.windows(2) {
                if let [Step::Call { expert, input }, Step::Result { text }] = pair {
                    let again = registry.call(expert, input, &context).await.unwrap();
                    assert_eq!(
                        &again.text, text,
                        "{expert} {input:?} in {:?}",
                        exchange.user
                    );
                    last = Some((expert.clone(), text.clone()));
                }
            }
            let Some(Step::Answer { text: answer }) = exchange.steps.last() else {
                panic!("{:?} ends without an answer", exchange.user);
            };
            // A calculation or a program is answered with what its last call returned.
            if let Some((expert, result)) = last
                && expert != LITERATURE
            {
                assert!(
                    answer.contains(result.trim()),
                    "{answer:?} lacks {result:?}"
                );
            }
        }
        // A social act expects the reply it was given: a goodbye does not answer a greeting.
        let first = &c.demo.dialogue.exchanges[0].steps;
        if c.demo.category == Category::Direct {
            let Some(Step::Answer { text }) = first.last() else {
                unreachable!("every exchange ends with an answer")
            };
            assert!(c.demo.expect.replies.contains(text), "{}", c.demo.id);
        } else {
            assert!(c.demo.expect.replies.is_empty(), "{}", c.demo.id);
        }
        if let Some(answer) = &c.demo.expect.answer {
            assert!(
                matches!(first.last(), Some(Step::Answer { text }) if text.contains(answer.as_str())),
                "{}: expected {answer}",
                c.demo.id
            );
        }
    }
}

/// The wider list of social phrases (`social_phrases`): training requests take them, and
/// none holds a held-out phrase; each is answered with its act's reply, in both
/// languages; held-out acts still use only held-out phrases.
#[tokio::test]
async fn wider_social_phrases_teach_the_act_and_keep_held_out_phrases_apart() {
    let with = Plan {
        social_phrases: 1.0,
        held_out_share: 0.3,
        ..plan(1200)
    };
    let demos = compose(&registry(), &with, 67).await.unwrap();
    let (wider, forms) = (["Much appreciated", "我先走了"], held_forms());
    for phrase in wider {
        assert!(
            demos
                .iter()
                .any(|c| c.demo.split == Split::Train && c.demo.request().contains(phrase)),
            "no training request says {phrase:?}"
        );
    }
    for c in demos.iter().filter(|c| c.demo.category == Category::Direct) {
        let request = c.demo.request();
        let Some(Step::Answer { text }) = c.demo.dialogue.exchanges[0].steps.last() else {
            panic!("{request}: no answer")
        };
        assert!(c.demo.expect.replies.contains(text), "{request}: {text}");
        let held = (forms.iter()).any(|(lang, form)| contains_form(request, form, *lang));
        assert_eq!(held, c.demo.split == Split::HeldOut, "{request}");
    }
    // "Much appreciated" is thanks: the answer thanks are given.
    let thanks = (demos.iter())
        .find(|c| c.demo.request().starts_with("Much appreciated"))
        .expect("thanks");
    assert!(
        thanks
            .demo
            .expect
            .replies
            .iter()
            .any(|r| r.contains("welcome"))
    );
}

/// Every held-out form of both languages, with its language.
fn held_forms() -> Vec<(Lang, &'static str)> {
    [Lang::En, Lang::Zh]
        .into_iter()
        .flat_map(|lang| {
            lexicon::held_forms(lang)
                .into_iter()
                .map(move |f| (lang, f))
        })
        .collect()
}

/// The split holds by construction: a training request carries no held-out entry,
/// schema or combination, and its text (every turn) holds no held-out form; every
/// held-out request has a reason, and a lexical reason is written in its text.
#[tokio::test]
async fn no_held_out_item_reaches_training() {
    let demos = composed(1500, 2).await;
    let forms = held_forms();
    assert!(forms.len() > 40, "{} held-out forms", forms.len());
    let (mut train, mut held) = (0, 0);
    for c in &demos {
        match c.demo.split {
            Split::Train => {
                train += 1;
                assert!(c.marks.is_empty(), "{}: {:?}", c.demo.id, c.marks);
                for exchange in &c.demo.dialogue.exchanges {
                    for (lang, form) in &forms {
                        assert!(
                            !contains_form(&exchange.user, form, *lang),
                            "training request {:?} holds the held-out {form:?}",
                            exchange.user
                        );
                    }
                }
            }
            Split::HeldOut => {
                held += 1;
                assert!(
                    !c.marks.is_empty(),
                    "{} is held out for no reason",
                    c.demo.id
                );
                assert_eq!(c.demo.dialogue.exchanges.len(), 1);
            }
        }
    }
    assert!(
        train > 1000 && held > 200,
        "{train} training, {held} held out"
    );
    let reasons = |prefix: &str| {
        demos
            .iter()
            .flat_map(|c| &c.marks)
            .filter(|m| m.starts_with(prefix))
            .count()
    };
    for prefix in [
        "schema:average",
        "combination:",
        "operation:",
        "person:",
        "frame:",
    ] {
        assert!(reasons(prefix) > 0, "no request held out for {prefix}");
    }
}

#[test]
fn forms_are_matched_as_words_in_english_and_anywhere_in_chinese() {
    assert!(contains_form("Tomasz had 5 kites.", "kites", Lang::En));
    assert!(contains_form("What is 8 CUBED?", "cubed", Lang::En));
    assert!(!contains_form("It is overdue.", "over", Lang::En));
    assert!(!contains_form("Seashells", "shells", Lang::En));
    assert!(contains_form("又领到了3捆", "捆", Lang::Zh));
}

/// `miracle demos --compose` writes the composed split, and refuses a share that is no
/// share before writing anything.
#[test]
fn the_command_writes_the_split_and_refuses_a_bad_share() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("composed");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_miracle"))
            .args(args)
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .output()
            .unwrap()
    };
    let bad = run(&[
        "demos",
        "--compose",
        "20",
        "--heldout-share",
        "1.5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("between 0 and 1, not 1.5"), "{err}");
    assert!(!out.exists());
    let good = run(&[
        "demos",
        "--compose",
        "40",
        "--heldout-share",
        "0.5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let lines = |name: &str| {
        std::fs::read_to_string(out.join(name))
            .unwrap()
            .lines()
            .count()
    };
    assert_eq!(lines("heldout.jsonl"), 0, "no template demos");
    assert!(lines("heldout-composed.jsonl") > 5);
    assert_eq!(lines("train.jsonl") + lines("heldout-composed.jsonl"), 40);
    let forms: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("held-out-forms.json")).unwrap())
            .unwrap();
    assert!(forms["en"].as_array().unwrap().iter().any(|f| f == "cubed"));
    assert!(forms["zh"].as_array().unwrap().iter().any(|f| f == "捆"));
}

/// Every program a demonstration teaches, composed or from the templates, is one the code
/// expert's grammar lets the model write: decoding under it never blocks a trained program.
#[tokio::test]
async fn every_program_taught_is_whole_under_the_code_grammar() {
    let registry = registry();
    let counts = miracle_router::demos::Counts {
        calc: 0,
        code: 40,
        literature: 0,
        direct: 0,
        expert_demonstrations: 20,
    };
    let templates = miracle_router::demos::generate(&registry, &counts, 1, 0.0)
        .await
        .unwrap();
    let composed: Vec<_> = composed(400, 2).await.into_iter().map(|c| c.demo).collect();
    let mut programs = 0;
    for demo in templates.iter().chain(&composed) {
        for exchange in &demo.dialogue.exchanges {
            for step in &exchange.steps {
                if let Step::Call { expert, input } = step
                    && expert == CODE
                {
                    programs += 1;
                    let written = miracle_experts::code::grammar::Program::default().after(input);
                    assert!(
                        written.is_some_and(|w| w.complete()),
                        "{} {input:?}",
                        demo.id
                    );
                }
            }
        }
    }
    assert!(programs > 100, "only {programs} programs");
}

/// Beside composed running totals, the template stories of bought boxes are worked the same
/// way at the share asked: the same requests and answers, no plan, and the boxes added to the
/// stock in one call (`a + b * c`), as the generator adds a grouped gain. "Take, then add"
/// keeps its plan (its joined loss is a clause the generator holds out).
#[tokio::test]
async fn template_bought_boxes_follow_running_totals_at_their_share() {
    let registry = registry();
    let counts = miracle_router::demos::Counts {
        calc: 12,
        code: 0,
        literature: 0,
        direct: 0,
        expert_demonstrations: 0,
    };
    let generate = |share| miracle_router::demos::generate(&registry, &counts, 1, share);
    let (planned, running) = (generate(0.0).await.unwrap(), generate(0.5).await.unwrap());
    let shape = |demo| {
        let calls = demo_calls(demo);
        (demo_thinks(demo), calls.len(), calls.first().cloned())
    };
    let mut rewritten = 0;
    for (p, r) in planned.iter().zip(&running) {
        assert_eq!((p.request(), &p.expect), (r.request(), &r.expect));
        let index: usize = r.id.rsplit('.').next().unwrap().parse().unwrap();
        if r.family != "calc.word_buy" || index >= 6 {
            assert_eq!(shape(p), shape(r), "{} is left as it was", r.id);
            continue;
        }
        rewritten += 1;
        let (thinks, calls, first) = shape(r);
        assert!(shape(p).0 && !thinks, "{}: planned, then no plan", r.id);
        assert_eq!(calls, 1, "{}", r.id);
        let first = first.unwrap();
        assert!(first.contains(" + ") && first.contains(" * "), "{first}");
    }
    assert_eq!(rewritten, 2 * 6, "two languages, half of 12 each");
}

/// With `fresh_turns`, some conversations go on with a request of another kind (a search
/// after a calculation), as a patron at a desk does; none holds a held-out form.
#[tokio::test]
async fn a_conversation_may_go_on_with_a_fresh_request_of_another_kind() {
    let registry = registry();
    let fresh = Plan {
        fresh_turns: 1.0,
        joins: 0.0,
        ..plan(240)
    };
    let demos = compose(&registry, &fresh, 9).await.unwrap();
    let experts = |exchange: &miracle_router::protocol::Exchange| -> Vec<String> {
        (exchange.steps.iter())
            .filter_map(|s| match s {
                Step::Call { expert, .. } => Some(expert.clone()),
                _ => None,
            })
            .collect()
    };
    let talks: Vec<_> = demos
        .iter()
        .filter(|c| c.demo.family.starts_with("compose.talk.fresh."))
        .collect();
    assert!(talks.len() >= 10, "{} fresh conversations", talks.len());
    let forms = held_forms();
    for c in &talks {
        assert_eq!(c.demo.split, Split::Train);
        let [first, second] = &c.demo.dialogue.exchanges[..] else {
            panic!("{}: not two turns", c.demo.id);
        };
        assert_ne!(experts(first), experts(second), "{}", c.demo.id);
        for (lang, form) in &forms {
            assert!(
                !contains_form(&second.user, form, *lang),
                "{:?}",
                second.user
            );
        }
    }
}

/// The agent holds a turn's first call to the search when the request asks for papers in
/// so many words (`miracle_router::intent`): no word problem, program or greeting of either
/// split may read as such a request, and most training requests for papers do (the rest
/// carry typos, or follow up with "What about …?").
#[tokio::test]
async fn only_requests_for_papers_read_as_asking_for_papers() {
    use miracle_router::intent::asks_for_papers;
    let demos = composed(400, 5).await;
    let mut asked = (0, 0);
    for c in &demos {
        let exchanges = &c.demo.dialogue.exchanges;
        let request = &exchanges.last().expect("a turn").user;
        if c.demo.category != Category::Literature {
            assert!(
                !asks_for_papers(request),
                "{:?}: {request}",
                c.demo.category
            );
        } else if c.demo.split == Split::Train && exchanges.len() == 1 {
            asked.0 += usize::from(asks_for_papers(request));
            asked.1 += 1;
        }
    }
    assert!(
        asked.1 >= 20,
        "too few single-turn requests for papers: {}",
        asked.1
    );
    assert!(
        asked.0 * 10 >= asked.1 * 9,
        "{} of {} asked",
        asked.0,
        asked.1
    );
}

/// Stories join clauses ("Tom had 40 stamps and bought 15 more."), and a joined clause that
/// takes things away ("… and gave 15 to his sister") is held out whole: no training
/// request writes one, and held-out requests that do say so.
#[tokio::test]
async fn a_joined_loss_is_held_out_and_joined_gains_are_taught() {
    let without_tallies = Plan {
        combine: 0.0,
        ..plan(600)
    };
    let demos = compose(&registry(), &without_tallies, 8).await.unwrap();
    let losses: Vec<String> = [lexicon::EN_LOSE, lexicon::EN_BODY_LOSE]
        .iter()
        .flat_map(|pool| pool.train.iter().chain(pool.held))
        .flat_map(|v| [v.now, v.past])
        .chain(["gives", "gave"])
        .map(|verb| format!(" and {verb} "))
        .collect();
    let mut joined_gains = 0;
    for c in &demos {
        if c.demo.category != Category::Calc {
            continue;
        }
        let request = &c.demo.dialogue.exchanges.last().expect("a turn").user;
        let joined_loss = losses.iter().any(|l| request.contains(l.as_str()));
        match c.demo.split {
            Split::Train => {
                assert!(!joined_loss, "a training request joins a loss: {request}");
                joined_gains += usize::from(request.contains(" more") && request.contains(" and "));
            }
            Split::HeldOut if joined_loss => {
                assert!(
                    c.marks.iter().any(|m| m == "clause:compound-loss"),
                    "{request}: {:?}",
                    c.marks
                );
            }
            Split::HeldOut => {}
        }
    }
    assert!(joined_gains > 0, "no training story joins a gain");
    assert!(
        demos
            .iter()
            .any(|c| c.marks.iter().any(|m| m == "clause:compound-loss")),
        "no held-out story joins a loss"
    );
}

/// Tallies (the combine schema) are told in both languages, in one clause and in sentences
/// of their own: "sold" over two days adds, and the contrast question on the same tally
/// subtracts the smaller part. A plan without them draws none.
#[tokio::test]
async fn tallies_add_their_parts_and_the_contrast_question_subtracts() {
    let demos = composed(400, 21).await;
    let tallies = of_family(&demos, "compose.story.combine");
    let told = |lang, word| told(&tallies, lang, word);
    assert!(
        told(Lang::En, " sold ") && told(Lang::Zh, "卖出了"),
        "{}",
        tallies.len()
    );
    assert!(told(Lang::En, "How many more") && told(Lang::Zh, "多"));
    for c in &tallies {
        let (request, calls) = (c.demo.request(), calls(c));
        let contrast = request.to_lowercase().contains("how many more") || request.contains("比");
        let op = if contrast { " - " } else { " + " };
        assert!(
            calls.iter().all(|call| call.contains(op)),
            "{request}: {calls:?}"
        );
    }
    // combine = 0: no tally.
    let without = Plan {
        combine: 0.0,
        ..plan(60)
    };
    let plain = compose(&registry(), &without, 4).await.unwrap();
    assert!(
        plain
            .iter()
            .all(|c| c.demo.family != "compose.story.combine")
    );
}

/// Equal groups ("Each box holds 6 eggs. How many eggs are in 8 boxes?", "一个篮子放9个苹果，
/// 2个篮子能放多少个苹果？") are told in both languages and multiply.
#[tokio::test]
async fn equal_groups_multiply_in_both_languages() {
    let demos = composed(400, 22).await;
    let groups = of_family(&demos, "compose.story.groups");
    let told = |lang, word| told(&groups, lang, word);
    assert!(
        told(Lang::En, "Each ") || told(Lang::En, "One "),
        "{}",
        groups.len()
    );
    assert!(told(Lang::Zh, "一个"), "{}", groups.len());
    groups.iter().for_each(|c| multiplies_once(c));
}

/// That `c` answers with one call, a product.
fn multiplies_once(c: &miracle_requests::Composed) {
    let calls = calls(c);
    assert!(
        calls.len() == 1 && calls[0].contains(" * "),
        "{}: {calls:?}",
        c.demo.request()
    );
}

/// Equal groups told by where the things are ("There are 24 books on a shelf. How many
/// books are on 5 shelves?", "书架上有24本书，5个书架一共有多少本书？") multiply in both
/// languages; a held-out place is said by held-out requests only, and a plan without the
/// option tells no group by its place.
#[tokio::test]
async fn equal_groups_told_by_their_place_multiply_and_keep_held_out_places_apart() {
    let with = Plan {
        groups: 1.0,
        group_places: 1.0,
        ..plan(300)
    };
    let demos = compose(&registry(), &with, 31).await.unwrap();
    let groups = of_family(&demos, "compose.story.groups");
    let told = |lang, word| told(&groups, lang, word);
    assert!(told(Lang::En, " shelves") || told(Lang::En, " shelf"));
    assert!(told(Lang::Zh, "个书架"), "{}", groups.len());
    assert!(
        told(Lang::Zh, "书架上有"),
        "the issue's frame is never told"
    );
    for c in &groups {
        multiplies_once(c);
        calls_are_grounded(c);
    }
    let held = |lang| match lang {
        Lang::En => lexicon::EN_HOLDERS.held,
        Lang::Zh => lexicon::ZH_HOLDERS.held,
    };
    let holds = |c: &miracle_requests::Composed| {
        let (request, lang) = (c.demo.request(), c.demo.lang);
        (held(lang).iter()).any(|h| {
            [h.many, h.one]
                .iter()
                .any(|w| contains_form(request, w, lang))
        })
    };
    assert!(groups.iter().any(|c| holds(c)), "no held-out place is told");
    for c in groups.iter().filter(|c| holds(c)) {
        assert_eq!(c.demo.split, Split::HeldOut, "{}", c.demo.request());
    }
    let without = Plan {
        groups: 1.0,
        ..plan(120)
    };
    let plain = compose(&registry(), &without, 31).await.unwrap();
    let plain = of_family(&plain, "compose.story.groups");
    assert!(!plain.is_empty());
    for c in plain {
        let request = c.demo.request();
        let by_place = ["shelf", "shelves", "rack", "racks"]
            .iter()
            .any(|w| contains_form(request, w, Lang::En))
            || request.contains("书架");
        assert!(!by_place, "{request}");
    }
}

/// At `group_sizes`, grouped gains are drawn as few and as small as grouped losses, so that
/// "Roger has 5 tennis balls. He buys 2 more cans … Each can has 3" is taught as an
/// addition: about half of them are of groups under ten, in both languages, against about
/// one in eight without the option.
#[tokio::test]
async fn grouped_gains_come_in_small_groups_as_losses_do() {
    let small_share = |demos: &[miracle_requests::Composed]| {
        let gains: Vec<(Lang, bool)> = of_family(demos, "compose.story.change")
            .into_iter()
            .flat_map(|c| {
                grouped_gains(c)
                    .into_iter()
                    .map(|small| (c.demo.lang, small))
            })
            .collect();
        let small = |lang| gains.iter().filter(|&&(l, s)| l == lang && s).count();
        assert!(small(Lang::En) > 0 && small(Lang::Zh) > 0, "{gains:?}");
        (small(Lang::En) + small(Lang::Zh)) as f32 / gains.len() as f32
    };
    let with = Plan {
        group_sizes: 1.0,
        ..plan(600)
    };
    let with = small_share(&compose(&registry(), &with, 37).await.unwrap());
    let without = small_share(&compose(&registry(), &plan(600), 37).await.unwrap());
    assert!(with > 0.3 && without < 0.2, "{with} {without}");
}

/// At `wide_words`, training stories tell of the wider lists' things, containers and verbs
/// in both languages, and still hold no held-out form; the held-out requests are those a
/// plan without the option draws.
#[tokio::test]
async fn wider_words_reach_training_stories_and_nothing_held_out() {
    let with = Plan {
        wide_words: 1.0,
        ..plan(400)
    };
    let demos = compose(&registry(), &with, 41).await.unwrap();
    let train: Vec<_> = (demos.iter())
        .filter(|c| c.demo.split == Split::Train)
        .collect();
    let says = |lang, word: &str| {
        (train.iter()).any(|c| c.demo.lang == lang && contains_form(c.demo.request(), word, lang))
    };
    let told = |lang, words: Vec<&str>| words.into_iter().filter(|w| says(lang, w)).count();
    let en_nouns = |nouns: &[lexicon::Noun]| nouns.iter().map(|n| n.many).collect();
    let en_verbs = |verbs: &[lexicon::Verb]| verbs.iter().flat_map(|v| [v.now, v.past]).collect();
    assert!(told(Lang::En, en_nouns(lexicon::EN_THINGS_MORE)) >= 5);
    assert!(told(Lang::En, en_nouns(lexicon::EN_CONTAINERS_MORE)) >= 2);
    assert!(told(Lang::En, en_verbs(lexicon::EN_GAIN_MORE)) >= 4);
    assert!(told(Lang::En, en_verbs(lexicon::EN_LOSE_MORE)) >= 4);
    let zh_things = lexicon::ZH_THINGS_MORE.iter().map(|z| z.noun).collect();
    assert!(told(Lang::Zh, zh_things) >= 5);
    assert!(told(Lang::Zh, lexicon::ZH_GAIN_MORE.to_vec()) >= 4);
    assert!(told(Lang::Zh, lexicon::ZH_LOSE_MORE.to_vec()) >= 4);
    for c in &train {
        for (lang, form) in held_forms() {
            assert!(
                !contains_form(c.demo.request(), form, lang),
                "training request {:?} holds the held-out {form:?}",
                c.demo.request()
            );
        }
    }
    let without = compose(&registry(), &plan(400), 41).await.unwrap();
    assert_eq!(held_requests(&demos), held_requests(&without));
    assert!(!held_requests(&demos).is_empty());
}

/// At `single_events`, a training change story is told with one plain event: one call of
/// two numbers, an addition for a gain and a subtraction for a loss, both in both languages.
/// Held-out requests are those a plan without the option draws.
#[tokio::test]
async fn single_events_are_one_gain_or_one_loss() {
    let with = Plan {
        single_events: 1.0,
        ..plan(400)
    };
    let demos = compose(&registry(), &with, 47).await.unwrap();
    let mut changes = of_family(&demos, "compose.story.change");
    changes.retain(|c| c.demo.split == Split::Train);
    let mut ops = std::collections::BTreeSet::new();
    for c in &changes {
        let calls = calls(c);
        assert_eq!(calls.len(), 1, "{}: {calls:?}", c.demo.request());
        let op = [" + ", " - "].into_iter().find(|op| calls[0].contains(op));
        let op = op.unwrap_or_else(|| panic!("{}: {}", c.demo.request(), calls[0]));
        assert_eq!(numbers_in(&calls[0]).len(), 2, "{}", calls[0]);
        ops.insert((c.demo.lang == Lang::Zh, op));
    }
    assert_eq!(ops.len(), 4, "a gain and a loss in each language: {ops:?}");
    let without = compose(&registry(), &plan(400), 47).await.unwrap();
    assert_eq!(held_requests(&demos), held_requests(&without));
    assert!(!held_requests(&demos).is_empty());
}

/// At `plain_forms`, a training change story's Chinese verbs drop their 了 ("卖出71本。",
/// where the lists say "卖出了") and what is left is asked as patrons ask it ("How many
/// shells remain?", "还剩下多少本？"); without the option the verbs keep it and no story asks
/// so. Held-out requests are those a plan without the option draws.
#[tokio::test]
async fn plain_forms_drop_le_and_ask_what_remains() {
    // A 了 right before the quantity: "卖出了71本", "又买了六张".
    let le_before_number = |text: &str| {
        let chars: Vec<char> = text.chars().collect();
        (chars.windows(2)).any(|w| {
            w[0] == '了' && (w[1].is_ascii_digit() || "一二三四五六七八九十两".contains(w[1]))
        })
    };
    let changes = |demos: &[miracle_requests::Composed], lang| -> Vec<String> {
        let mut changes = of_family(demos, "compose.story.change");
        changes.retain(|c| c.demo.split == Split::Train && c.demo.lang == lang);
        changes
            .iter()
            .map(|c| c.demo.request().to_string())
            .collect()
    };
    let with = Plan {
        plain_forms: 1.0,
        ..plan(1500)
    };
    let demos = compose(&registry(), &with, 53).await.unwrap();
    let zh = changes(&demos, Lang::Zh);
    assert!(zh.len() > 20, "{}", zh.len());
    for request in &zh {
        assert!(!le_before_number(request), "{request}");
    }
    let en = changes(&demos, Lang::En);
    for ask in ["remain?", "are left?", "still have?"] {
        assert!(en.iter().any(|r| r.contains(ask)), "no {ask:?}");
    }
    assert!(zh.iter().any(|r| r.contains("还剩下多少")), "no 还剩下多少");
    let without = compose(&registry(), &plan(1500), 53).await.unwrap();
    assert!(
        changes(&without, Lang::Zh)
            .iter()
            .any(|r| le_before_number(r))
    );
    assert!(
        !changes(&without, Lang::En)
            .iter()
            .any(|r| r.contains("remain?"))
    );
    assert_eq!(held_requests(&demos), held_requests(&without));
    assert!(!held_requests(&demos).is_empty());
}

/// At `running_totals`, a training change story is worked one event per call on the result
/// before it ("21 + 12 * 49", then "609 - 4 * 46"), a group inside its event's call, with
/// no plan first; without the option the same stories plan first. Held-out requests are
/// those a plan without the option draws.
#[tokio::test]
async fn change_stories_are_worked_as_running_totals() {
    let with = Plan {
        running_totals: 1.0,
        ..plan(400)
    };
    let demos = compose(&registry(), &with, 43).await.unwrap();
    let mut changes = of_family(&demos, "compose.story.change");
    changes.retain(|c| c.demo.split == Split::Train);
    let mut grouped = [0, 0];
    for c in &changes {
        assert!(!thinks(c), "{}", c.demo.request());
        let steps = &c.demo.dialogue.exchanges[0].steps;
        let mut before: Option<&str> = None;
        for step in steps {
            match step {
                Step::Call { input, .. } => {
                    if let Some(result) = before {
                        let rest = input.strip_prefix(result).unwrap_or_else(|| {
                            panic!("{}: {input} does not go on from {result}", c.demo.request())
                        });
                        assert!(
                            rest.starts_with(" + ") || rest.starts_with(" - "),
                            "{input}"
                        );
                        if rest.contains(" * ") {
                            grouped[(c.demo.lang == Lang::Zh) as usize] += 1;
                        }
                    }
                }
                Step::Result { text } => before = Some(text),
                _ => {}
            }
        }
    }
    assert!(grouped[0] > 0 && grouped[1] > 0, "{grouped:?}");
    let without = compose(&registry(), &plan(400), 43).await.unwrap();
    let planned = of_family(&without, "compose.story.change");
    assert!((planned.iter()).any(|c| calls(c).len() >= 2 && thinks(c)));
    assert!(
        (planned.iter())
            .filter(|c| calls(c).len() >= 2)
            .all(|c| thinks(c))
    );
    assert_eq!(held_requests(&demos), held_requests(&without));
    assert!(!held_requests(&demos).is_empty());
}

/// At `running_totals`, an average's sum is worked call by call with no plan, as a change
/// story is; without the option its sums of three values or more plan first ("Add 9 and 97,
/// then add 8, then divide by 3.").
#[tokio::test]
async fn averages_are_summed_without_a_plan_in_running_totals() {
    let averages = Plan {
        averages: 0.5,
        average_frames: 0.75,
        ..plan(600)
    };
    let with = Plan {
        running_totals: 1.0,
        ..averages.clone()
    };
    fn trained(demos: &[miracle_requests::Composed]) -> Vec<&miracle_requests::Composed> {
        let mut found = of_family(demos, "compose.story.average");
        found.retain(|c| c.demo.split == Split::Train && calls(c).len() >= 2);
        found
    }
    let demos = compose(&registry(), &with, 47).await.unwrap();
    let summed = trained(&demos);
    assert!(summed.len() >= 10, "{}", summed.len());
    assert!(!summed.iter().any(|c| thinks(c)));
    let without = compose(&registry(), &averages, 47).await.unwrap();
    assert!(trained(&without).iter().all(|c| thinks(c)));
    assert_eq!(held_requests(&demos), held_requests(&without));
}

/// At `running_notes`, each call of a running total follows a think that copies its
/// event from the story, a sentence or a joined clause, whose numbers the call then reads
/// ("He donates four boxes with 3 kites in each.", then `60 - 4 * 3`). Held-out requests
/// are those a plan without the option draws. A story asking what was gained notes its gains.
#[tokio::test]
async fn running_totals_copy_each_event_before_its_call() {
    let with = Plan {
        running_totals: 1.0,
        running_notes: 1.0,
        ..plan(400)
    };
    let demos = compose(&registry(), &with, 43).await.unwrap();
    let mut changes = of_family(&demos, "compose.story.change");
    changes.retain(|c| c.demo.split == Split::Train);
    let (mut noted, mut verbatim, mut gains_noted) = (0, 0, 0);
    for c in &changes {
        let steps = &c.demo.dialogue.exchanges[0].steps;
        let request = c.demo.request();
        if (request.contains("in all?") || request.contains("一共得到了")) && thinks(c) {
            gains_noted += 1;
        }
        let mut note: Option<&str> = None;
        for step in steps {
            match step {
                Step::Think { text } => note = Some(text),
                Step::Call { input, .. } => {
                    let Some(text) = note.take() else {
                        continue;
                    };
                    noted += 1;
                    verbatim += request.contains(text) as usize;
                    let read = numbers_in(input);
                    for n in numbers_in(text) {
                        assert!(read.contains(&n), "{text:?} then {input:?}");
                    }
                }
                _ => {}
            }
        }
        let think_count = (steps.iter())
            .filter(|s| matches!(s, Step::Think { .. }))
            .count();
        assert!(
            think_count == 0 || think_count == calls(c).len(),
            "{:?}",
            steps
        );
    }
    assert!(noted > 40, "{noted}");
    // A story asking what was gained notes its gains as well (no call for a loss).
    assert!(gains_noted >= 5, "{gains_noted}");
    // Typing slips, casing, spaced digits and half-width punctuation may dress the request
    // after the note is taken; the rest of the notes are the request's words.
    assert!(verbatim * 4 >= noted * 3, "{verbatim} of {noted}");
    let without = compose(&registry(), &plan(400), 43).await.unwrap();
    assert_eq!(held_requests(&demos), held_requests(&without));
}

/// Whether `c`'s first exchange writes a think (a plan or a note).
fn thinks(c: &miracle_requests::Composed) -> bool {
    demo_thinks(&c.demo)
}

/// Whether `demo`'s first exchange thinks (writes a plan or a note) anywhere.
fn demo_thinks(demo: &miracle_router::demos::Demo) -> bool {
    (demo.dialogue.exchanges[0].steps.iter()).any(|s| matches!(s, Step::Think { .. }))
}

/// The held-out requests among `demos`, in order.
fn held_requests(demos: &[miracle_requests::Composed]) -> Vec<String> {
    (demos.iter())
        .filter(|c| c.demo.split == Split::HeldOut)
        .map(|c| c.demo.request().to_string())
        .collect()
}

/// For each group product of `c`'s calls that a later call adds to something, whether both
/// of its factors are under ten.
fn grouped_gains(c: &miracle_requests::Composed) -> Vec<bool> {
    let calls = calls(c);
    let factors = |call: &str| -> Option<(i64, i64)> {
        let (a, b) = call.split_once(" * ")?;
        Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
    };
    let mut gains = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        let Some((a, b)) = factors(call) else {
            continue;
        };
        let product = (a * b).to_string();
        let added = calls[i + 1..]
            .iter()
            .any(|later| later.contains(" + ") && later.split(" + ").any(|x| x.trim() == product));
        if added {
            gains.push(a < 10 && b < 10);
        }
    }
    gains
}

/// Change stories and tallies are told of institutions too ("A library had 67 magazines.
/// It discarded 5 and received 9 new ones."), in both languages, and what an institution
/// discards is taken away. A plan without them tells none.
#[tokio::test]
async fn an_institution_keeps_a_stock_and_what_it_discards_is_taken_away() {
    let all = Plan {
        institutions: 1.0,
        ..plan(400)
    };
    let demos = compose(&registry(), &all, 24).await.unwrap();
    let changes = of_family(&demos, "compose.story.change");
    let bodies = |pool: &[lexicon::Body]| pool.iter().map(|b| b.noun).collect::<Vec<_>>();
    let en = bodies(lexicon::EN_BODIES.train);
    let of_body = |c: &&miracle_requests::Composed| {
        let request = c.demo.request();
        en.iter().any(|b| request.contains(&format!("A {b} ")))
            || (lexicon::ZH_BODIES.train.iter()).any(|b| {
                ["有", "原", "一开始"]
                    .iter()
                    .any(|s| request.contains(&format!("{b}{s}")))
            })
    };
    let told_of: Vec<_> = changes.iter().copied().filter(of_body).collect();
    assert!(told(&told_of, Lang::En, " it ") || told(&told_of, Lang::En, "It "));
    assert!(told(&told_of, Lang::Zh, "有"));
    let mut discards = 0;
    for c in told_of.iter().filter(|c| c.demo.lang == Lang::En) {
        let request = c.demo.request();
        if request.contains("in all") {
            continue; // how many came in: what went out is no part of it
        }
        let words: Vec<&str> = request.split_whitespace().collect();
        for w in words.windows(3) {
            let grouped = lexicon::EN_CONTAINERS.train.iter().any(|b| w[2] == b.many);
            let Ok(n) = w[1].trim_end_matches('.').parse::<i64>() else {
                continue;
            };
            if matches!(w[0], "discards" | "discarded") && !grouped {
                let calls = calls(c);
                assert!(
                    calls.iter().any(|call| call.ends_with(&format!(" - {n}"))),
                    "{request}: {calls:?}"
                );
                discards += 1;
            }
        }
    }
    assert!(discards > 0, "no institution discards anything");
    let without = Plan {
        institutions: 0.0,
        ..plan(120)
    };
    let plain = compose(&registry(), &without, 24).await.unwrap();
    let plain_changes = of_family(&plain, "compose.story.change");
    assert!(!plain_changes.iter().any(of_body));
}

/// Chinese typed with spaces around its digits ("计算 5 减去 1") is composed, and a plan
/// without the option types none.
#[tokio::test]
async fn chinese_is_typed_with_spaces_around_digits_at_the_plans_share() {
    let spaced = |c: &miracle_requests::Composed| {
        let chars: Vec<char> = c.demo.request().chars().collect();
        chars
            .windows(3)
            .any(|w| miracle_corpora::is_han(w[0]) && w[1] == ' ' && w[2].is_ascii_digit())
    };
    let demos = composed(300, 25).await;
    assert!(demos.iter().any(|c| c.demo.lang == Lang::Zh && spaced(c)));
    let without = Plan {
        spacing: 0.0,
        ..plan(300)
    };
    let plain = compose(&registry(), &without, 25).await.unwrap();
    assert!(!plain.iter().any(spaced));
}

/// Part and whole ("A class has 42 students. 19 of them are girls. How many are boys?",
/// "一筐有60个苹果，其中红苹果有25个，青苹果有多少个？") is told in both languages and subtracts
/// the part from the whole. Its held-out kinds ("taken", "vacant", 男生) reach only
/// held-out requests, which say so; a plan without the option tells none.
#[tokio::test]
async fn a_part_and_a_whole_subtract_and_their_held_out_kinds_stay_held_out() {
    let with = Plan {
        complements: 1.0,
        held_out_share: 0.5,
        ..plan(400)
    };
    let demos = compose(&registry(), &with, 31).await.unwrap();
    let stories = of_family(&demos, "compose.story.complement");
    assert!(told(&stories, Lang::En, " of the "), "{}", stories.len());
    assert!(told(&stories, Lang::Zh, "有多少") || told(&stories, Lang::Zh, "有几"));
    for c in &stories {
        let calls = calls(c);
        assert!(
            calls.len() == 1 && calls[0].contains(" - "),
            "{}: {calls:?}",
            c.demo.request()
        );
    }
    let held: Vec<(Lang, &str)> = [
        (Lang::En, &lexicon::EN_PARTS),
        (Lang::Zh, &lexicon::ZH_PARTS),
    ]
    .into_iter()
    .flat_map(|(lang, pool)| pool.held.iter().map(move |p| (lang, p.other)))
    .collect();
    let mut marked = 0;
    for c in &demos {
        for &(lang, form) in &held {
            if c.demo.lang == lang && contains_form(c.demo.request(), form, lang) {
                assert_eq!(c.demo.split, Split::HeldOut, "{}", c.demo.request());
                assert!(
                    c.marks.iter().any(|m| m == &format!("parts:{form}")),
                    "{:?}",
                    c.marks
                );
                marked += 1;
            }
        }
    }
    assert!(marked > 0, "no held-out kind was drawn");
    let without = compose(&registry(), &plan(200), 31).await.unwrap();
    assert!(of_family(&without, "compose.story.complement").is_empty());
}

/// A series (`series`: 1 + 2 + … + n, its even numbers, its odd ones, its cubes) is asked
/// for in both languages, and its program's printed answer is the series' closed form for
/// the request's n; a plan without the option asks for none.
#[tokio::test]
async fn a_series_sums_its_range_and_answers_the_closed_form() {
    let with = Plan {
        series: 1.0,
        ..plan(300)
    };
    let demos = compose(&registry(), &with, 41).await.unwrap();
    let closed = |family: &str, n: i128| match family {
        "compose.program.range_sum" => n * (n + 1) / 2,
        "compose.program.even_sum" => (n / 2) * (n / 2 + 1),
        "compose.program.odd_sum" => ((n + 1) / 2) * ((n + 1) / 2),
        "compose.program.cube_sum" => (n * (n + 1) / 2).pow(2),
        other => panic!("{other} is not a series"),
    };
    // Asked for by what the program does, not only by what it finds. A Chinese verb phrase
    // opens with 把 or 将; 加起来 alone would also match a noun phrase (不超过n的全部偶数加起来).
    let says_verb = |c: &miracle_requests::Composed| {
        let request = c.demo.request();
        ["adds up", "adds together", "sums ", "totals up", "把", "将"]
            .iter()
            .any(|verb| request.contains(verb))
    };
    let mut checked = 0;
    for family in ["range_sum", "even_sum", "odd_sum", "cube_sum"] {
        let family = format!("compose.program.{family}");
        let series = of_family(&demos, &family);
        for lang in [Lang::En, Lang::Zh] {
            let in_lang: Vec<_> = series.iter().filter(|c| c.demo.lang == lang).collect();
            assert!(!in_lang.is_empty(), "no {family} in {lang:?}");
            assert!(
                in_lang.iter().any(|c| says_verb(c)),
                "no {family} in {lang:?} asked for with a verb: {:?}",
                in_lang.iter().map(|c| c.demo.request()).collect::<Vec<_>>()
            );
        }
        for c in series {
            let request = c.demo.request();
            let n = (request.split(|ch: char| !ch.is_ascii_digit()))
                .rfind(|w| !w.is_empty())
                .and_then(|w| w.parse::<i128>().ok())
                .expect("the request names its n");
            let answer = c.demo.expect.answer.as_deref().unwrap();
            assert_eq!(answer, closed(&family, n).to_string(), "{request}");
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} series");
    let without = compose(
        &registry(),
        &Plan {
            series: 0.0,
            ..plan(200)
        },
        41,
    )
    .await
    .unwrap();
    for family in ["range_sum", "even_sum", "odd_sum", "cube_sum"] {
        assert!(of_family(&without, &format!("compose.program.{family}")).is_empty());
    }
}

/// An average (`averages`) is taught over a tally's parts in both languages: every number
/// of the story is summed, the sum divided by the count the question writes, and the answer
/// is the mean. The scores' telling stays held out by its words, and with the option on it
/// is no longer held out as a whole schema; a plan without the option teaches no average.
#[tokio::test]
async fn an_average_sums_the_parts_and_divides_and_its_scores_stay_held_out() {
    let with = Plan {
        averages: 1.0,
        held_out_share: 0.3,
        ..plan(300)
    };
    let demos = compose(&registry(), &with, 53).await.unwrap();
    let averages = of_family(&demos, "compose.story.average");
    let taught: Vec<_> = (averages.iter())
        .filter(|c| c.demo.split == Split::Train)
        .collect();
    assert!(told(&averages, Lang::En, "on average"));
    assert!(told(&averages, Lang::Zh, "平均每"));
    for c in &taught {
        let count = a_mean(c).len();
        let word = ["two 两", "three 三", "four 四"][count - 2];
        // Chinese may be typed with spaces around digits ("这 2 个月").
        let (request, unspaced) = (c.demo.request(), c.demo.request().replace(' ', ""));
        assert!(
            (word.split(' ').chain([count.to_string().as_str()]))
                .any(|n| request.contains(&format!("the {n} "))
                    || unspaced.contains(&format!("这{n}"))),
            "{request}: the count is not written"
        );
    }
    for lang in [Lang::En, Lang::Zh] {
        assert!(
            taught.iter().any(|c| c.demo.lang == lang),
            "no taught average in {lang:?}"
        );
    }
    scores_stay_held_out(&demos);
    let without = compose(&registry(), &plan(300), 53).await.unwrap();
    for c in of_family(&without, "compose.story.average") {
        assert_eq!(c.demo.split, Split::HeldOut, "{}", c.demo.request());
        assert!(
            c.marks.iter().any(|m| m == "schema:average"),
            "{:?}",
            c.marks
        );
    }
}

/// Averages told in other frames (`average_frames`): a list of numbers with its count,
/// measures of things, what several people have. Each sums every number it tells and
/// divides by the count it writes, in both languages; the scores stay held out.
#[tokio::test]
async fn averages_in_other_frames_divide_by_the_count_they_write() {
    let with = Plan {
        averages: 1.0,
        average_frames: 1.0,
        held_out_share: 0.3,
        ..plan(300)
    };
    let demos = compose(&registry(), &with, 59).await.unwrap();
    let averages = of_family(&demos, "compose.story.average");
    let taught: Vec<_> = (averages.iter())
        .filter(|c| c.demo.split == Split::Train)
        .collect();
    // One telling each: a list, measures (by their units), people.
    for (lang, tellings) in [
        (
            Lang::En,
            [
                &["numbers"][..],
                &[" kg", " cm", " m ", " m.", " minutes"],
                &["friends", "of them"],
            ],
        ),
        (
            Lang::Zh,
            [&["个数"][..], &["千克", "厘米", "米"], &["每人"]],
        ),
    ] {
        for words in tellings {
            assert!(
                words.iter().any(|w| told(&averages, lang, w)),
                "no {lang:?} average says {words:?}"
            );
        }
    }
    for c in &taught {
        a_mean(c);
        calls_are_grounded(c);
    }
    assert!(
        taught.iter().any(|c| c.demo.lang == Lang::En
            && !c.demo.request().contains(" numbers")
            && c.demo.request().contains("average of")),
        "no average of an unwritten count"
    );
    scores_stay_held_out(&demos);
}

/// Contrast questions on the same lists, measures and people (`average_contrasts`):
/// asked their total, a demonstration sums every number the story tells and divides by
/// nothing; asked how many more one person has than another, it subtracts the smaller of
/// the two people's numbers from the larger. Both languages, every call grounded, the
/// scores still held out.
#[tokio::test]
async fn average_contrasts_ask_a_total_or_a_gap_of_the_same_story() {
    let with = Plan {
        averages: 1.0,
        average_frames: 1.0,
        average_contrasts: 0.5,
        held_out_share: 0.2,
        ..plan(300)
    };
    let demos = compose(&registry(), &with, 61).await.unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for c in of_family(&demos, "compose.story.average") {
        if c.demo.split != Split::Train {
            continue;
        }
        calls_are_grounded(c);
        let (request, calls) = (c.demo.request(), calls(c));
        let answer = c.demo.expect.answer.clone().expect("an answer");
        let kind = if calls.last().is_some_and(|call| call.contains(" / ")) {
            a_mean(c);
            "mean"
        } else if calls.len() == 1 && calls[0].contains(" - ") {
            let gap = &calls[0];
            let (a, b) = gap.split_once(" - ").unwrap();
            let (a, b): (i128, i128) = (a.parse().unwrap(), b.parse().unwrap());
            assert!(a > b, "{request}: {gap}");
            assert_eq!(answer, (a - b).to_string(), "{request}");
            assert!(
                request.contains("How many more") || request.contains("多多少"),
                "{request}"
            );
            "gap"
        } else {
            // A total: one running sum, nothing divided, the answer its last result.
            let mut sum: Option<i128> = None;
            for call in &calls {
                let (a, b) = call.split_once(" + ").expect("a total adds");
                let a: i128 = a.parse().unwrap();
                assert!(sum.is_none_or(|s| s == a), "{request}: {calls:?}");
                sum = Some(a + b.parse::<i128>().unwrap());
            }
            assert_eq!(Some(answer), sum.map(|s| s.to_string()), "{request}");
            assert!(!request.contains("average") && !request.contains("平均"));
            "total"
        };
        seen.insert((c.demo.lang == Lang::En, kind));
    }
    for lang in [true, false] {
        for kind in ["mean", "total", "gap"] {
            assert!(seen.contains(&(lang, kind)), "no {kind} in English={lang}");
        }
    }
    scores_stay_held_out(&demos);
}

/// Every number a demonstration's calls use is one its request grounds: written, named in
/// words, a mean's count (unwritten half of the time), or an earlier result.
fn calls_are_grounded(c: &miracle_requests::Composed) {
    let request = c.demo.request();
    let mut grounded = [numbers_in(request), implied_numbers(request)].concat();
    for step in &c.demo.dialogue.exchanges[0].steps {
        match step {
            Step::Call { input, .. } => {
                for n in numbers_in(input) {
                    assert!(grounded.contains(&n), "{request}: {input} uses {n}");
                }
            }
            Step::Result { text } => grounded.extend(numbers_in(text)),
            _ => {}
        }
    }
}

/// Checks that a taught average sums every number it tells, divides the sum by their
/// count and answers the mean; returns the numbers.
fn a_mean(c: &miracle_requests::Composed) -> Vec<i128> {
    let request = c.demo.request();
    let calls = calls(c);
    let (last, sums) = calls.split_last().expect("a call");
    let (total, count) = last
        .split_once(" / ")
        .expect("the sum divided by the count");
    let mut values: Vec<i128> = Vec::new();
    for (i, call) in sums.iter().enumerate() {
        let (a, b) = call.split_once(" + ").expect("a sum");
        if i == 0 {
            values.push(a.parse().unwrap());
        }
        values.push(b.parse().unwrap());
    }
    let sum: i128 = values.iter().sum();
    assert_eq!(total, sum.to_string(), "{request}: {calls:?}");
    assert_eq!(count, values.len().to_string(), "{request}: {calls:?}");
    let mean = sum / values.len() as i128;
    assert_eq!(mean * values.len() as i128, sum, "{request}");
    assert_eq!(
        c.demo.expect.answer.as_deref(),
        Some(mean.to_string().as_str())
    );
    values
}

/// No training request tells an average as test scores or holds any held-out form; a
/// held-out one that does is marked for its frame, not its schema.
fn scores_stay_held_out(demos: &[miracle_requests::Composed]) {
    let forms = held_forms();
    for c in demos {
        let scores = (lexicon::held_average(c.demo.lang).iter())
            .any(|f| contains_form(c.demo.request(), f, c.demo.lang));
        if c.demo.split == Split::Train {
            assert!(!scores, "{}", c.demo.request());
            for (lang, form) in &forms {
                assert!(!contains_form(c.demo.request(), form, *lang), "{form}");
            }
        } else if scores {
            assert!(
                c.marks.iter().any(|m| m == "frame:average score"),
                "{:?}",
                c.marks
            );
            assert!(
                !c.marks.iter().any(|m| m == "schema:average"),
                "{:?}",
                c.marks
            );
        }
    }
}

fn of_family<'d>(
    demos: &'d [miracle_requests::Composed],
    family: &str,
) -> Vec<&'d miracle_requests::Composed> {
    demos.iter().filter(|c| c.demo.family == family).collect()
}

/// Whether a request of `lang` among `demos` says `word`.
fn told(demos: &[&miracle_requests::Composed], lang: Lang, word: &str) -> bool {
    demos
        .iter()
        .any(|c| c.demo.lang == lang && c.demo.request().contains(word))
}

/// The calls of a demonstration's first turn, by their input.
fn calls(c: &miracle_requests::Composed) -> Vec<String> {
    demo_calls(&c.demo)
}

/// The inputs of `demo`'s calls in its first exchange, in order.
fn demo_calls(demo: &miracle_router::demos::Demo) -> Vec<String> {
    (demo.dialogue.exchanges[0].steps.iter())
        .filter_map(|s| match s {
            Step::Call { input, .. } => Some(input.clone()),
            _ => None,
        })
        .collect()
}
