//! Answers that show papers, not ids. The model cites the papers its search returned by id
//! (`[4983]`), which a patron cannot read; the loop adds each cited paper's citation as the
//! search gave it (GB/T 7714 for Chinese records, APA for English ones), in the order the
//! answer cites them. The model's own words stay as they were, in the conversation too:
//! only what the user is shown gains the list.

use crate::agent::TracedStep;
use crate::demos::LITERATURE;
use crate::judge::answer_citations;
use crate::protocol::Step;
use miracle_corpora::Paper;
use miracle_experts::search::support::supporting_sentence;
use miracle_experts::search::{Markup, Style};

/// `answer` followed by one line per paper it cites that a literature result of `steps`
/// holds: `[id] citation`. With `abstracts`, each is followed by the sentence of its
/// abstract that supports `request`, quoted exactly; a paper whose abstract has none is
/// not listed, and a line says so. An answer that cites none is returned as it is.
pub fn with_citations(
    answer: &str,
    steps: &[TracedStep],
    request: &str,
    abstracts: Option<AbstractOf<'_>>,
) -> String {
    let found = citations(steps);
    let mut cited: Vec<&(String, String)> = Vec::new();
    for id in answer_citations(answer) {
        if let Some(paper) = found.iter().find(|(found, _)| *found == id)
            && !cited.contains(&paper)
        {
            cited.push(paper);
        }
    }
    if cited.is_empty() {
        return answer.to_string();
    }
    let chinese = request.chars().any(miracle_corpora::is_han);
    let mut shown = answer.trim_end().to_string();
    let (total, mut refused) = (cited.len(), 0);
    for (id, citation) in cited {
        let text = abstracts.and_then(|of| of(id));
        match text.as_deref().map(|t| supporting_sentence(t, request)) {
            // Its abstract is not to hand: the citation alone.
            None => shown.push_str(&format!("\n[{id}] {citation}")),
            Some(Some(sentence)) => {
                shown.push_str(&format!("\n[{id}] {citation}\n{QUOTE}{sentence}”"));
            }
            Some(None) => {
                refused += 1;
                shown.push_str(&if chinese {
                    format!("\n[{id}] 未列出：其摘要中没有支持这一请求的句子。")
                } else {
                    format!(
                        "\n[{id}] is not listed: no sentence of its abstract supports the request."
                    )
                });
            }
        }
    }
    if refused == total {
        shown.push_str(if chinese {
            "\n[-] 检索到的论文都不支持这一请求：可以换个说法再试。"
        } else {
            "\n[-] None of the papers found supports the request: try other words."
        });
    }
    shown
}

/// A paper's abstract by its id, where one can be read.
pub type AbstractOf<'a> = &'a dyn Fn(&str) -> Option<String>;

/// `shown` (an answer with its citation lines) with each APA citation's italics written
/// in `markup`: a line `[id] citation` whose citation is the plain APA form of the record
/// `paper_of(id)` finds is written again marked. GB/T 7714 sets nothing in italics, and
/// a line whose record is not to hand stays plain.
pub fn marked(shown: &str, markup: Markup, paper_of: &dyn Fn(&str) -> Option<Paper>) -> String {
    if markup == Markup::Plain {
        return shown.to_string();
    }
    let line = |line: &str| -> Option<String> {
        let (id, citation) = line.strip_prefix('[')?.split_once("] ")?;
        let paper = paper_of(id)?;
        (Style::Apa.cite(&paper) == citation)
            .then(|| format!("[{id}] {}", Style::Apa.cite_marked(&paper, markup)))
    };
    shown
        .split('\n')
        .map(|l| line(l).unwrap_or_else(|| l.to_string()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// How the line opens that says no cited paper supports the request.
const NONE_SUPPORTS: &str = "[-] ";

/// How a supporting sentence opens its line.
const QUOTE: &str = "    “";

/// An answer as the model wrote it: `answer` without the citation lines that
/// [`with_citations`] added. A client that sends an answer back as history (`/v1/ask`,
/// the OpenAI endpoint) gives the model its own words, not a list it never learned to
/// read.
pub fn as_written(answer: &str) -> String {
    let lines: Vec<&str> = answer.lines().collect();
    let mut keep = lines.len();
    // A line `[id] …` is one of ours when the text above it cites that id; a quote line
    // is ours when it follows one of them.
    while keep > 1 {
        let line = lines[keep - 1];
        let ours = line.starts_with(QUOTE)
            || line.starts_with(NONE_SUPPORTS)
            || cited_line(line)
                .is_some_and(|id| answer_citations(&lines[..keep - 1].join("\n")).contains(&id));
        if !ours {
            break;
        }
        keep -= 1;
    }
    if keep == lines.len() {
        answer.to_string()
    } else {
        lines[..keep].join("\n")
    }
}

/// The id of a line `[id] citation`, as [`with_citations`] writes it.
fn cited_line(line: &str) -> Option<String> {
    let (id, citation) = line.strip_prefix('[')?.split_once("] ")?;
    (!id.is_empty() && !id.contains(char::is_whitespace) && !citation.trim().is_empty())
        .then(|| id.to_string())
}

/// The model's literature result and the whole request's, fused by reciprocal rank
/// (k = 60, as Cormack et al.): a paper high in either ranking comes first, one in both
/// higher still; on a tie the whole request's paper leads, so the top three are the two
/// rankings' first papers and the request's second, when the rankings differ. As many
/// papers as the model's result lists, numbered again; a result without papers gives way
/// to the other.
pub fn fuse(model_query: &str, whole_request: &str) -> String {
    let query: Vec<(String, String)> = model_query.lines().filter_map(result_line).collect();
    let whole: Vec<(String, String)> = whole_request.lines().filter_map(result_line).collect();
    if query.is_empty() || whole.is_empty() {
        return if query.is_empty() && !whole.is_empty() {
            whole_request.to_string()
        } else {
            model_query.to_string()
        };
    }
    // (score, the order ties keep: rank, the whole request's first, paper).
    type Scored<'p> = (f64, (usize, usize), &'p (String, String));
    let mut scored: Vec<Scored> = Vec::new();
    for (list, which) in [(&whole, 0), (&query, 1)] {
        for (rank, paper) in list.iter().enumerate() {
            let gain = 1.0 / (60.0 + rank as f64 + 1.0);
            match scored.iter_mut().find(|(_, _, p)| p.0 == paper.0) {
                Some(entry) => entry.0 += gain,
                None => scored.push((gain, (rank, which), paper)),
            }
        }
    }
    scored.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    scored
        .iter()
        .take(query.len())
        .enumerate()
        .map(|(i, (_, _, (id, citation)))| format!("{}. [{id}] {citation}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether the model's search `query` was taken from the framing of `request`: one
/// sentence of the request asks for papers in so many words ([`crate::intent`]) and the
/// query lies in another sentence, which asks for nothing ("有位读者来咨询。搜一下吸附的文章。"
/// searched as "有位读者来咨询"). Such a query finds papers about the framing; the whole
/// request's ranking is shown alone.
pub fn from_framing(query: &str, request: &str) -> bool {
    const ENDS: &[char] = &['。', '！', '？', '；', '.', '!', '?', ';'];
    let query = query.trim().trim_end_matches(ENDS).trim();
    if query.is_empty() {
        return false;
    }
    let sentences: Vec<(&str, bool)> = request
        .split(ENDS)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| (s, crate::intent::asks_for_papers(s)))
        .collect();
    let holds = |asks: bool| (sentences.iter()).any(|&(s, a)| a == asks && s.contains(query));
    sentences.iter().any(|&(_, asks)| asks) && holds(false) && !holds(true)
}

/// Each paper the literature calls of `steps` returned, with its citation: the result's
/// lines `N. [id] citation`, from calls that did not fail.
fn citations(steps: &[TracedStep]) -> Vec<(String, String)> {
    let mut papers = Vec::new();
    let mut searching = false;
    for traced in steps {
        match &traced.step {
            Step::Call { expert, .. } => searching = expert == LITERATURE,
            Step::Result { text } if searching && traced.error.is_none() => {
                papers.extend(text.lines().filter_map(result_line));
            }
            _ => {}
        }
    }
    papers
}

/// `3. [dev-12] 王丽华. 标题[J]. 期刊, 2020.` as (`dev-12`, `王丽华. 标题[J]. 期刊, 2020.`).
fn result_line(line: &str) -> Option<(String, String)> {
    let (rank, rest) = line.trim().split_once(". [")?;
    rank.parse::<usize>().ok()?;
    let (id, citation) = rest.split_once(']')?;
    let citation = citation.trim();
    (!id.is_empty() && !citation.is_empty()).then(|| (id.to_string(), citation.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_steps::call;

    fn search(result: &str, error: Option<&str>) -> Vec<TracedStep> {
        call(LITERATURE, result, error)
    }

    #[test]
    fn cited_papers_are_shown_with_their_citations_in_the_answers_order() {
        let steps = search(
            "1. [test-81] 李明. 阅读疗法研究[J]. 图书馆, 2019.\n2. [dev-138] 王丽华. 书目疗法[J]. 图书情报, 2020.\n3. [dev-9] 未引用[J].",
            None,
        );
        assert_eq!(
            with_citations("最相关的论文：[dev-138]、[test-81]。", &steps, "", None),
            "最相关的论文：[dev-138]、[test-81]。\n[dev-138] 王丽华. 书目疗法[J]. 图书情报, 2020.\n[test-81] 李明. 阅读疗法研究[J]. 图书馆, 2019."
        );
    }

    #[test]
    fn answers_without_found_papers_are_left_alone() {
        let steps = search("1. [4983] A paper. (1998).", None);
        assert_eq!(
            with_citations("The answer is 42.", &steps, "", None),
            "The answer is 42."
        );
        assert_eq!(
            with_citations("See [77].", &steps, "", None),
            "See [77].",
            "a paper no search returned is not dressed up"
        );
        let failed = search("1. [4983] A paper. (1998).", Some("timeout"));
        assert_eq!(
            with_citations("See [4983].", &failed, "", None),
            "See [4983]."
        );
        let calculator = call("calculator", "1. [2] x", None);
        assert_eq!(with_citations("[2]", &calculator, "", None), "[2]");
    }

    #[test]
    fn the_added_lines_come_off_again_for_the_model() {
        let steps = search("1. [4983] A paper. (1998).\n2. [77] Another. (2001).", None);
        for written in [
            "The most relevant papers: [4983], [77].",
            "Two papers:\n[4983] and [77] both.",
            "The answer is 42.",
        ] {
            assert_eq!(
                as_written(&with_citations(written, &steps, "", None)),
                written
            );
        }
        assert_eq!(as_written("[4983] only a list"), "[4983] only a list");
    }

    #[test]
    fn fusion_puts_papers_of_both_rankings_first_and_loses_none_of_the_firsts() {
        let query = "1. [a] A.\n2. [b] B.\n3. [c] C.";
        let whole = "1. [x] X.\n2. [b] B.\n3. [y] Y.";
        // b is in both: first. Then the firsts of each, the whole request's leading.
        assert_eq!(fuse(query, whole), "1. [b] B.\n2. [x] X.\n3. [a] A.");
        let apart = "1. [x] X.\n2. [y] Y.\n3. [z] Z.";
        assert_eq!(fuse(query, apart), "1. [x] X.\n2. [a] A.\n3. [y] Y.");
        // A search that found nothing gives way to the other.
        assert_eq!(fuse("No papers found for \"q\".", whole), whole);
        assert_eq!(fuse(query, "No papers found."), query);
        assert_eq!(fuse(query, query), query, "the same ranking stays as it is");
    }

    #[test]
    fn a_query_from_a_sentence_that_asks_for_nothing_is_framing() {
        let request = "有位读者来咨询。搜一下吸附的相关文章。";
        assert!(from_framing("有位读者来咨询", request));
        assert!(
            !from_framing("吸附", request),
            "the asking sentence's topic"
        );
        assert!(
            !from_framing("有位读者来咨询。搜一下吸附", request),
            "across both"
        );
        let en = "I'm writing a review for my thesis. Find papers on coral bleaching.";
        assert!(from_framing("I'm writing a review for my thesis.", en));
        assert!(!from_framing("coral bleaching", en));
        // No sentence asks in so many words: the model's choice stands.
        let plain = "A patron asked me this. Point me to work on coral bleaching.";
        assert!(!from_framing("A patron asked me this", plain));
        assert!(!from_framing("", request));
    }

    #[test]
    fn each_paper_shows_the_sentence_that_supports_the_request_or_is_not_listed() {
        let steps = search("1. [4983] Hüppi (1998).\n2. [77] Another (2001).", None);
        let abstracts = |id: &str| -> Option<String> {
            match id {
                "4983" => Some("We imaged newborns. Diffusion tensor imaging showed white matter development in preterm infants.".into()),
                "77" => Some("Soil samples were dried.".into()),
                _ => None,
            }
        };
        let shown = with_citations(
            "Papers: [4983], [77].",
            &steps,
            "white matter development in preterm infants",
            Some(&abstracts),
        );
        assert_eq!(
            shown,
            "Papers: [4983], [77].\n[4983] Hüppi (1998).\n    “Diffusion tensor imaging showed white matter development in preterm infants.”\n[77] is not listed: no sentence of its abstract supports the request."
        );
        let refused = with_citations("Papers: [77].", &steps, "white matter", Some(&abstracts));
        assert_eq!(
            refused,
            "Papers: [77].\n[77] is not listed: no sentence of its abstract supports the request.\n[-] None of the papers found supports the request: try other words."
        );
        assert_eq!(as_written(&refused), "Papers: [77].");
        let quoted = shown.lines().nth(2).unwrap();
        let sentence = quoted.trim_start_matches(QUOTE).trim_end_matches('”');
        assert!(
            abstracts("4983").unwrap().contains(sentence),
            "an exact quote"
        );
        assert_eq!(as_written(&shown), "Papers: [4983], [77].");
    }

    #[test]
    fn a_paper_cited_twice_is_listed_once() {
        let steps = search(
            "1. [4983] Hüppi, P. S. (1998). Microstructural development.",
            None,
        );
        assert_eq!(
            with_citations("[4983], and again [4983].", &steps, "", None),
            "[4983], and again [4983].\n[4983] Hüppi, P. S. (1998). Microstructural development."
        );
    }

    #[test]
    fn apa_citations_take_the_markup_asked_for_and_others_stay() {
        let paper = Paper {
            id: "p1".into(),
            title: "Attention is all you need".into(),
            authors: vec!["Vaswani, Ashish".into()],
            abstract_text: String::new(),
            keywords: vec![],
            year: Some(2017),
            venue: Some("Neural Computation".into()),
            doi: None,
            lang: miracle_corpora::Lang::En,
            extra: [("TY".to_string(), "JOUR".into())].into_iter().collect(),
        };
        let plain = Style::Apa.cite(&paper);
        let shown = format!("See [p1].\n[p1] {plain}\n[p2] Other, A. (2001). Unknown.");
        let of = |id: &str| (id == "p1").then(|| paper.clone());
        let md = marked(&shown, Markup::Markdown, &of);
        assert!(md.contains("*Neural Computation*"), "{md}");
        assert!(md.ends_with("[p2] Other, A. (2001). Unknown."), "{md}");
        assert!(marked(&shown, Markup::Html, &of).contains("<i>Neural Computation</i>"));
        assert_eq!(marked(&shown, Markup::Plain, &of), shown);
        // A GB/T line is not APA's plain form: it stays as it is.
        let gbt = format!("[p1] {}", Style::Gbt.cite(&paper));
        assert_eq!(marked(&gbt, Markup::Markdown, &of), gbt);
    }
}
