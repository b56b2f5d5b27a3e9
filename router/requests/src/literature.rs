//! Literature needs: a topic from a shipped collection (a paper's title or opening claim in
//! English, its keywords in Chinese), asked for the way patrons ask: often after a
//! sentence about why they need it. The search is the topic alone, whatever frames it.

use miracle_router::demos::{Lang, Topic, Topics};

use crate::choose::{self, Chooser, Pool};

const EN_PURPOSES: Pool<&str> = Pool {
    name: "purpose",
    train: &[
        "I'm writing a literature review for my thesis.",
        "My professor asked me to look into this.",
        "I'm preparing a talk for our journal club.",
        "We are updating a reading list at the library.",
        "I have an essay due next week.",
    ],
    held: &["A patron at the desk asked me this."],
};
const ZH_PURPOSES: Pool<&str> = Pool {
    name: "purpose",
    train: &[
        "我在写毕业论文。",
        "导师让我调研一下。",
        "我们在准备组会报告。",
    ],
    held: &["有位读者来咨询。"],
};
const EN_ASKS: Pool<&str> = Pool {
    name: "frame",
    train: &[
        "Find papers on {x}",
        "Are there studies about {x}?",
        "What research exists on {x}?",
        "I need references about {x}.",
        "Could you look up articles on {x}?",
        "Any papers about {x}?",
        "Search the literature for {x}.",
    ],
    held: &["Point me to work on {x}."],
};
const ZH_ASKS: Pool<&str> = Pool {
    name: "frame",
    train: &[
        "查找关于{x}的论文",
        "有没有{x}方面的研究？",
        "帮我找{x}相关的文献。",
        "请推荐几篇关于{x}的论文。",
        "搜一下{x}的文章",
    ],
    held: &["检索一下{x}的相关成果。"],
};

/// What is searched for, as the request writes it: the topic without its final full stop
/// (a frame ends the sentence).
pub fn query(topic: &Topic) -> &str {
    topic.text().trim_end_matches('.')
}

/// The request for the topic `query`, in `lang`.
pub fn tell(ch: &mut Chooser, query: &str, lang: Lang) -> String {
    ch.feature("schema:literature");
    let (purposes, asks) = match lang {
        Lang::En => (&EN_PURPOSES, &EN_ASKS),
        Lang::Zh => (&ZH_PURPOSES, &ZH_ASKS),
    };
    let ask = ch.from(asks).replace("{x}", query);
    if !ch.chance(0.35) {
        return ask;
    }
    ch.feature("literature:purpose");
    let purpose = ch.from(purposes);
    match lang {
        Lang::En => format!("{purpose} {ask}"),
        Lang::Zh => format!("{purpose}{ask}"),
    }
}

/// A topic a training request may use: it holds no held-out form (titles are free text).
pub fn draw<'t>(ch: &mut Chooser, topics: &'t Topics, lang: Lang) -> &'t Topic {
    let held = crate::lexicon::held_forms(lang);
    loop {
        let topic = ch.pick(topics.all());
        if ch.split() == miracle_router::demos::Split::HeldOut
            || !held
                .iter()
                .any(|form| crate::contains_form(topic.text(), form, lang))
        {
            return topic;
        }
    }
}

pub fn held_forms(lang: Lang) -> Vec<&'static str> {
    match lang {
        Lang::En => choose::held_forms(&[&EN_PURPOSES, &EN_ASKS]),
        Lang::Zh => choose::held_forms(&[&ZH_PURPOSES, &ZH_ASKS]),
    }
}
