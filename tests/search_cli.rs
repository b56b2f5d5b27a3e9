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
        stdout(&built).contains("indexed 3 papers"),
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
