//! The sentence of an abstract that supports what a patron asked: the one that shares the
//! most of the request's terms (as the index analyses them: stemmed English, segmented
//! Chinese, stop words out), quoted exactly as the abstract has it. None when no sentence
//! shares enough of them; a paper with none is not cited for the request.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex};

use super::{LiteratureIndex, analyzer, default_index};

/// The sentences of `text`, each a slice of it ending with its punctuation.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(at, c)) in chars.iter().enumerate() {
        let ends = match c {
            '。' | '！' | '？' | '；' => true,
            // CSL's abstracts end Chinese sentences with "." too: a full stop before a Han
            // character ends one, as before a space; inside a number it does not.
            '.' | '!' | '?' => chars
                .get(i + 1)
                .is_none_or(|&(_, n)| n.is_whitespace() || miracle_corpora::is_han(n)),
            _ => false,
        };
        if ends {
            let end = at + c.len_utf8();
            out.push(text[start..end].trim());
            start = end;
        }
    }
    out.push(text[start..].trim());
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

/// The sentence of `abstract_text` that shares the most terms with `request`: at least two,
/// or the one term a one-term request has. An exact slice of `abstract_text`.
pub fn supporting_sentence<'a>(abstract_text: &'a str, request: &str) -> Option<&'a str> {
    static FRAMING_TERMS: LazyLock<HashSet<String>> =
        LazyLock::new(|| analyzer::terms(FRAMING).into_iter().collect());
    let wanted: HashSet<String> = analyzer::terms(request)
        .into_iter()
        .filter(|t| !FRAMING_TERMS.contains(t))
        .collect();
    let needed = wanted.len().clamp(1, 2);
    sentences(abstract_text)
        .into_iter()
        .map(|sentence| {
            let own: HashSet<String> = analyzer::terms(sentence).into_iter().collect();
            (own.intersection(&wanted).count(), sentence)
        })
        .filter(|(shared, _)| *shared >= needed)
        // The first of the best: max_by_key would keep the last.
        .fold(
            None,
            |best: Option<(usize, &str)>, (shared, sentence)| match best {
                Some((top, _)) if top >= shared => best,
                _ => Some((shared, sentence)),
            },
        )
        .map(|(_, sentence)| sentence)
}

/// Words that frame a literature request rather than say what it is about: sharing them
/// supports nothing.
const FRAMING: &str = "find papers paper studies study research articles article literature \
    look looking need want please work works publications evidence anything any show me \
    查 找 帮 帮我 检索 论文 文献 研究 有没有 关于 有关 方面 资料 一下 请";

/// Whether `text` names something to search for: a term that neither frames a literature
/// request ("find papers") nor refers back to an earlier one ("now", "what about", "那…呢").
/// "Now about vitamin D." does; "And papers on that?" does not.
pub fn names_a_topic(text: &str) -> bool {
    static NOT_TOPICAL: LazyLock<HashSet<String>> = LazyLock::new(|| {
        analyzer::terms(&format!("{FRAMING} {REFERRING}"))
            .into_iter()
            .collect()
    });
    analyzer::terms(text)
        .iter()
        .any(|t| !NOT_TOPICAL.contains(t))
}

/// Words of a follow-up that point back at an earlier request rather than name a topic.
const REFERRING: &str = "now what how about also same again more else other ones those them \
    too instead same thing topic subject 那 那么 这 这个 那个 再 呢 还有 还 同样 其他 别的 这些 那些 它 它们 \
    什么 怎么 样 方面的";

/// Abstracts by paper id from the default index ([`default_index::open`], so
/// `MIRACLE_INDEX` too), opened on first use and kept; `None` when it cannot be opened or
/// holds no such paper.
#[derive(Default, Clone)]
pub struct Abstracts {
    index: Arc<Mutex<Option<Option<Arc<LiteratureIndex>>>>>,
}

impl Abstracts {
    pub fn of(&self, id: &str) -> Option<String> {
        let paper = self.paper(id)?;
        Some(paper.abstract_text).filter(|a| !a.trim().is_empty())
    }

    /// The whole record of paper `id`.
    pub fn paper(&self, id: &str) -> Option<miracle_corpora::Paper> {
        let index = {
            let mut slot = self.index.lock().unwrap_or_else(|p| p.into_inner());
            slot.get_or_insert_with(|| default_index::open().ok().map(Arc::new))
                .clone()?
        };
        index.by_id(id).ok()?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follow_up_names_a_topic_or_points_back() {
        for topical in [
            "Now about vitamin D and depression.",
            "What about graphene batteries?",
            "那阅读疗法方面的呢？",
            "Find papers about sleep.",
        ] {
            assert!(names_a_topic(topical), "{topical}");
        }
        for pointing in [
            "And papers on that?",
            "What about those?",
            "那方面的论文呢？",
            "Find more.",
        ] {
            assert!(!names_a_topic(pointing), "{pointing}");
        }
    }

    #[test]
    fn the_sentence_sharing_most_terms_is_quoted_exactly() {
        let text = "Depression is common in late life. Low vitamin D levels were associated \
                    with depression in older adults. Serum was measured twice.";
        let found = supporting_sentence(text, "vitamin D and depression in the elderly").unwrap();
        assert_eq!(
            found,
            "Low vitamin D levels were associated with depression in older adults."
        );
        assert!(text.contains(found));
        assert_eq!(supporting_sentence(text, "graphene batteries"), None);
        // Framing words support nothing: "studies" and "depression" alone are one term.
        assert_eq!(
            supporting_sentence(
                "Studies of depression were reviewed.",
                "any studies on statins and depression"
            ),
            None
        );
    }

    #[test]
    fn chinese_sentences_are_split_and_matched() {
        let text = "本文研究阅读疗法。阅读疗法能够缓解大学生的焦虑情绪；样本来自三所高校。";
        assert_eq!(
            supporting_sentence(text, "阅读疗法对焦虑的作用"),
            Some("阅读疗法能够缓解大学生的焦虑情绪；")
        );
    }

    #[test]
    fn sentences_end_at_their_punctuation_not_inside_numbers() {
        assert_eq!(
            sentences("It rose 2.5 times. Then fell! 然后。中文句子.下一句"),
            [
                "It rose 2.5 times.",
                "Then fell!",
                "然后。",
                "中文句子.",
                "下一句"
            ]
        );
    }
}
