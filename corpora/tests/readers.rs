//! The readers over real files: the shipped collections, exports in every format, and
//! hostile files (truncated, wrongly encoded, oversized, unbalanced, ragged, random bytes).

use std::io::Write;
use std::path::{Path, PathBuf};

use miracle_corpora::{
    Collection, Format, Lang, Paper, ReadError, ReadOptions, read_bytes, read_path,
};
use proptest::prelude::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read(name: &str) -> Vec<Paper> {
    read_path(&fixture(name), &ReadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .papers
}

fn lenient() -> ReadOptions {
    ReadOptions {
        lenient: true,
        ..ReadOptions::default()
    }
}

#[test]
fn shipped_csl_keeps_its_ids_and_is_chinese() {
    let papers = Collection::Csl.papers().unwrap();
    assert_eq!(papers.len(), 2000);
    assert_eq!(papers[0].id, "dev-0");
    assert_eq!(
        papers[0].title,
        "一种基于平方和优化的飞行器大角度机动镇定控制器设计方法"
    );
    assert_eq!(papers[0].keywords[0], "修正Rodrigues参数模型");
    assert_eq!(papers[0].extra["discipline"], "兵器科学与技术");
    // CSL holds one paper written in English (dev-566, on full waveform inversion).
    let english: Vec<&str> = papers
        .iter()
        .filter(|p| p.lang != Lang::Zh)
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(english, ["dev-566"]);
}

#[test]
fn shipped_scifact_keeps_its_ids_and_is_english() {
    let papers = Collection::Scifact.papers().unwrap();
    assert_eq!(papers.len(), 5183);
    assert_eq!(papers[0].id, "4983");
    assert!(
        papers[0]
            .abstract_text
            .starts_with("Alterations of the architecture")
    );
    assert!(
        papers[0].extra.contains_key("metadata"),
        "unmodelled fields are kept"
    );
    let english = papers.iter().filter(|p| p.lang == Lang::En).count();
    assert_eq!(english, papers.len());
}

#[test]
fn zotero_bibtex() {
    let papers = read("zotero.bib");
    let ids: Vec<&str> = papers.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "robertson_probabilistic_2009",
            "karpas2022mrkl",
            "schrodinger1944",
            "wang_tushuguan_2021"
        ]
    );
    let bm25 = &papers[0];
    assert_eq!(
        bm25.title,
        "The Probabilistic Relevance Framework: BM25 and Beyond"
    );
    assert_eq!(bm25.authors, ["Robertson, Stephen", "Zaragoza, Hugo"]);
    assert_eq!(bm25.year, Some(2009));
    assert_eq!(bm25.doi.as_deref(), Some("10.1561/1500000019"));
    assert_eq!(
        bm25.keywords,
        ["information retrieval", "BM25", "probabilistic models"]
    );
    assert!(
        bm25.abstract_text
            .contains("formal framework for document retrieval"),
        "{}",
        bm25.abstract_text
    );
    assert_eq!(
        bm25.extra["month"], "April",
        "@string month abbreviations expand"
    );
    assert_eq!(bm25.extra["pages"], "333--389");
    let mrkl = &papers[1];
    assert_eq!(
        mrkl.venue.as_deref(),
        Some("Journal of the Association for Information Science and Technology (preprint)")
    );
    assert_eq!(mrkl.year, Some(2022));
    assert_eq!(mrkl.authors.len(), 4);
    assert_eq!(
        papers[2].authors,
        [
            "Schrödinger, Erwin",
            "Cambridge University Press and Friends"
        ]
    );
    let chinese = &papers[3];
    assert_eq!(chinese.lang, Lang::Zh);
    assert_eq!(chinese.authors, ["王晓明", "李华"]);
    assert_eq!(chinese.keywords, ["参考咨询", "智能问答", "高校图书馆"]);
}

#[test]
fn endnote_ris() {
    let papers = read("endnote.ris");
    assert_eq!(papers.len(), 2);
    let first = &papers[0];
    assert_eq!(first.id, "4983");
    assert_eq!(first.authors, ["Hüppi, Petra S.", "Maier, Stephan E."]);
    assert_eq!(first.year, Some(1998));
    assert_eq!(
        first.doi.as_deref(),
        Some("10.1203/00006450-199810000-00019")
    );
    assert_eq!(first.venue.as_deref(), Some("Pediatric Research"));
    assert!(
        first.abstract_text.ends_with("functional disabilities."),
        "continuation lines join"
    );
    assert_eq!(first.keywords, ["diffusion tensor imaging", "white matter"]);
    assert_eq!(first.lang, Lang::En);
    assert_eq!(first.extra["VL"], "44");
    // A record without an ID gets one from what it is (its DOI or a hash of its title,
    // authors and year), never from its file or place.
    assert!(
        papers[1].id.starts_with("doi:") || papers[1].id.starts_with("h:"),
        "{}",
        papers[1].id
    );
    assert_eq!(
        papers[1].id,
        miracle_corpora::content_id(
            papers[1].doi.as_deref(),
            &papers[1].title,
            &papers[1].abstract_text,
            &papers[1].authors,
            papers[1].year
        )
    );
    assert_eq!(
        papers[1].venue.as_deref(),
        Some("Advances in Neural Information Processing Systems")
    );
}

#[test]
fn cnki_ris_in_utf8_and_gb18030() {
    let papers = read("cnki.ris");
    assert_eq!(papers[0].authors, ["张三", "李四"]);
    assert_eq!(papers[0].keywords, ["知识图谱", "参考咨询", "问答系统"]);
    assert_eq!(papers[0].lang, Lang::Zh);

    let err = read_path(&fixture("cnki-gbk.ris"), &ReadOptions::default()).unwrap_err();
    assert!(matches!(err, ReadError::Encoding { .. }));
    assert!(
        err.to_string().contains("gb18030"),
        "the error says what to do: {err}"
    );
    let options = ReadOptions {
        encoding: miracle_corpora::read::encoding_for_label("gb18030"),
        ..ReadOptions::default()
    };
    let papers = read_path(&fixture("cnki-gbk.ris"), &options)
        .unwrap()
        .papers;
    assert_eq!(papers[0].authors, ["赵六", "李四"]);
    assert!(papers[0].title.starts_with("面向科技文献"));
}

#[test]
fn zotero_and_cnki_csv() {
    let papers = read("zotero.csv");
    assert_eq!(papers.len(), 2);
    assert_eq!(papers[0].id, "ABCD1234");
    assert_eq!(papers[0].authors, ["Wei, Jason", "Wang, Xuezhi"]);
    assert!(
        papers[0].abstract_text.contains("series of\nintermediate"),
        "quoted newlines survive"
    );
    assert_eq!(papers[0].keywords, ["reasoning", "prompting"]);
    assert_eq!(papers[0].extra["Item Type"], "journalArticle");
    assert_eq!(
        papers[1].venue, None,
        "empty cells are absent, not empty strings"
    );

    let papers = read("cnki.csv");
    assert!(papers[0].id.starts_with("h:"), "{}", papers[0].id);
    assert_eq!(papers[0].title, "图书馆学情报学研究的新进展");
    assert_eq!(papers[0].authors, ["王五", "赵六"]);
    assert_eq!(papers[0].keywords, ["图书馆学", "情报学"]);
    assert_eq!(papers[0].year, Some(2019));
    assert_eq!(papers[0].venue.as_deref(), Some("图书情报知识"));
}

#[test]
fn truncated_jsonl_names_the_line_or_is_skipped() {
    let err = read_path(&fixture("truncated.jsonl"), &ReadOptions::default()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("truncated.jsonl:3: not valid JSON"),
        "{message}"
    );
    assert!(message.contains("cut short"), "{message}");
    let report = read_path(&fixture("truncated.jsonl"), &lenient()).unwrap();
    assert_eq!(report.papers.len(), 2);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].line, 3);
}

#[test]
fn unbalanced_bibtex_is_reported_and_reading_resumes() {
    let err = read_path(&fixture("unbalanced.bib"), &ReadOptions::default()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("unbalanced.bib:7:"),
        "the line of the unclosed brace: {message}"
    );
    assert!(message.contains("never closed"), "{message}");
    let report = read_path(&fixture("unbalanced.bib"), &lenient()).unwrap();
    let ids: Vec<&str> = report.papers.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["good1", "good2"]);
    assert_eq!(report.skipped.len(), 1);
}

#[test]
fn truncated_ris_and_ragged_csv() {
    let err = read_path(&fixture("truncated.ris"), &ReadOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("truncated.ris:6: the record starting here has no `ER  -`"),
        "{err}"
    );
    assert_eq!(
        read_path(&fixture("truncated.ris"), &lenient())
            .unwrap()
            .papers
            .len(),
        1
    );

    let err = read_path(&fixture("ragged.csv"), &ReadOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("ragged.csv:3: the row has 4 fields but the header has 3"),
        "{err}"
    );
    let report = read_path(&fixture("ragged.csv"), &lenient()).unwrap();
    assert_eq!(
        report
            .papers
            .iter()
            .map(|p| p.id.as_str())
            .collect::<Vec<_>>(),
        ["1", "3"]
    );
}

#[test]
fn a_50_mb_field_is_refused_clearly_or_read_when_allowed() {
    let mut file = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .unwrap();
    writeln!(file, r#"{{"id": "small", "title": "fine"}}"#).unwrap();
    writeln!(
        file,
        r#"{{"id": "huge", "title": "big", "abstract": "{}"}}"#,
        "a".repeat(50 << 20)
    )
    .unwrap();
    writeln!(file, r#"{{"id": "after", "title": "still read"}}"#).unwrap();
    file.flush().unwrap();

    let err = read_path(file.path(), &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(":2: field `abstract`: 52428800 bytes long"),
        "{err}"
    );
    let report = read_path(file.path(), &lenient()).unwrap();
    assert_eq!(report.papers.len(), 2);
    assert_eq!(report.skipped.len(), 1);
    let roomy = ReadOptions {
        max_field_bytes: 64 << 20,
        ..ReadOptions::default()
    };
    assert_eq!(
        read_path(file.path(), &roomy).unwrap().papers[1]
            .abstract_text
            .len(),
        50 << 20
    );
}

#[test]
fn wrong_types_duplicate_ids_and_empty_records() {
    let text = concat!(
        "{\"id\": \"a\", \"title\": \"x\", \"year\": [2001]}\n",
        "{\"id\": \"b\", \"title\": \"x\"}\n",
        "{\"id\": \"b\", \"title\": \"y\"}\n",
        "{\"id\": \"c\"}\n",
        "[1, 2]\n",
    );
    let report = read_bytes(text.as_bytes(), Path::new("t.jsonl"), &lenient()).unwrap();
    assert_eq!(report.papers.len(), 1);
    let messages: Vec<String> = report.skipped.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "line 1: field `year`: expected a number or a date string, found a list",
            "line 3: field `id`: `b` is already used by the record at line 2",
            "line 4: record `c` has neither a title nor an abstract",
            "line 5: expected a JSON object on this line",
        ]
    );
}

#[test]
fn missing_files_and_json_arrays_say_what_to_do() {
    let err = read_path(Path::new("/no/such/file.bib"), &ReadOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("/no/such/file.bib: No such file"),
        "{err}"
    );
    let err = read_bytes(
        b"[{\"id\": 1}]",
        Path::new("zotero.json"),
        &ReadOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("jq -c"), "{err}");
}

fn text() -> impl Strategy<Value = String> {
    "\\PC{1,30}"
        .prop_map(|s| s.trim().to_string())
        .prop_filter("non-empty", |s| !s.is_empty())
}

fn paper() -> impl Strategy<Value = Paper> {
    (
        text(),
        text(),
        proptest::collection::vec(text(), 0..4),
        proptest::option::of(1000i32..2999),
        proptest::option::of(text()),
        proptest::collection::btree_map(
            "x_[a-z]{1,8}",
            text().prop_map(serde_json::Value::String),
            0..3,
        ),
    )
        .prop_map(|(id, title, authors, year, venue, extra)| Paper {
            lang: Lang::detect(&title),
            id,
            title,
            authors: authors.clone(),
            abstract_text: String::new(),
            keywords: authors,
            year,
            venue,
            doi: None,
            extra,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn our_jsonl_round_trips(papers in proptest::collection::vec(paper(), 1..5)) {
        let mut seen = std::collections::HashSet::new();
        let papers: Vec<Paper> = papers.into_iter().filter(|p| seen.insert(p.id.clone())).collect();
        let text: String = papers.iter().map(|p| serde_json::to_string(p).unwrap() + "\n").collect();
        let read = read_bytes(text.as_bytes(), Path::new("ours.jsonl"), &ReadOptions::default()).unwrap();
        prop_assert_eq!(read.papers, papers);
    }

    #[test]
    fn no_input_makes_a_reader_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), format in 0usize..4) {
        let format = Format::from_name(Format::NAMES[format]);
        for lenient in [false, true] {
            let options = ReadOptions { format, lenient, ..ReadOptions::default() };
            let _ = read_bytes(&bytes, Path::new("fuzz"), &options);
        }
    }

    #[test]
    fn near_valid_text_makes_no_reader_panic(
        pieces in proptest::collection::vec(prop_oneof![
            Just("@article{".to_string()), Just("}".to_string()), Just("{".to_string()),
            Just("title = ".to_string()), Just("\"".to_string()), Just(",".to_string()),
            Just("\n".to_string()), Just("TY  - ".to_string()), Just("ER  - ".to_string()),
            Just("AU  - ".to_string()), Just("#".to_string()), Just("@string{".to_string()),
            Just("@comment(".to_string()), Just("\\".to_string()), Just("=".to_string()),
            "\\PC{0,5}",
        ], 0..40),
        format in 0usize..4,
    ) {
        let text: String = pieces.concat();
        let format = Format::from_name(Format::NAMES[format]);
        for lenient in [false, true] {
            let options = ReadOptions { format, lenient, ..ReadOptions::default() };
            let _ = read_bytes(text.as_bytes(), Path::new("fuzz"), &options);
        }
    }
}

#[test]
fn a_field_full_of_separators_is_read_in_one_pass() {
    // 170,000 " and " in one author field: quadratic splitting would take minutes.
    let text = format!("author,title\n\"{}b\",T\n", "a and ".repeat(170_000));
    let report = read_bytes(
        text.as_bytes(),
        Path::new("bomb.csv"),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(report.papers[0].authors.len(), 170_001);
}

/// Issue 31: Zotero writes a Chinese name in two fields, "王, 丽华", which citations showed
/// as "王, 丽华"; it is one name, in every format.
#[test]
fn chinese_names_from_two_part_fields_are_one_name() {
    let bib = "@article{wang2021,\n  author = {王, 丽华 and 欧阳, 修 and Smith, John},\n  title = {图书馆参考咨询},\n  year = {2021}\n}\n";
    let ris =
        "TY  - JOUR\nAU  - 王, 丽华\nAU  - 欧阳, 修\nTI  - 图书馆参考咨询\nPY  - 2021\nER  - \n";
    let csv =
        "Key,Title,Author,Publication Year\nwang2021,图书馆参考咨询,\"王, 丽华; 欧阳, 修\",2021\n";
    for (name, bytes) in [("a.bib", bib), ("a.ris", ris), ("a.csv", csv)] {
        let read = read_bytes(bytes.as_bytes(), Path::new(name), &ReadOptions::default()).unwrap();
        let authors = &read.papers[0].authors;
        assert_eq!(authors[..2], ["王丽华", "欧阳修"], "{name}: {authors:?}");
    }
}
