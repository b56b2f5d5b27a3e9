//! `miracle label serve`: the labelling page. A person sees a request and the K responses
//! the agent sampled for it — every thought, expert call and result — ranks them (click or
//! keys, drag to reorder) and moves on. Rankings are appended to the comparisons file
//! under a lock and synced before the page is told they are saved, so a crash or several
//! labellers at once lose nothing acknowledged; a restarted desk skips what is ranked.
//!
//! Several labellers can work at once: each request handed out is leased to its labeller
//! for ten minutes, so two people are not given the same one.
//!
//! Who may rank: each labeller named at start gets a secret token, in the link the desk
//! prints for them (`/#token=…`; a fragment, so it never reaches a log or a Referer). The
//! API answers only a request that carries a token, and records the ranking under that
//! token's labeller, whatever the request says. Every request must also name this desk in
//! `Host` (and in `Origin`, when a browser sends one): a page elsewhere that rebinds its DNS
//! name to this machine is refused, and cannot read or rank.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use miracle_router::rlhf::comparison::{
    Candidates, Comparison, append_line, now_utc, read_candidates,
};
use serde::Deserialize;
use serde_json::json;

/// The page: one file, no external assets.
const PAGE: &str = include_str!("page.html");
const LEASE: Duration = Duration::from_secs(600);
const MAX_LABELLER: usize = 64;

struct Desk {
    /// Candidates with at least two responses to rank.
    items: Vec<Candidates>,
    out: PathBuf,
    state: Mutex<Progress>,
    /// Token → labeller.
    tokens: HashMap<String, String>,
    /// The `host:port` names this desk answers to, lower-cased.
    hosts: HashSet<String>,
}

/// Who may use the desk, and by which names it is reached.
#[derive(Debug, Clone)]
pub struct Access {
    /// One token is made for each.
    pub labellers: Vec<String>,
    /// Host names (besides the listening address, and localhost on loopback) that people
    /// type to reach the desk, e.g. a machine's name on the library's network.
    pub hosts: Vec<String>,
}

/// A labeller's link to the desk.
pub struct Link {
    pub labeller: String,
    pub url: String,
}

#[derive(Default)]
struct Progress {
    /// Ids of the requests ranked, in the file already or in this session.
    done: HashSet<String>,
    /// Item → (labeller, when it was handed out).
    leases: HashMap<usize, (String, Instant)>,
}

/// Reads the candidates and what `out` holds already; binds `listen`; serves until Ctrl-C
/// or SIGTERM. `ready` is told the address once the desk listens.
pub fn serve(
    candidates: &std::path::Path,
    out: PathBuf,
    listen: SocketAddr,
    access: &Access,
    ready: impl FnOnce(SocketAddr, usize, usize, &[Link]),
) -> anyhow::Result<()> {
    let mut labellers = Vec::new();
    for name in &access.labellers {
        let name = check_labeller(name).map_err(|m| anyhow::anyhow!("--labeller: {m}"))?;
        anyhow::ensure!(
            !labellers.contains(&name),
            "--labeller: {name} is named twice; each labeller gets one link"
        );
        labellers.push(name);
    }
    anyhow::ensure!(
        !labellers.is_empty(),
        "--labeller: name at least one labeller"
    );
    let tokens: HashMap<String, String> = labellers
        .into_iter()
        .map(|name| Ok((token()?, name)))
        .collect::<anyhow::Result<_>>()?;
    let items: Vec<Candidates> = read_candidates(candidates)?
        .into_iter()
        .filter(|c| c.responses.len() >= 2)
        .collect();
    anyhow::ensure!(
        !items.is_empty(),
        "{}: no request has two responses to rank; sample more (miracle label sample --k)",
        candidates.display()
    );
    let done: HashSet<String> = if out.exists() {
        miracle_router::rlhf::comparison::read_comparisons(&out)
            .with_context(|| {
                format!(
                    "{} holds rankings the desk cannot read; fix or move it",
                    out.display()
                )
            })?
            .into_iter()
            .map(|c| c.candidates.prompt.id)
            .collect()
    } else {
        HashSet::new()
    };
    let remaining = items
        .iter()
        .filter(|c| !done.contains(&c.prompt.id))
        .count();
    let total = items.len();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        let hosts = hosts(addr, &access.hosts);
        // Links name the listening address, or on every address the first name given.
        let shown = match (addr.ip().is_unspecified(), access.hosts.first()) {
            (false, _) => url_host(addr.ip()),
            (true, Some(name)) => name.clone(),
            (true, None) => "localhost".into(),
        };
        let mut links: Vec<Link> = tokens
            .iter()
            .map(|(token, labeller)| Link {
                labeller: labeller.clone(),
                url: format!("http://{shown}:{}/#token={token}", addr.port()),
            })
            .collect();
        links.sort_by(|a, b| a.labeller.cmp(&b.labeller));
        let desk = Arc::new(Desk {
            items,
            out,
            state: Mutex::new(Progress {
                done,
                leases: HashMap::new(),
            }),
            tokens,
            hosts,
        });
        let stop = crate::serve::shutdown()?;
        ready(addr, remaining, total, &links);
        crate::serve::listen::serve(listener, app(desk), Duration::from_secs(10), stop).await;
        Ok(())
    })
}

/// An address as a URL's host names it (IPv6 in brackets).
fn url_host(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
        v4 => v4.to_string(),
    }
}

/// A secret: 128 random bits from the operating system, in hex.
fn token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The `host:port` names a request may carry: the listening address, localhost where it
/// listens on loopback (or on every address), and the names given.
fn hosts(addr: SocketAddr, named: &[String]) -> HashSet<String> {
    let port = addr.port();
    let mut hosts = HashSet::from([format!("{}:{port}", url_host(addr.ip()))]);
    if addr.ip().is_loopback() || addr.ip().is_unspecified() {
        for local in ["localhost", "127.0.0.1", "[::1]"] {
            hosts.insert(format!("{local}:{port}"));
        }
    }
    for name in named {
        hosts.insert(format!("{}:{port}", name.trim().to_ascii_lowercase()));
    }
    hosts
}

fn app(desk: Arc<Desk>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/next", get(next))
        .route("/api/rank", post(rank))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(middleware::from_fn_with_state(desk.clone(), same_origin))
        .with_state(desk)
}

/// Refuses a request that does not name this desk as its Host, or that a page of another
/// origin sends (DNS rebinding, cross-site requests).
async fn same_origin(State(desk): State<Arc<Desk>>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    let Some(host) = host.filter(|h| desk.hosts.contains(h)) else {
        return refuse(
            StatusCode::FORBIDDEN,
            "this desk answers only to its own address (Host); start it with --allow-host NAME to reach it by another name",
        );
    };
    if let Some(origin) = headers.get(header::ORIGIN) {
        let expected = format!("http://{host}");
        if origin.to_str().map(str::to_ascii_lowercase).ok() != Some(expected) {
            return refuse(
                StatusCode::FORBIDDEN,
                "requests from another site's page are refused (Origin)",
            );
        }
    }
    next.run(request).await
}

/// The labeller whose token the request carries.
fn labeller_of(desk: &Desk, headers: &HeaderMap) -> Option<String> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    token.and_then(|t| {
        // Constant time per comparison, so a token cannot be guessed byte by byte.
        desk.tokens.iter().find_map(|(known, name)| {
            bool::from(subtle::ConstantTimeEq::ct_eq(
                known.as_bytes(),
                t.as_bytes(),
            ))
            .then(|| name.clone())
        })
    })
}

fn unauthorized() -> Response {
    refuse(
        StatusCode::UNAUTHORIZED,
        "open the link `miracle label serve` printed for you: it carries your token",
    )
}

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // The page runs its own script and nothing else; it loads nothing from elsewhere.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
            ),
        ],
        PAGE,
    )
        .into_response()
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

#[derive(Deserialize)]
struct Who {
    /// Items this labeller skipped (comma-separated): not handed to them again.
    #[serde(default)]
    skip: String,
}

fn check_labeller(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_LABELLER || name.chars().any(char::is_control)
    {
        return Err(format!(
            "labeller: your name, 1 to {MAX_LABELLER} characters"
        ));
    }
    Ok(name.to_string())
}

/// The next request for this labeller: theirs if they hold a lease, else the first that is
/// neither ranked nor leased to someone else.
async fn next(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    who: Result<Query<Who>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Some(labeller) = labeller_of(&desk, &headers) else {
        return unauthorized();
    };
    let who = match who {
        Ok(Query(who)) => who,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let skipped: HashSet<usize> = who
        .skip
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mut state = desk.state.lock().expect("the desk's lock");
    let now = Instant::now();
    state.leases.retain(|i, (holder, at)| {
        now.duration_since(*at) < LEASE && !(*holder == labeller && skipped.contains(i))
    });
    let open = |i: &usize| !state.done.contains(&desk.items[*i].prompt.id);
    let mine = state
        .leases
        .iter()
        .find(|(i, (holder, _))| *holder == labeller && open(i))
        .map(|(i, _)| *i);
    let free = || {
        (0..desk.items.len())
            .find(|i| open(i) && !state.leases.contains_key(i) && !skipped.contains(i))
    };
    let remaining = (0..desk.items.len()).filter(|i| open(i)).count();
    let Some(item) = mine.or_else(free) else {
        return Json(json!({ "item": null, "remaining": remaining, "total": desk.items.len(), "labeller": labeller }))
            .into_response();
    };
    state.leases.insert(item, (labeller.clone(), now));
    let c = &desk.items[item];
    Json(json!({
        "item": item,
        "id": c.prompt.id,
        "query": c.prompt.query,
        "responses": c.responses,
        "remaining": remaining,
        "total": desk.items.len(),
        "labeller": labeller,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct Ranking {
    item: usize,
    ranking: Vec<usize>,
}

async fn rank(
    State(desk): State<Arc<Desk>>,
    headers: HeaderMap,
    body: Result<Json<Ranking>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Some(labeller) = labeller_of(&desk, &headers) else {
        return unauthorized();
    };
    let Json(ranking) = match body {
        Ok(body) => body,
        Err(e) => {
            return refuse(e.status(), format!("not a ranking: {}", e.body_text()));
        }
    };
    let Some(candidates) = desk.items.get(ranking.item) else {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("there is no request {}", ranking.item),
        );
    };
    let comparison = Comparison {
        candidates: candidates.clone(),
        ranking: ranking.ranking,
        ranker: labeller,
        at: now_utc(),
    };
    if let Err(message) = comparison.check() {
        return refuse(StatusCode::BAD_REQUEST, message);
    }
    let mut state = desk.state.lock().expect("the desk's lock");
    if state.done.contains(&candidates.prompt.id) {
        return refuse(StatusCode::CONFLICT, "this request is ranked already");
    }
    // Appended and synced while the lock is held: what the page is told is what is on disk.
    if let Err(e) = append_line(&desk.out, &comparison) {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, format!("not saved: {e}"));
    }
    state.done.insert(candidates.prompt.id.clone());
    state.leases.remove(&ranking.item);
    let remaining = (0..desk.items.len())
        .filter(|i| !state.done.contains(&desk.items[*i].prompt.id))
        .count();
    Json(json!({ "saved": true, "remaining": remaining })).into_response()
}
