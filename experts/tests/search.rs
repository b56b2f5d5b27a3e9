//! The literature search on a real tantivy index on disk: building, searching in both
//! languages, the advanced syntax, filters, snippets, replacement, commits, and bad input.

use std::path::Path;

use miracle_corpora::{Lang, Paper};
use miracle_experts::search::{
    Filters, LiteratureIndex, SearchError, SearchRequest, Style, default_index,
};
use miracle_experts::{Context, ExpertError, Kinds, Registry, Search};

fn paper(id: &str, title: &str, abstract_text: &str, year: i32, venue: &str, lang: Lang) -> Paper {
    Paper {
        id: id.into(),
        title: title.into(),
        authors: vec!["Ada Lovelace".into()],
        abstract_text: abstract_text.into(),
        keywords: vec![],
        year: Some(year),
        venue: Some(venue.into()),
        doi: None,
        lang,
        extra: Default::default(),
    }
}

fn papers() -> Vec<Paper> {
    vec![
        paper(
            "en-1",
            "Information retrieval with BM25",
            "Probabilistic ranking functions for retrieving scientific documents.",
            2009,
            "Journal of Documentation",
            Lang::En,
        ),
        paper(
            "en-2",
            "Neural networks for image recognition",
            "Deep convolutional networks classify images.",
            2015,
            "Neural Computation",
            Lang::En,
        ),
        paper(
            "en-3",
            "Library reference services online",
            "Virtual reference desks answer patrons' questions by chat.",
            2012,
            "Library Trends",
            Lang::En,
        ),
        paper(
            "zh-1",
            "高校图书馆参考咨询服务研究",
            "本文研究了高校图书馆的参考咨询服务模式与读者满意度。",
            2018,
            "中国图书馆学报",
            Lang::Zh,
        ),
        paper(
            "zh-2",
            "基于深度学习的中文信息检索方法",
            "提出一种基于深度学习的信息检索模型，提高了中文文献检索的准确率。",
            2020,
            "情报学报",
            Lang::Zh,
        ),
    ]
}

fn build(dir: &Path) -> LiteratureIndex {
    let index = LiteratureIndex::create_or_open(dir).unwrap();
    let mut writer = index.writer().unwrap();
    for p in papers() {
        writer.add(&p).unwrap();
    }
    assert_eq!(writer.commit().unwrap(), 5);
    index
}

fn ids(index: &LiteratureIndex, request: &SearchRequest) -> Vec<String> {
    index
        .search(request)
        .unwrap()
        .into_iter()
        .map(|h| h.paper.id)
        .collect()
}

fn first(index: &LiteratureIndex, query: &str) -> String {
    ids(index, &SearchRequest::new(query, 5))
        .into_iter()
        .next()
        .unwrap_or_default()
}

#[test]
fn natural_queries_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let index = build(dir.path());
    assert_eq!(index.len(), 5);
    assert_eq!(
        first(&index, "retrieving documents with probabilistic ranking"),
        "en-1"
    );
    assert_eq!(first(&index, "the recognition of images"), "en-2");
    // Unspaced Chinese: segmented into words, not one phrase that matches nothing.
    assert_eq!(first(&index, "图书馆参考咨询"), "zh-1");
    assert_eq!(first(&index, "深度学习中文检索"), "zh-2");
    // Mixed query.
    assert_eq!(first(&index, "BM25 检索 ranking"), "en-1");
}

#[test]
fn advanced_syntax_phrases_fields_and_year_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let index = build(dir.path());
    assert_eq!(
        ids(&index, &SearchRequest::new("title:networks", 5)),
        ["en-2"]
    );
    assert_eq!(
        ids(&index, &SearchRequest::new("\"reference desks\"", 5)),
        ["en-3"]
    );
    assert!(ids(&index, &SearchRequest::new("\"desks reference\"", 5)).is_empty());
    let mut found = ids(&index, &SearchRequest::new("year:[2010 TO 2018]", 10));
    found.sort();
    assert_eq!(found, ["en-2", "en-3", "zh-1"]);
    assert_eq!(
        ids(
            &index,
            &SearchRequest::new("title:检索 AND year:[2019 TO 2021]", 5)
        ),
        ["zh-2"]
    );
    assert_eq!(
        ids(&index, &SearchRequest::new("+library -chat", 5)),
        Vec::<String>::new()
    );
}

#[test]
fn filters_restrict_without_reranking() {
    let dir = tempfile::tempdir().unwrap();
    let index = build(dir.path());
    let mut request = SearchRequest::new("图书馆 library 检索 retrieval", 10);
    let all = ids(&index, &request);
    assert!(all.len() >= 4, "{all:?}");
    request.filters = Filters {
        lang: Some("ZH".into()),
        ..Filters::default()
    };
    let zh = ids(&index, &request);
    assert_eq!(
        zh,
        all.iter()
            .filter(|id| id.starts_with("zh"))
            .cloned()
            .collect::<Vec<_>>()
    );
    request.filters = Filters {
        years: (Some(2010), Some(2019)),
        ..Filters::default()
    };
    assert!(
        ids(&index, &request)
            .iter()
            .all(|id| id == "en-3" || id == "zh-1")
    );
    request.filters = Filters {
        venue: Some("library trends".into()),
        ..Filters::default()
    };
    assert_eq!(ids(&index, &request), ["en-3"]);
    request.filters = Filters {
        years: (Some(2020), Some(2010)),
        ..Filters::default()
    };
    assert!(matches!(index.search(&request), Err(SearchError::Query(_))));
}

#[test]
fn snippets_highlight_the_query_terms() {
    let dir = tempfile::tempdir().unwrap();
    let index = build(dir.path());
    let hits = index
        .search(&SearchRequest::new("probabilistic ranking", 1))
        .unwrap();
    let snippet = hits[0].snippet.as_deref().unwrap();
    assert!(
        snippet.contains("**Probabilistic**") && snippet.contains("**ranking**"),
        "{snippet}"
    );
    let hits = index.search(&SearchRequest::new("读者满意度", 1)).unwrap();
    assert!(
        hits[0]
            .snippet
            .as_deref()
            .unwrap()
            .contains("**读者满意度**"),
        "{:?}",
        hits[0].snippet
    );
}

#[test]
fn snippets_of_overlapping_chinese_words_do_not_break() {
    // Jieba's search mode yields 确定 and 定性 inside 不确定性; a fragment that started at a
    // sub-word once made the whole word's offset wrap around and the highlight panic.
    let dir = tempfile::tempdir().unwrap();
    let index = LiteratureIndex::create_or_open(dir.path()).unwrap();
    let mut writer = index.writer().unwrap();
    let filler = "本文讨论了城市交通规划中的若干问题。".repeat(12);
    for (id, text) in [
        (
            "u-1",
            format!("{filler}研究了不确定性的指标体系与动态变化。"),
        ),
        (
            "u-2",
            format!("不确定性分析。{filler}不确定性和确定性的动态变化指标体系。"),
        ),
    ] {
        let mut p = papers()[3].clone();
        p.id = id.into();
        p.abstract_text = text;
        writer.add(&p).unwrap();
    }
    writer.commit().unwrap();
    for query in ["不确定性", "指标体系", "动态变化", "确定性 指标体系"] {
        let hits = index.search(&SearchRequest::new(query, 2)).unwrap();
        assert_eq!(hits.len(), 2, "{query}");
        for hit in hits {
            let snippet = hit.snippet.unwrap();
            assert!(snippet.contains("**"), "{query}: {snippet}");
        }
    }
}

#[test]
fn re_adding_an_id_updates_the_same_work_only_and_uncommitted_work_is_invisible() {
    use miracle_experts::search::Added;
    let dir = tempfile::tempdir().unwrap();
    let index = build(dir.path());
    let mut writer = index.writer().unwrap();
    assert_eq!(writer.add(&papers()[0]).unwrap(), Added::Unchanged);
    let mut changed = papers()[0].clone();
    changed.title = "Okapi weighting revisited".into();
    assert_eq!(writer.add(&changed).unwrap(), Added::Updated);
    // Another work under a taken id (another title, authors and year) replaces nothing.
    let mut other = papers()[1].clone();
    other.id = papers()[2].id.clone();
    assert!(matches!(
        writer.add(&other).unwrap(),
        Added::Collision { .. }
    ));
    writer.commit().unwrap();
    assert_eq!(index.len(), 5);
    assert_eq!(first(&index, "okapi weighting"), "en-1");
    assert_eq!(
        index.by_id(&papers()[2].id).unwrap().unwrap().title,
        papers()[2].title
    );

    // An interrupted run: papers added, never committed.
    let mut writer = index.writer().unwrap();
    writer
        .add(&paper(
            "new",
            "Okapi",
            "never committed",
            2024,
            "X",
            Lang::En,
        ))
        .unwrap();
    drop(writer);
    let reopened = LiteratureIndex::open(dir.path()).unwrap();
    assert_eq!(reopened.len(), 5);
    assert_eq!(first(&reopened, "never committed"), "");
}

#[test]
fn bad_queries_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let index = build(dir.path());
    let error = |q: &str| match index.search(&SearchRequest::new(q, 5)) {
        Err(SearchError::Query(message)) => message,
        other => panic!("{q:?}: expected a query error, got {other:?}"),
    };
    assert!(error("").contains("empty"));
    assert!(error("   \n").contains("empty"));
    assert!(error("the of and to 的 了").contains("no searchable words"));
    assert!(error("title:(retrieval").contains("Advanced syntax"));
    assert!(error("year:[abc TO 2010]").contains("cannot read"));
    assert!(error(&"retrieval ".repeat(10_240)).contains("at most"));
    // Still serving afterwards.
    assert_eq!(first(&index, "retrieval"), "en-1");
}

#[test]
fn missing_damaged_and_foreign_indexes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here");
    let message = LiteratureIndex::open(&missing).err().unwrap().to_string();
    assert!(
        message.contains("no literature index") && message.contains("miracle index --out"),
        "{message}"
    );

    let damaged = dir.path().join("damaged");
    build(&damaged);
    std::fs::write(damaged.join("meta.json"), b"{ not json").unwrap();
    let message = LiteratureIndex::open(&damaged).err().unwrap().to_string();
    assert!(
        message.contains("damaged") && message.contains("rebuild"),
        "{message}"
    );

    let old = dir.path().join("old");
    build(&old);
    std::fs::write(old.join("miracle-index.json"), br#"{"schema_version": 0}"#).unwrap();
    let message = LiteratureIndex::open(&old).err().unwrap().to_string();
    assert!(message.contains("schema version 0"), "{message}");

    let truncated = dir.path().join("truncated");
    build(&truncated);
    for entry in std::fs::read_dir(&truncated).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "idx" || e == "term") {
            std::fs::write(&path, b"garbage").unwrap();
        }
    }
    let result = LiteratureIndex::open(&truncated)
        .and_then(|i| i.search(&SearchRequest::new("retrieval", 5)));
    let message = result
        .expect_err("a damaged segment is an error")
        .to_string();
    assert!(message.contains("damaged"), "{message}");
}

#[tokio::test]
async fn the_expert_answers_through_the_registry_with_citations() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let yaml = format!(
        "experts:\n  - kind: search\n    index: {:?}\n    top: 2\n",
        dir.path()
    );
    let registry = Registry::from_yaml(&yaml, &Kinds::builtin()).unwrap();
    let ctx = Context::default();
    let seen = registry
        .call("search", "高校图书馆参考咨询", &ctx)
        .await
        .unwrap();
    assert!(
        seen.text.starts_with(
            "1. [zh-1] LOVELACE A. 高校图书馆参考咨询服务研究[J]. 中国图书馆学报, 2018."
        ),
        "{}",
        seen.text
    );
    let seen = registry
        .call("search", "BM25 retrieval", &ctx)
        .await
        .unwrap();
    assert!(
        seen.text
            .starts_with("1. [en-1] Lovelace, A. (2009). Information retrieval with BM25."),
        "{}",
        seen.text
    );
    let err = registry.call("search", "the of", &ctx).await.unwrap_err();
    assert!(matches!(err, ExpertError::InvalidInput { .. }), "{err}");
    let err = registry
        .call("search", &"x".repeat(100 * 1024), &ctx)
        .await
        .unwrap_err();
    assert!(matches!(err, ExpertError::InvalidInput { .. }), "{err}");

    let gone = Registry::new().with(Search::new().with_index(dir.path().join("absent")));
    let err = gone.call("search", "retrieval", &ctx).await.unwrap_err();
    assert!(err.to_string().contains("miracle index --out"), "{err}");
}

#[test]
fn the_default_index_covers_the_shipped_corpora() {
    let dir = tempfile::tempdir().unwrap();
    // A build killed long ago left its folder; a build under way now has its own.
    let killed = dir.path().join(".shipped.building-999999");
    let running = dir.path().join(".shipped.building-999998");
    for folder in [&killed, &running] {
        std::fs::create_dir(folder).unwrap();
        std::fs::write(folder.join("meta.json"), "{}").unwrap();
    }
    let long_ago = std::time::SystemTime::now() - default_index::ABANDONED_AFTER * 2;
    std::fs::File::open(&killed)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    let index = default_index::open_in(&dir.path().join("shipped")).unwrap();
    assert!(!killed.exists(), "the killed build's folder stays behind");
    assert!(running.exists(), "a build under way lost its folder");
    assert!(index.len() > 7000, "{}", index.len());
    assert_eq!(
        first(
            &index,
            "Microstructural development of human newborn cerebral white matter"
        ),
        "4983"
    );
    assert_eq!(
        first(
            &index,
            "修正Rodrigues参数模型 平方和优化 大角度机动 Lyapunov函数"
        ),
        "dev-0"
    );
    // A second open reuses what was built.
    assert_eq!(
        default_index::open_in(&dir.path().join("shipped"))
            .unwrap()
            .len(),
        index.len()
    );
}

/// A library's export says what each record is; the citation's GB/T 7714 type code follows
/// it through the index (RIS `TY  - CONF` is a paper in proceedings, cited `[C]//`).
#[tokio::test]
async fn citations_keep_the_document_type_the_export_gave() {
    let ris = "TY  - CONF\nID  - c1\nTI  - Ranking papers for reference desks\nAU  - Lovelace, Ada\n\
               PY  - 2019\nT2  - Proceedings of the 42nd ACM SIGIR Conference\nER  - \n\
               TY  - THES\nID  - t1\nTI  - Reference desks and ranking in academic libraries\n\
               AU  - Lovelace, Ada\nPY  - 2020\nT2  - University of London\nER  - \n";
    let read =
        miracle_corpora::read_bytes(ris.as_bytes(), Path::new("export.ris"), &Default::default())
            .unwrap();
    assert_eq!(read.papers.len(), 2);
    let dir = tempfile::tempdir().unwrap();
    let index = LiteratureIndex::create_or_open(dir.path()).unwrap();
    let mut writer = index.writer().unwrap();
    for p in &read.papers {
        writer.add(p).unwrap();
    }
    writer.commit().unwrap();
    let registry = Registry::new().with(Search::new().with_index(dir.path()).style(Style::Gbt));
    let seen = registry
        .call("search", "ranking reference desks", &Context::default())
        .await
        .unwrap();
    for cited in [
        "LOVELACE A. Ranking papers for reference desks[C]//Proceedings of the 42nd ACM SIGIR Conference. 2019.",
        "LOVELACE A. Reference desks and ranking in academic libraries[D]. University of London, 2020.",
    ] {
        assert!(seen.text.contains(cited), "{cited:?} not in {}", seen.text);
    }
}
