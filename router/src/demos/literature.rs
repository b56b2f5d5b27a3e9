//! Literature requests over the shipped corpora: the topic of a paper (an English title or
//! opening sentence from SciFact's abstracts, Chinese keywords from CSL) asked for in many
//! phrasings. The model copies the topic into a literature search and answers with the ids
//! the search returned. SciFact's claims (the queries behind the evaluation suites) are
//! never used here.

use miracle_corpora::{Collection, Paper};
use miracle_experts::Registry;

use super::{
    DemoError, Draw, Expect, LITERATURE, Lang, Made, Script, Templates, fill, template_for,
};

pub(crate) const FAMILY: &str = "literature.topic";

pub(crate) const TEMPLATES: Templates = Templates {
    en: &[
        "Find papers on {x}",
        "Search the literature for {x}",
        "Are there studies about {x}?",
        "I need references on {x}.",
        "Look for research about {x}",
        "Which papers discuss {x}?",
        "Find me articles on the topic: {x}",
        "[Can you|Could you|Please] find [papers|articles|studies] [on|about] {x}[?|.]",
        "What does the literature say about {x}?",
        "[Give me|List] [some|a few] references [on|for] {x}[.|, please.]",
        "I am [looking for|researching] {x}. [Which papers should I read?|Any papers?]",
        "Show me publications related to {x}",
    ],
    zh: &[
        "查找关于{x}的论文",
        "搜索{x}方面的文献",
        "有哪些研究{x}的文章？",
        "帮我找一些关于{x}的研究。",
        "我想了解{x}方面的研究文献。",
        "[请|麻烦|]帮我[查|找|搜]一下{x}[相关的|方面的]论文。",
        "[请|]推荐[几篇|一些]关于{x}的[文献|论文]。",
        "{x}[有|有没有]哪些[相关|]研究？",
        "[请|]列出{x}[方面|领域]的[代表性|]文献。",
        "请检索与{x}有关的论文。",
    ],
};

/// A paper's id and a topic drawn from it.
pub struct Topic {
    id: String,
    text: String,
}

impl Topic {
    /// The paper the topic was drawn from.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// The topics of one language's shipped collection.
pub struct Topics(Vec<Topic>);

impl Topics {
    /// Every topic, in collection order.
    pub fn all(&self) -> &[Topic] {
        &self.0
    }

    pub fn shipped(lang: Lang) -> Result<Topics, DemoError> {
        let collection = match lang {
            Lang::En => Collection::Scifact,
            Lang::Zh => Collection::Csl,
        };
        let papers = collection
            .papers()
            .map_err(|e| DemoError::Corpus(e.to_string()))?;
        let topics: Vec<Topic> = papers.iter().flat_map(|p| topics_of(p, lang)).collect();
        if topics.is_empty() {
            return Err(DemoError::Corpus(format!(
                "the shipped {} collection has no titles or keywords",
                collection.name()
            )));
        }
        Ok(Topics(topics))
    }
}

/// English: the title and the abstract's first sentence (when short enough to be asked
/// for); Chinese: each keyword, and pairs of them.
fn topics_of(paper: &Paper, lang: Lang) -> Vec<Topic> {
    let topic = |text: String| Topic {
        id: paper.id.clone(),
        text,
    };
    match lang {
        Lang::En => {
            let mut out = Vec::new();
            let title = paper.title.trim().trim_end_matches('.');
            if (3..=30).contains(&title.split_whitespace().count()) {
                out.push(topic(title.to_string()));
            }
            let first = paper
                .abstract_text
                .split(". ")
                .next()
                .unwrap_or_default()
                .trim();
            if (6..=30).contains(&first.split_whitespace().count()) {
                out.push(topic(format!("{}.", first.trim_end_matches('.'))));
            }
            out
        }
        Lang::Zh => {
            let keywords: Vec<&str> = paper
                .keywords
                .iter()
                .map(|k| k.trim())
                .filter(|k| (2..=12).contains(&k.chars().count()))
                .collect();
            let mut out: Vec<Topic> = keywords.iter().map(|k| topic(k.to_string())).collect();
            if let [first, second, ..] = keywords.as_slice() {
                out.push(topic(format!("{first}和{second}")));
            }
            out
        }
    }
}

/// The ids a literature result cites, best first (`1. [id] …` lines).
pub fn cited_ids(result: &str) -> Vec<String> {
    result
        .lines()
        .filter_map(|line| {
            let (rank, rest) = line.split_once(". [")?;
            rank.trim().parse::<usize>().ok()?;
            Some(rest.split_once(']')?.0.to_string())
        })
        .collect()
}

pub(crate) async fn make(
    registry: &Registry,
    topics: &Topics,
    lang: Lang,
    i: usize,
    draw: &mut Draw,
) -> Result<Made, DemoError> {
    let (template, text, split) = template_for(FAMILY, &TEMPLATES, lang, i);
    let text = &draw.phrase(text, lang, split);
    let mut script = Script::new(registry, FAMILY);
    // A topic the search reads as (broken) advanced syntax — a title with `doi:` in it —
    // makes no demonstration: another is drawn.
    let mut attempt = 0;
    let (topic, result) = loop {
        let topic = draw.pick(&topics.0);
        match script.call(LITERATURE, &topic.text).await {
            Ok(result) => break (topic, result),
            Err(e) if attempt == 20 => return Err(e),
            Err(_) => attempt += 1,
        }
    };
    let answer = literature_answer(lang, &cited_ids(&result));
    Ok(Made {
        template,
        split,
        user: fill(text, &[("x", &topic.text)]),
        steps: script.answer(answer),
        expect: Expect {
            expert: Some(LITERATURE.into()),
            answer: None,
            docs: vec![topic.id.clone()],
            replies: Vec::new(),
        },
    })
}

/// The answer to a literature request: the ids the search cited, best first, or that
/// nothing was found.
pub fn literature_answer(lang: Lang, ids: &[String]) -> String {
    let cited = |separator: &str| {
        let ids: Vec<String> = ids.iter().map(|id| format!("[{id}]")).collect();
        ids.join(separator)
    };
    match (lang, ids.is_empty()) {
        (Lang::En, true) => "I found no papers on this.".to_string(),
        (Lang::Zh, true) => "没有找到相关论文。".to_string(),
        (Lang::En, false) => format!("The most relevant papers: {}.", cited(", ")),
        (Lang::Zh, false) => format!("最相关的论文：{}。", cited("、")),
    }
}
