//! `miracle index` and `miracle search` end to end: library exports indexed and searched in
//! both languages, JSON, TREC batch runs, the default index, and one-line failures.

mod common;

use common::{assert_clear_failure, fixture, miracle_with_home as miracle, stderr, stdout};

/// The binary with its own MIRACLE_HOME, so the default index is built there.

#[test]
fn index_library_exports_then_search_them() {
    let home = tempfile::tempdir().unwrap();
    let index = home.path().join("idx");
    let idx = index.to_str().unwrap();
    let built = miracle(
        &[
            "index",
            "--out",
            idx,
            &fixture("cnki.ris"),
            &fixture("endnote.ris"),
        ],
        home.path(),
    );
    assert!(built.status.success(), "{}", stderr(&built));
    assert!(
        stdout(&built).contains("3 added, 0 updated"),
        "{}",
        stdout(&built)
    );
    // Incremental: adding a file keeps what was there.
    let added = miracle(
        &["index", "--out", idx, &fixture("zotero.bib")],
        home.path(),
    );
    assert!(
        stdout(&added).contains("(3 before, 7 now)"),
        "{}",
        stdout(&added)
    );

    let table = miracle(
        &["search", "--index", idx, "参考咨询 知识图谱"],
        home.path(),
    );
    let out = stdout(&table);
    let first = out.lines().nth(1).unwrap_or_default();
    assert!(
        first.contains(
            "张三, 李四. 基于知识图谱的图书馆参考咨询问答系统研究[J]. 中国图书馆学报, 2020."
        ),
        "{out}"
    );
    assert!(out.contains("**参考咨询**"), "{out}");

    let json = miracle(
        &[
            "search",
            "--index",
            idx,
            "--json",
            "--style",
            "apa",
            "white matter",
        ],
        home.path(),
    );
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["hits"][0]["id"], "4983");
    assert!(
        value["hits"][0]["citation"]
            .as_str()
            .unwrap()
            .starts_with("Hüppi, P. S., & Maier, S. E. (1998).")
    );

    let filtered = miracle(
        &[
            "search",
            "--index",
            idx,
            "--years",
            "2021..",
            "--lang",
            "zh",
            "--json",
            "图书馆",
        ],
        home.path(),
    );
    let value: serde_json::Value = serde_json::from_slice(&filtered.stdout).unwrap();
    let years: Vec<i64> = value["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["paper"]["year"].as_i64().unwrap())
        .collect();
    assert!(
        !years.is_empty() && years.iter().all(|&y| y >= 2021),
        "{value}"
    );
}

/// Issue 28: a record without an id was named after its file and place (`cnki:1`), so a
/// second export of the same file name replaced an earlier paper without a word.
#[test]
fn two_exports_of_the_same_file_name_lose_nothing_and_collisions_are_named() {
    let home = tempfile::tempdir().unwrap();
    let idx = home.path().join("idx");
    let idx = idx.to_str().unwrap();
    let export = |dir: &str, title: &str, author: &str| {
        let folder = home.path().join(dir);
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join("cnki.ris");
        std::fs::write(
            &path,
            format!("TY  - JOUR\nTI  - {title}\nAU  - {author}\nPY  - 2021\nAB  - 关于{title}的研究。\nER  - \n"),
        )
        .unwrap();
        path.display().to_string()
    };
    let first = export("monday", "图书馆参考咨询", "王丽华");
    let second = export("tuesday", "高校图书馆知识服务", "李明");
    for (file, expected) in [(&first, "1 added"), (&second, "1 added")] {
        let run = miracle(&["index", "--out", idx, file], home.path());
        assert!(run.status.success(), "{}", stderr(&run));
        assert!(stdout(&run).contains(expected), "{}", stdout(&run));
    }
    for query in ["参考咨询", "知识服务"] {
        let found = miracle(&["search", "--index", idx, "--json", query], home.path());
        assert!(
            stdout(&found).contains("\"id\":\"h:"),
            "{query}: {}",
            stdout(&found)
        );
    }
    // The same export again: nothing added, nothing replaced.
    let again = miracle(&["index", "--out", idx, &first], home.path());
    assert!(
        stdout(&again).contains("0 added, 0 updated, 1 skipped (already indexed as they are)"),
        "{}",
        stdout(&again)
    );
    assert!(
        stdout(&again).contains("(2 before, 2 now)"),
        "{}",
        stdout(&again)
    );
    // Another paper under an id the index holds: named, not indexed, and a failing exit.
    let clash = home.path().join("clash.jsonl");
    let taken = miracle(
        &["search", "--index", idx, "--json", "参考咨询"],
        home.path(),
    );
    let id = stdout(&taken)
        .split("\"id\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    std::fs::write(
        &clash,
        format!("{{\"id\": \"{id}\", \"title\": \"Another paper entirely\", \"authors\": [\"Someone Else\"], \"year\": 1999}}\n"),
    )
    .unwrap();
    let refused = miracle(
        &["index", "--out", idx, clash.to_str().unwrap()],
        home.path(),
    );
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("was not indexed: its id names another paper"),
        "{}",
        stderr(&refused)
    );
    assert!(
        stdout(&refused).contains("1 skipped (id taken by another paper)"),
        "{}",
        stdout(&refused)
    );
    let kept = miracle(
        &["search", "--index", idx, "--json", "参考咨询"],
        home.path(),
    );
    assert!(
        stdout(&kept).contains("图书馆参考咨询"),
        "{}",
        stdout(&kept)
    );
}

/// Issue 28: a UTF-16 BibTeX export without a byte-order mark read as "0 papers" with exit
/// 0, and `index` then built an empty index without a word.
#[test]
fn utf16_exports_are_read_and_nothing_to_index_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    let bib = home.path().join("zotero.bib");
    let text = "@article{wang2021,\n  title = {图书馆参考咨询},\n  author = {王丽华},\n  year = {2021}\n}\n";
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    std::fs::write(&bib, utf16).unwrap();
    let idx = home.path().join("idx");
    let idx = idx.to_str().unwrap();
    let run = miracle(&["index", "--out", idx, bib.to_str().unwrap()], home.path());
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(stdout(&run).contains("1 added"), "{}", stdout(&run));
    let empty = home.path().join("empty.bib");
    std::fs::write(&empty, "\n").unwrap();
    let other = home.path().join("other");
    let run = miracle(
        &[
            "index",
            "--out",
            other.to_str().unwrap(),
            empty.to_str().unwrap(),
        ],
        home.path(),
    );
    assert_clear_failure(&run, "no papers to index");
    assert!(!other.exists(), "nothing was written");
    let notes = home.path().join("notes.bib");
    std::fs::write(&notes, "% my reading list, to do\n").unwrap();
    let run = miracle(
        &["index", "--out", idx, notes.to_str().unwrap()],
        home.path(),
    );
    assert_clear_failure(&run, "no bibtex record found");
}

#[test]
fn trec_batch_runs_skip_the_query_itself() {
    let home = tempfile::tempdir().unwrap();
    let index = home.path().join("idx");
    let idx = index.to_str().unwrap();
    assert!(
        miracle(
            &[
                "index",
                "--out",
                idx,
                &fixture("endnote.ris"),
                &fixture("zotero.bib")
            ],
            home.path()
        )
        .status
        .success()
    );
    let queries = home.path().join("q.jsonl");
    std::fs::write(&queries, "{\"_id\": \"q1\", \"text\": \"white matter diffusion\"}\n{\"_id\": 4983, \"text\": \"white matter\"}\n").unwrap();
    let trec = home.path().join("run.trec");
    let run = miracle(
        &[
            "search",
            "--index",
            idx,
            "--queries",
            queries.to_str().unwrap(),
            "--trec",
            trec.to_str().unwrap(),
            "--top",
            "3",
        ],
        home.path(),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let lines: Vec<String> = std::fs::read_to_string(&trec)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(
        lines[0].starts_with("q1 Q0 4983 1 ") && lines[0].ends_with(" miracle"),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|l| !l.starts_with("4983 Q0 4983 ")),
        "{lines:?}"
    );
    assert!(lines.iter().filter(|l| l.starts_with("q1 ")).count() <= 3);

    std::fs::write(
        &queries,
        "{\"_id\": \"q1\", \"text\": \"fine\"}\nnot json\n",
    )
    .unwrap();
    let bad = miracle(
        &[
            "search",
            "--index",
            idx,
            "--queries",
            queries.to_str().unwrap(),
            "--trec",
            trec.to_str().unwrap(),
        ],
        home.path(),
    );
    assert_clear_failure(&bad, "q.jsonl:2:");
    // The earlier run's file is untouched by the failed one.
    assert_eq!(
        std::fs::read_to_string(&trec).unwrap().lines().count(),
        lines.len()
    );
}

#[test]
fn search_failures_are_one_clear_line() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("nowhere");
    assert_clear_failure(
        &miracle(
            &["search", "--index", missing.to_str().unwrap(), "x"],
            home.path(),
        ),
        "miracle index --out",
    );
    let index = home.path().join("idx");
    let idx = index.to_str().unwrap();
    assert!(
        miracle(&["index", "--out", idx, &fixture("cnki.ris")], home.path())
            .status
            .success()
    );
    assert_clear_failure(
        &miracle(&["search", "--index", idx, "the of and"], home.path()),
        "no searchable words",
    );
    assert_clear_failure(
        &miracle(&["search", "--index", idx, "title:(oops"], home.path()),
        "Advanced syntax",
    );
    // A pasted title in capitals holds AND and IN (tantivy's set operator), a pasted
    // reference "doi:": long texts that do not parse are read as natural language.
    for prose in [
        "INTRANASAL INSULIN IMPROVES COGNITION AND MODULATES β-AMYLOID IN EARLY AD",
        "Copyright 2006 by the Endocrine Society doi: 10.1210/jc.2005-1923 review",
    ] {
        let run = miracle(&["search", "--index", idx, prose], home.path());
        assert!(run.status.success(), "{prose}: {}", stderr(&run));
    }
    assert_clear_failure(
        &miracle(
            &["search", "--index", idx, "--years", "last year", "x"],
            home.path(),
        ),
        "--years",
    );
    assert_clear_failure(
        &miracle(
            &["index", "--out", idx, &fixture("truncated.ris")],
            home.path(),
        ),
        "truncated.ris",
    );
    // The failed index run lost nothing.
    let still = miracle(&["search", "--index", idx, "知识图谱"], home.path());
    assert!(
        stdout(&still).contains("基于知识图谱"),
        "{}",
        stdout(&still)
    );
}

#[test]
fn default_index_and_the_search_expert() {
    let home = tempfile::tempdir().unwrap();
    let found = miracle(
        &[
            "search",
            "--top",
            "1",
            "diffusion tensor imaging of newborn white matter",
        ],
        home.path(),
    );
    assert!(found.status.success(), "{}", stderr(&found));
    assert!(stdout(&found).contains("4983"), "{}", stdout(&found));
    let seen = miracle(
        &["expert", "search", "飞行器 大角度机动 平方和优化"],
        home.path(),
    );
    assert!(
        stdout(&seen)
            .starts_with("1. [dev-0] 一种基于平方和优化的飞行器大角度机动镇定控制器设计方法[J]."),
        "{}",
        stdout(&seen)
    );
}

/// Issue 31: the shipped index carries SciFact's non-commercial licence. `search --help`
/// says so, and `index --collection` builds an index of only the collections chosen,
/// beside a library's own records.
#[test]
fn an_index_for_commercial_use_leaves_scifact_out() {
    let home = tempfile::tempdir().unwrap();
    let help = stdout(&miracle(&["search", "--help"], home.path()));
    assert!(help.contains("CC BY-NC 2.0"), "{help}");
    assert!(help.contains("--collection csl"), "{help}");

    let index = home.path().join("permissive");
    let idx = index.to_str().unwrap();
    let built = miracle(
        &[
            "index",
            "--out",
            idx,
            "--collection",
            "csl",
            &fixture("zotero.bib"),
        ],
        home.path(),
    );
    assert!(built.status.success(), "{}", stderr(&built));
    let said = stdout(&built);
    assert!(said.contains("csl: 2000 papers"), "{said}");
    assert!(!said.contains("scifact"), "{said}");
    let json = |query: &str| -> serde_json::Value {
        let run = miracle(&["search", "--index", idx, "--json", query], home.path());
        assert!(run.status.success(), "{}", stderr(&run));
        serde_json::from_slice(&run.stdout).unwrap()
    };
    // SciFact's own words find nothing of SciFact's here.
    let english = json("diffusion tensor imaging of white matter in newborns");
    let ids: Vec<&str> = english["hits"]
        .as_array()
        .map(|hits| hits.iter().filter_map(|h| h["id"].as_str()).collect())
        .unwrap_or_default();
    // SciFact's ids are numbers (4983 is this very paper); CSL's and the file's are not.
    assert!(ids.iter().all(|id| id.parse::<u64>().is_err()), "{english}");
    assert!(
        json("图书馆")["hits"]
            .as_array()
            .is_some_and(|h| !h.is_empty())
    );

    // MIRACLE_INDEX makes it the default everywhere: search without --index, and the
    // agent's literature expert.
    let with_index = |args: &[&str], chosen: &str| {
        common::command()
            .args(args)
            .env("MIRACLE_HOME", home.path())
            .env("MIRACLE_INDEX", chosen)
            .output()
            .unwrap()
    };
    let searched = with_index(&["search", "--json", "white matter newborns"], idx);
    assert!(searched.status.success(), "{}", stderr(&searched));
    let value: serde_json::Value = serde_json::from_slice(&searched.stdout).unwrap();
    assert!(
        value["hits"].as_array().unwrap().iter().all(|h| h["id"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_err()),
        "{value}"
    );
    let asked = with_index(
        &[
            "ask",
            "--json",
            "Find papers about diffusion tensor imaging of newborn white matter.",
        ],
        idx,
    );
    assert!(asked.status.success(), "{}", stderr(&asked));
    let trace: serde_json::Value = serde_json::from_slice(&asked.stdout).unwrap();
    let steps = trace["steps"].as_array().unwrap();
    assert!(steps.iter().any(|s| s["expert"] == "literature"), "{trace}");
    assert!(!trace.to_string().contains("[4983]"), "{trace}");
    let nowhere = home.path().join("no-index");
    assert_clear_failure(
        &with_index(&["search", "white matter"], nowhere.to_str().unwrap()),
        "MIRACLE_INDEX names",
    );

    assert_clear_failure(
        &miracle(
            &["index", "--out", idx, "--collection", "pubmed"],
            home.path(),
        ),
        "--collection pubmed: no shipped collection has that name (csl, scifact)",
    );
}

/// Issue 31: the shipped collections carry no authors, years or venues. A year or venue
/// filter on them said only "no papers found"; now it says why, and a list of their
/// papers says that the citations are short for want of metadata. A library's own
/// records, which have years, are told apart from ones outside the years asked for.
#[test]
fn what_a_collection_lacks_is_said_not_hidden() {
    let home = tempfile::tempdir().unwrap();
    let years = stdout(&miracle(
        &["search", "--years", "2010..2020", "white matter"],
        home.path(),
    ));
    assert!(
        years.contains("no papers found: the words match")
            && years.contains("none of them has a year"),
        "{years}"
    );
    let venue = stdout(&miracle(
        &["search", "--venue", "Nature", "white matter"],
        home.path(),
    ));
    assert!(venue.contains("none of them has a venue"), "{venue}");
    let table = stdout(&miracle(
        &["search", "--top", "3", "white matter"],
        home.path(),
    ));
    assert!(
        table.contains("note: All 3 of these papers have no authors, year or venue"),
        "{table}"
    );
    let json: serde_json::Value = serde_json::from_slice(
        &miracle(
            &["search", "--json", "--years", "2015", "white matter"],
            home.path(),
        )
        .stdout,
    )
    .unwrap();
    assert!(
        json["why_nothing"].as_str().unwrap().contains("year"),
        "{json}"
    );

    let index = home.path().join("own");
    let idx = index.to_str().unwrap();
    let built = miracle(&["index", "--out", idx, &fixture("cnki.ris")], home.path());
    assert!(built.status.success(), "{}", stderr(&built));
    let outside = stdout(&miracle(
        &["search", "--index", idx, "--years", "..1990", "参考咨询"],
        home.path(),
    ));
    assert!(outside.contains("but none within the filters"), "{outside}");
    assert!(outside.contains("from 20"), "{outside}");
    let found: serde_json::Value = serde_json::from_slice(
        &miracle(
            &["search", "--index", idx, "--json", "参考咨询"],
            home.path(),
        )
        .stdout,
    )
    .unwrap();
    assert!(found["hits"][0]["missing"].is_array(), "{found}");
}

/// An index of these fixtures in `home`/idx, built with `miracle index`; its path.
fn own_index(home: &std::path::Path, fixtures: &[&str]) -> String {
    let idx = home.join("idx").display().to_string();
    let mut args = vec!["index".to_string(), "--out".into(), idx.clone()];
    args.extend(fixtures.iter().map(|f| fixture(f)));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let built = miracle(&args, home);
    assert!(built.status.success(), "{}", stderr(&built));
    idx
}

/// Issue 31: a citation keeps what the export has. Zotero's BibTeX and EndNote's RIS carry
/// volume, issue and pages; the index stores them and both styles print them, APA with
/// its italics in Markdown or HTML when asked.
#[test]
fn citations_keep_volume_issue_and_pages_from_the_export() {
    let home = tempfile::tempdir().unwrap();
    let idx = &own_index(home.path(), &["zotero.bib", "endnote.ris"]);
    let cite = |style: &str, markup: &str, query: &str| -> String {
        let run = miracle(
            &[
                "search", "--index", idx, "--json", "--top", "1", "--style", style, "--markup",
                markup, query,
            ],
            home.path(),
        );
        assert!(run.status.success(), "{}", stderr(&run));
        let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        v["hits"][0]["citation"].as_str().unwrap().to_string()
    };
    assert_eq!(
        cite("gbt", "plain", "probabilistic relevance framework"),
        "ROBERTSON S, ZARAGOZA H. The Probabilistic Relevance Framework: BM25 and Beyond[J]. Foundations and Trends in Information Retrieval, 2009, 3(4): 333-389. DOI:10.1561/1500000019."
    );
    // APA's sentence case: "beyond" lowercased; the framework's name kept, as the
    // abstract capitalises it mid-sentence.
    assert_eq!(
        cite("apa", "markdown", "probabilistic relevance framework"),
        "Robertson, S., & Zaragoza, H. (2009). The Probabilistic Relevance Framework: BM25 and beyond. *Foundations and Trends in Information Retrieval*, *3*(4), 333–389. https://doi.org/10.1561/1500000019"
    );
    let html = cite("apa", "html", "white matter newborn");
    assert!(
        html.starts_with("Hüppi, P. S., &amp; Maier, S. E. (1998).")
            && html.contains("<i>Pediatric Research</i>, <i>44</i>, 584–590."),
        "{html}"
    );
}

/// Issue 32: known-item lookup. A DOI (bare, `doi:` or a link), an author and a year, or a
/// whole title finds that record first; author and year in either language.
#[test]
fn a_doi_an_author_and_year_or_a_title_finds_the_record() {
    let home = tempfile::tempdir().unwrap();
    let idx = &own_index(home.path(), &["zotero.bib", "endnote.ris", "cnki.ris"]);
    let first = |query: &str| -> String {
        let run = miracle(&["search", "--index", idx, "--json", query], home.path());
        assert!(run.status.success(), "{query}: {}", stderr(&run));
        let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        v["hits"][0]["id"].as_str().unwrap_or("(none)").to_string()
    };
    for query in [
        "10.1561/1500000019",
        "doi:10.1561/1500000019",
        "https://doi.org/10.1561/1500000019",
        "Robertson 2009",
        "Zaragoza (2009)",
        "The probabilistic relevance framework - BM25 and beyond",
    ] {
        assert_eq!(first(query), "robertson_probabilistic_2009", "{query}");
    }
    assert_eq!(first("王晓明 2021"), "wang_tushuguan_2021");
    assert_eq!(first("10.1203/00006450-199810000-00019"), "4983");
    // The wrong year is no known item, and the words alone find nothing.
    assert_eq!(first("Robertson 1999"), "(none)");
}

/// An agent's answer lists the papers it cites with APA's italics written as asked
/// (`ask --markup`), plain by default.
#[test]
fn an_answer_lists_its_citations_with_the_italics_asked_for() {
    let home = tempfile::tempdir().unwrap();
    let idx = own_index(home.path(), &["zotero.bib"]);
    let ask = |markup: &str| {
        let output = common::command()
            .args([
                "ask",
                "--markup",
                markup,
                "Find papers about probabilistic relevance and BM25.",
            ])
            .env("MIRACLE_HOME", home.path())
            .env("MIRACLE_INDEX", &idx)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
    };
    let journal = "Foundations and Trends in Information Retrieval";
    let plain = ask("plain");
    assert!(
        plain.contains("[robertson_probabilistic_2009] Robertson, S."),
        "{plain}"
    );
    assert!(plain.contains(&format!("{journal}, 3(4)")), "{plain}");
    assert!(ask("markdown").contains(&format!("*{journal}*, *3*(4)")));
    assert!(ask("html").contains(&format!("<i>{journal}</i>, <i>3</i>(4)")));
}

/// Papers of two topics in which "tumour" and "tumor" are used alike, as JSON lines.
fn two_topic_papers(n: usize) -> String {
    let pick = |i: usize, words: &[&str]| words[(i * 7 + i / 3) % words.len()].to_string();
    (0..n)
        .map(|i| {
            let (title, text) = if i % 2 == 0 {
                let noun = pick(i / 4, &["tumour", "tumor"]);
                (
                    format!("A {noun} of the {}", pick(i / 6, &["lung", "liver"])),
                    format!(
                        "The {} {} the {noun} of the {}. A {} growth.",
                        pick(i, &["surgeon", "oncologist", "pathologist"]),
                        pick(i / 2, &["removed", "examined", "biopsied"]),
                        pick(i / 3, &["patient", "liver", "lung"]),
                        pick(i / 5, &["malignant", "benign", "metastatic"])
                    ),
                )
            } else {
                let noun = pick(i / 4, &["bread", "cake"]);
                (
                    format!("Making {noun} at {}", pick(i / 6, &["home", "work"])),
                    format!(
                        "The {} {} the {noun} in the {}. It was {}.",
                        pick(i, &["chef", "baker", "cook"]),
                        pick(i / 2, &["baked", "sliced", "served"]),
                        pick(i / 3, &["oven", "kitchen", "bakery"]),
                        pick(i / 5, &["fresh", "warm", "sweet"])
                    ),
                )
            };
            serde_json::json!({"_id": format!("p{i}"), "title": title, "text": text}).to_string()
                + "\n"
        })
        .collect()
}

/// Issue 32: word vectors trained with `miracle index --word-vectors` on the index's own
/// papers give related terms and query expansion; what cannot be done is said in one line.
#[test]
fn word_vectors_give_related_terms_and_expand_queries() {
    let home = tempfile::tempdir().unwrap();
    let papers = home.path().join("papers.jsonl");
    std::fs::write(&papers, two_topic_papers(400)).unwrap();
    // Without vectors, related terms and expansion say how to get them.
    let p = papers.to_str().unwrap();
    let plain = own_index_of(home.path(), "plain", p);
    for args in [
        vec!["search", "--index", &plain, "--related", "tumour"],
        vec!["search", "--index", &plain, "--expand", "tumour"],
    ] {
        assert_clear_failure(&miracle(&args, home.path()), "--word-vectors");
    }
    let vectors = home.path().join("vec");
    let v = vectors.to_str().unwrap();
    let built = miracle(&["index", "--out", v, p, "--word-vectors"], home.path());
    assert!(built.status.success(), "{}", stderr(&built));
    assert!(
        stdout(&built).contains("word vectors for"),
        "{}",
        stdout(&built)
    );
    let related = miracle(
        &["search", "--index", v, "--related", "tumours", "--json"],
        home.path(),
    );
    let value: serde_json::Value = serde_json::from_slice(&related.stdout).unwrap();
    // The query's word is stemmed as the index is; its nearest term is the other spelling.
    assert_eq!(value["related"][0]["word"], "tumor", "{value}");
    let expanded = miracle(
        &[
            "search", "--index", v, "--expand", "--json", "--top", "400", "tumor",
        ],
        home.path(),
    );
    let value: serde_json::Value = serde_json::from_slice(&expanded.stdout).unwrap();
    let hits = value["hits"].as_array().unwrap();
    let plain_hits = miracle(
        &["search", "--index", v, "--json", "--top", "400", "tumor"],
        home.path(),
    );
    let plain_hits: serde_json::Value = serde_json::from_slice(&plain_hits.stdout).unwrap();
    // Expansion finds the papers that spell it "tumour" as well, after those that match.
    assert!(
        hits.len() > plain_hits["hits"].as_array().unwrap().len(),
        "{value}"
    );
    // Hybrid search re-scores BM25's hits: the same papers, none lost, none added.
    let ids = |args: &[&str]| -> Vec<String> {
        let run = miracle(args, home.path());
        assert!(run.status.success(), "{}", stderr(&run));
        let value: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        let mut ids: Vec<String> = value["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    let bm25 = ids(&[
        "search",
        "--index",
        v,
        "--json",
        "--top",
        "100",
        "malignant tumor",
    ]);
    let hybrid = ids(&[
        "search",
        "--index",
        v,
        "--json",
        "--top",
        "100",
        "--hybrid",
        "malignant tumor",
    ]);
    assert!(!bm25.is_empty());
    assert_eq!(bm25, hybrid);
    // A paper indexed after the encoder was trained (it has never seen it) is still found.
    let late = home.path().join("late.jsonl");
    std::fs::write(
        &late,
        r#"{"_id": "late", "title": "", "text": "A zebra crossed the savanna."}"#,
    )
    .unwrap();
    assert!(
        miracle(&["index", "--out", v, late.to_str().unwrap()], home.path())
            .status
            .success()
    );
    assert_eq!(
        ids(&["search", "--index", v, "--json", "--hybrid", "zebra"]),
        ["late"]
    );
    assert_clear_failure(
        &miracle(
            &["search", "--index", &plain, "--hybrid", "tumor"],
            home.path(),
        ),
        "--word-vectors",
    );
    // MIRACLE_HYBRID turns hybrid search on for the search expert (the agent's too); a
    // value that is no weight is refused in one line.
    let expert = |hybrid: &str| {
        common::command()
            .args(["expert", "search", "malignant tumor"])
            .env("MIRACLE_HOME", home.path())
            .env("MIRACLE_INDEX", v)
            .env("MIRACLE_HYBRID", hybrid)
            .output()
            .unwrap()
    };
    let found = expert("1.0");
    assert!(found.status.success(), "{}", stderr(&found));
    assert!(stdout(&found).contains("1. [p"), "{}", stdout(&found));
    assert_clear_failure(&expert("lots"), "MIRACLE_HYBRID");
    // The same papers in another order train the same vectors.
    let reversed = home.path().join("reversed.jsonl");
    let mut lines: Vec<String> = two_topic_papers(400).lines().map(String::from).collect();
    lines.reverse();
    std::fs::write(&reversed, lines.join("\n")).unwrap();
    let other = home.path().join("other");
    let o = other.to_str().unwrap();
    let again = miracle(
        &[
            "index",
            "--out",
            o,
            reversed.to_str().unwrap(),
            "--word-vectors",
        ],
        home.path(),
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        std::fs::read(other.join("words.bin")).unwrap()
            == std::fs::read(vectors.join("words.bin")).unwrap(),
        "the vectors depend on the order the papers came in"
    );
    // Training again on the index alone keeps the papers (nothing re-indexed).
    let again = miracle(&["index", "--out", v, "--word-vectors"], home.path());
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(!stdout(&again).contains("added"), "{}", stdout(&again));
    assert_clear_failure(
        &miracle(&["search", "--index", v, "--related", "zzzz"], home.path()),
        "no word of it has a vector",
    );
    assert_clear_failure(
        &miracle(
            &[
                "search",
                "--index",
                v,
                "--expand",
                "--expand-min",
                "2",
                "tumor",
            ],
            home.path(),
        ),
        "--expand-min",
    );
    // A damaged file is named, with what to do.
    let file = vectors.join("words.bin");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    assert_clear_failure(
        &miracle(&["search", "--index", v, "--related", "tumor"], home.path()),
        "train the word vectors again",
    );
}

/// An index of one file in `home`/`name`; its path.
fn own_index_of(home: &std::path::Path, name: &str, file: &str) -> String {
    let idx = home.join(name).display().to_string();
    let built = miracle(&["index", "--out", &idx, file], home);
    assert!(built.status.success(), "{}", stderr(&built));
    idx
}

/// Two English and two Chinese papers: one pair on diabetes, one on a library service and a
/// bridge, so that a translated query has one right answer in each language.
const BILINGUAL: &str = r#"{"_id": "en-diabetes", "title": "Insulin resistance in type 2 diabetes", "text": "Obesity and insulin resistance raise the risk of diabetes in adults."}
{"_id": "en-bridge", "title": "Seismic damage of bridges", "text": "Earthquake damage to a bridge crossing a fault zone."}
{"_id": "zh-diabetes", "title": "糖尿病患者的胰岛素治疗", "text": "本文研究糖尿病患者的胰岛素治疗效果。"}
{"_id": "zh-library", "title": "图书馆参考咨询服务研究", "text": "高校图书馆的参考咨询服务与读者需求。"}
"#;

/// Issue 32, item 5: a Chinese request finds English papers and the reverse through the
/// shipped lexicon (or a library's own), the words translated are shown, both languages
/// keep a place in one list, and a lexicon that cannot be read is one clear line.
#[test]
fn translated_queries_find_papers_in_the_other_language() {
    let home = tempfile::tempdir().unwrap();
    let papers = home.path().join("papers.jsonl");
    std::fs::write(&papers, BILINGUAL).unwrap();
    let idx = &own_index_of(home.path(), "idx", papers.to_str().unwrap());
    let search = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["search", "--index", idx, "--json"];
        all.extend(args);
        let run = miracle(&all, home.path());
        assert!(run.status.success(), "{args:?}: {}", stderr(&run));
        serde_json::from_str(&stdout(&run)).unwrap()
    };
    let ids = |args: &[&str]| -> Vec<String> {
        search(args)["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_string())
            .collect()
    };
    // Untranslated, neither language reaches the other.
    assert!(ids(&["糖尿病 胰岛素", "--lang", "en"]).is_empty());
    assert!(ids(&["library reference service"]).is_empty());
    assert_eq!(
        ids(&["糖尿病 胰岛素", "--lang", "en", "--translate"]),
        ["en-diabetes"]
    );
    assert_eq!(
        ids(&["library reference service", "--translate"]),
        ["zh-library"]
    );
    // Without --lang both languages are listed: the translation's first on a tie.
    assert_eq!(
        ids(&["糖尿病 胰岛素", "--translate"]),
        ["en-diabetes", "zh-diabetes"]
    );
    let shown = search(&["糖尿病 胰岛素", "--translate"]);
    assert_eq!(shown["translation"][0]["word"], "糖尿病", "{shown}");
    assert!(
        shown["translation"][0]["into"]
            .as_array()
            .unwrap()
            .contains(&"diabetes".into()),
        "{shown}"
    );
    let table = miracle(
        &["search", "--index", idx, "糖尿病", "--translate"],
        home.path(),
    );
    assert!(
        stdout(&table).starts_with("also searched, translated: 糖尿病 → diabetes"),
        "{}",
        stdout(&table)
    );
    // A library's own glossary, which --lexicon alone turns on.
    let glossary = home.path().join("glossary.tsv");
    std::fs::write(
        &glossary,
        "quake\t地震\nseismic\t地震\nreference desk\t参考咨询\n",
    )
    .unwrap();
    let g = glossary.to_str().unwrap();
    assert_eq!(ids(&["reference desk", "--lexicon", g]), ["zh-library"]);
    // Hostile lexicons: each one line that names the file, and exit 1.
    for (bytes, says) in [
        (&b"cell \xe7\xbb\x86\xe8\x83\x9e\n"[..], "line 1: no tab"),
        (&b"cell\t\xff\xfe\n"[..], "not UTF-8"),
        (&b"cell\tcellule\n"[..], "no Chinese character"),
        (&b"\n\n"[..], "no entries"),
    ] {
        std::fs::write(&glossary, bytes).unwrap();
        let run = miracle(
            &["search", "--index", idx, "cell", "--lexicon", g],
            home.path(),
        );
        assert_clear_failure(&run, says);
        assert!(stderr(&run).contains("glossary.tsv"), "{}", stderr(&run));
    }
    // MIRACLE_TRANSLATE turns it on for the search expert (the agent's too); a value that
    // is no switch is refused in one line.
    let expert = |translate: &str| {
        common::command()
            .args(["expert", "search", "糖尿病 胰岛素"])
            .env("MIRACLE_HOME", home.path())
            .env("MIRACLE_INDEX", idx)
            .env("MIRACLE_TRANSLATE", translate)
            .output()
            .unwrap()
    };
    let found = expert("1");
    assert!(found.status.success(), "{}", stderr(&found));
    assert!(
        stdout(&found).contains("[en-diabetes]"),
        "{}",
        stdout(&found)
    );
    assert!(!stdout(&expert("0")).contains("[en-diabetes]"));
    assert_clear_failure(&expert("maybe"), "MIRACLE_TRANSLATE");
    let missing = home.path().join("none.tsv");
    let run = miracle(
        &[
            "search",
            "--index",
            idx,
            "cell",
            "--lexicon",
            missing.to_str().unwrap(),
        ],
        home.path(),
    );
    assert_clear_failure(&run, "none.tsv");
}
