//! `miracle label serve`: the labelling page. A person sees a request and the K responses
//! the agent sampled for it — every thought, expert call and result — ranks them (click or
//! keys, drag to reorder) and moves on. Rankings are appended to the comparisons file
//! under a lock and synced before the page is told they are saved, so a crash or several
//! labellers at once lose nothing acknowledged; a restarted desk skips what is ranked.
//!
//! Several labellers can work at once: each request handed out is leased to its labeller
//! for ten minutes, so two people are not given the same one.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{StatusCode, header};
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
    ready: impl FnOnce(SocketAddr, usize, usize),
) -> anyhow::Result<()> {
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
    let desk = Arc::new(Desk {
        items,
        out,
        state: Mutex::new(Progress {
            done,
            leases: HashMap::new(),
        }),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let stop = crate::serve::shutdown()?;
        ready(listener.local_addr()?, remaining, total);
        crate::serve::listen::serve(listener, app(desk), Duration::from_secs(10), stop).await;
        Ok(())
    })
}

fn app(desk: Arc<Desk>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/next", get(next))
        .route("/api/rank", post(rank))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .with_state(desk)
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
    labeller: String,
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
async fn next(State(desk): State<Arc<Desk>>, Query(who): Query<Who>) -> Response {
    let labeller = match check_labeller(&who.labeller) {
        Ok(name) => name,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, message),
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
        return Json(json!({ "item": null, "remaining": remaining, "total": desk.items.len() }))
            .into_response();
    };
    state.leases.insert(item, (labeller, now));
    let c = &desk.items[item];
    Json(json!({
        "item": item,
        "id": c.prompt.id,
        "query": c.prompt.query,
        "responses": c.responses,
        "remaining": remaining,
        "total": desk.items.len(),
    }))
    .into_response()
}

#[derive(Deserialize)]
struct Ranking {
    item: usize,
    ranking: Vec<usize>,
    labeller: String,
}

async fn rank(
    State(desk): State<Arc<Desk>>,
    body: Result<Json<Ranking>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(ranking) = match body {
        Ok(body) => body,
        Err(e) => {
            return refuse(e.status(), format!("not a ranking: {}", e.body_text()));
        }
    };
    let labeller = match check_labeller(&ranking.labeller) {
        Ok(name) => name,
        Err(message) => return refuse(StatusCode::BAD_REQUEST, message),
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
