//! The labelling page in a real browser: headless Chromium, driven through chromedriver's
//! WebDriver protocol, ranks two requests — one with keys, one with clicks and a drag — and the
//! comparisons file must hold exactly those rankings. Then the desk's API is fed hostile
//! requests, and a restarted desk hands out nothing already ranked.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them).

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};

use common::browser::Browser;

use serde_json::{Value, json};

fn candidates() -> String {
    let step = |kind: &str, text: &str| json!({"kind": kind, "text": text, "tokens": 1, "ms": 0.0});
    let call = |expert: &str, input: &str| json!({"kind": "call", "expert": expert, "input": input, "tokens": 3, "ms": 0.0});
    let response = |steps: Vec<Value>, answer: &str| {
        let mut steps = steps;
        steps.push(step("answer", answer));
        json!({"steps": steps, "answer": answer, "outcome": "answered"})
    };
    let lines = [
        json!({"id": "calc-1", "query": "What is 17 times 23?", "responses": [
            response(vec![call("calculator", "17 * 23"), step("result", "391")], "The answer is 391."),
            response(vec![call("literature", "17 times 23"), step("result", "1. [a1] A paper.")], "See [a1]."),
            response(vec![step("think", "<b>bold</b> guess")], "It is 400."),
        ]}),
        json!({"id": "lit-1", "query": "论文：引文分析", "responses": [
            response(vec![call("literature", "引文分析"), step("result", "1. [dev-1] 引文分析方法。")], "最相关的论文：[dev-1]。"),
            response(vec![], "我不知道。"),
        ]}),
        json!({"id": "one", "query": "Hello", "responses": [response(vec![], "Hi!")]}),
    ];
    lines.iter().map(|l| format!("{l}\n")).collect()
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running desk: its address, its first line, and each labeller's link.
struct Desk {
    _process: Running,
    addr: String,
    line: String,
    links: std::collections::HashMap<String, String>,
}

impl Desk {
    /// A labeller's token, from their link.
    fn token(&self, labeller: &str) -> String {
        self.links[labeller]
            .split("#token=")
            .nth(1)
            .unwrap()
            .to_string()
    }
}

/// Starts the desk for two labellers and reads what it prints.
fn desk(dir: &Path) -> Desk {
    let mut child = common::command()
        .args([
            "label",
            "serve",
            dir.join("candidates.jsonl").to_str().unwrap(),
            "--out",
            dir.join("comparisons.jsonl").to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--labeller",
            "Librarian Li",
            "--labeller",
            "Clerk Wu",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next().unwrap().unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("the desk did not say where it listens: {line:?}"))
        .to_string();
    let mut links = std::collections::HashMap::new();
    for line in lines.by_ref().skip(1).take(2) {
        let line = line.unwrap();
        let (name, url) = line.trim().split_once(": ").unwrap();
        assert!(url.starts_with(&format!("http://{addr}/#token=")), "{url}");
        links.insert(name.to_string(), url.to_string());
    }
    assert_eq!(links.len(), 2, "{links:?}");
    Desk {
        _process: Running(child),
        addr,
        line,
        links,
    }
}

/// Drags the ranking's item at place `from` onto the one at place `to`. WebDriver's
/// pointer actions start no HTML5 drag in Chromium, so the drag's events are dispatched
/// in the page, carrying one `DataTransfer` as a real drag does: the page's own handlers
/// reorder the ranking.
async fn drag(browser: &Browser, from: usize, to: usize) {
    browser
        .script(&format!(
            "const item = (p) => document.querySelector('#ranking li[data-place=\"' + p + '\"]');
         const source = item({from}), target = item({to});
         const dataTransfer = new DataTransfer();
         const fire = (node, type) => node.dispatchEvent(
           new DragEvent(type, {{ bubbles: true, cancelable: true, dataTransfer }}));
         fire(source, 'dragstart');
         fire(target, 'dragover');
         fire(target, 'drop');
         fire(source, 'dragend');
         return true;"
        ))
        .await;
}

const QUERY: &str = "return document.getElementById('query').textContent";
const SAVED: &str = "return document.body.dataset.saved || '0'";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_labeller_ranks_in_the_browser_and_the_file_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("candidates.jsonl"), candidates()).unwrap();
    let running = desk(dir.path());
    assert!(running.line.contains("2 of 2 requests"), "{}", running.line);
    let browser = Browser::start().await;
    browser
        .command(
            reqwest::Method::POST,
            "/url",
            json!({"url": running.links["Librarian Li"]}),
        )
        .await;
    browser.wait_for(QUERY, json!("What is 17 times 23?")).await;
    // Markup in a response is shown as text, never run or rendered.
    let shown = browser
        .script("return document.getElementById('response-2').textContent")
        .await;
    assert!(shown.as_str().unwrap().contains("<b>bold</b>"), "{shown}");
    // Keys: 3 then 1 — the last one left takes the last place — then Enter saves.
    browser.keys(&["3", "1"]).await;
    browser
        .wait_for(
            "return document.getElementById('save').disabled",
            json!(false),
        )
        .await;
    browser.keys(&["\u{E007}"]).await;
    browser.wait_for(SAVED, json!("1")).await;
    browser.wait_for(QUERY, json!("论文：引文分析")).await;
    // Clicks: the second response is best (the first takes the last place); then a drag
    // puts the first back on top; then the Save button.
    browser.click("#response-1").await;
    let ranking = "return Array.from(document.querySelectorAll('#ranking li'), (li) => li.textContent).join('')";
    browser.wait_for(ranking, json!("BA")).await;
    drag(&browser, 1, 0).await;
    browser.wait_for(ranking, json!("AB")).await;
    browser.click("#save").await;
    browser.wait_for(SAVED, json!("2")).await;
    browser
        .wait_for(QUERY, json!("Nothing left to rank."))
        .await;

    let text = std::fs::read_to_string(dir.path().join("comparisons.jsonl")).unwrap();
    let saved: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(saved.len(), 2, "{text}");
    let url = browser.script("return location.href").await;
    assert!(!url.to_string().contains("token"), "{url}");
    assert_eq!(saved[0]["id"], "calc-1");
    assert_eq!(saved[0]["ranking"], json!([2, 0, 1]));
    assert_eq!(saved[1]["id"], "lit-1");
    assert_eq!(saved[1]["ranking"], json!([0, 1]));
    for s in &saved {
        assert_eq!(s["ranker"], "Librarian Li");
        assert!(s["at"].as_str().unwrap().ends_with('Z'));
        assert!(s["responses"][0]["steps"].is_array());
    }

    browser
        .command(reqwest::Method::DELETE, "", json!({}))
        .await;
    hostile_requests(&running).await;
    drop(running);
    let again = desk(dir.path());
    assert!(again.line.contains("0 of 2 requests"), "{}", again.line);
}

/// Issue 31: the page was English only and wider than a phone. On a 320-pixel screen
/// nothing scrolls sideways; the labeller switches to Chinese, the choice outlives a
/// reload, and the requests and responses are shown as they are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_fits_a_phone_and_speaks_chinese() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("candidates.jsonl"), candidates()).unwrap();
    let running = desk(dir.path());
    let browser = Browser::start().await;
    browser
        .command(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setDeviceMetricsOverride",
                   "params": {"width": 320, "height": 640, "deviceScaleFactor": 2, "mobile": true}}),
        )
        .await;
    browser
        .command(
            reqwest::Method::POST,
            "/url",
            json!({"url": running.links["Clerk Wu"]}),
        )
        .await;
    browser.wait_for(QUERY, json!("What is 17 times 23?")).await;
    let fits =
        "return [window.innerWidth, document.documentElement.scrollWidth <= window.innerWidth]";
    browser.wait_for(fits, json!([320, true])).await;
    let heading = "return document.querySelector('h1').textContent";
    browser
        .wait_for(heading, json!("Miracle · rank the responses, best first"))
        .await;

    browser.click("#language").await;
    browser
        .wait_for(heading, json!("Miracle · 为回答排序，最好的在前"))
        .await;
    let words =
        "return [document.documentElement.lang, document.getElementById('save').textContent,
                         document.querySelector('#response-0 .kind').textContent,
                         document.getElementById('progress').textContent]";
    browser
        .wait_for(words, json!(["zh", "保存", "调用", "已排序 0 / 2"]))
        .await;
    browser.wait_for(fits, json!([320, true])).await;
    browser.script("location.reload(); return true").await;
    browser.wait_for(QUERY, json!("What is 17 times 23?")).await;
    browser
        .wait_for(heading, json!("Miracle · 为回答排序，最好的在前"))
        .await;
    browser
        .command(reqwest::Method::DELETE, "", json!({}))
        .await;
}

/// Extra headers of a request.
type Headers = Vec<(&'static str, String)>;

/// The desk's API refuses what it cannot save, with a reason, and stays up; it answers
/// only a labeller's token, only under its own host name, and never another site's page.
async fn hostile_requests(desk: &Desk) {
    miracle_experts::http::install_crypto_provider();
    let addr = &desk.addr;
    let wu = desk.token("Clerk Wu");
    let http = reqwest::Client::new();
    let rank = |body: String| {
        http.post(format!("http://{addr}/api/rank"))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {wu}"))
            .body(body)
            .send()
    };
    for (body, status, reason) in [
        ("{not json".to_string(), 400, "not a ranking"),
        (
            json!({"item": 0, "ranking": [0, 1]}).to_string(),
            400,
            "orders 2 of the 3",
        ),
        (
            json!({"item": 0, "ranking": [0, 0, 1]}).to_string(),
            400,
            "twice",
        ),
        (
            json!({"item": 0, "ranking": [0, 1, 7]}).to_string(),
            400,
            "only 3",
        ),
        (
            json!({"item": 99, "ranking": [0, 1]}).to_string(),
            404,
            "no request 99",
        ),
        (
            json!({"item": 0, "ranking": [0, 1, 2], "labeller": "x"}).to_string(),
            409,
            "ranked already",
        ),
        (
            format!("{{\"item\": 0, \"labeller\": \"{}\"}}", "x".repeat(100_000)),
            413,
            "",
        ),
    ] {
        let reply = rank(body).await.unwrap();
        assert_eq!(reply.status().as_u16(), status);
        let text = reply.text().await.unwrap();
        assert!(text.contains(reason), "{status}: {text}");
    }
    // Issue 28: no token, a wrong token, a foreign Host (DNS rebinding), a foreign Origin.
    let ranking = json!({"item": 1, "ranking": [0, 1], "labeller": "Librarian Li"}).to_string();
    let port = addr.rsplit(':').next().unwrap();
    let bearer = format!("Bearer {wu}");
    let attempts: [(Headers, u16, &str); 6] = [
        (vec![], 401, "token"),
        (
            vec![(
                "authorization",
                "Bearer 0123456789abcdef0123456789abcdef".into(),
            )],
            401,
            "token",
        ),
        (vec![("authorization", wu.clone())], 401, "token"),
        (
            vec![
                ("authorization", bearer.clone()),
                ("host", "attacker.example".into()),
            ],
            403,
            "Host",
        ),
        (
            vec![
                ("authorization", bearer.clone()),
                ("host", format!("evil.example:{port}")),
            ],
            403,
            "Host",
        ),
        (
            vec![
                ("authorization", bearer.clone()),
                ("origin", "http://evil.example".into()),
            ],
            403,
            "Origin",
        ),
    ];
    for (headers, status, reason) in attempts {
        let mut request = http
            .post(format!("http://{addr}/api/rank"))
            .header("content-type", "application/json")
            .body(ranking.clone());
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        let reply = request.send().await.unwrap();
        assert_eq!(reply.status().as_u16(), status, "{headers:?}");
        let text = reply.text().await.unwrap();
        assert!(text.contains(reason), "{status}: {text}");
    }
    let page = http
        .get(format!("http://{addr}/"))
        .header("host", "attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.status().as_u16(),
        403,
        "the page itself is not served to a foreign Host"
    );
    // Nothing refused was saved; a ranking with Wu's token is recorded under Wu, whatever
    // the body says, and the same origin's page may send it.
    let reply = http
        .post(format!("http://{addr}/api/rank"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {wu}"))
        .header("origin", format!("http://{addr}"))
        .body(json!({"item": 0, "ranking": [0, 1, 2], "labeller": "Librarian Li"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        reply.status().as_u16(),
        409,
        "ranked already by Li in the browser"
    );
    let next = http
        .get(format!("http://{addr}/api/next"))
        .header("authorization", format!("Bearer {wu}"))
        .send()
        .await
        .unwrap();
    assert_eq!(next.status().as_u16(), 200);
    let next: Value = next.json().await.unwrap();
    assert_eq!(next["labeller"], "Clerk Wu");
    assert_eq!(next["item"], Value::Null, "everything is ranked");
    let page = http.get(format!("http://{addr}/")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        !page.text().await.unwrap().contains("http://"),
        "the page loads nothing from elsewhere"
    );
}
