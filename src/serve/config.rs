//! The service's config file (YAML), e.g.:
//!
//! ```yaml
//! listen: 127.0.0.1:8080
//! workflows: workflows/          # every *.yaml there, checked at start, by name
//! keys:                          # none: no key is asked for (development only)
//!   - name: reference-desk
//!     key_env: MIRACLE_KEY_DESK  # or key: "…" (keep such a file private)
//!     per_second: 10             # sustained requests a second, and the burst above it
//!     burst: 20
//! cors:                          # a web page on another origin may call the API
//!   origins: [https://library.example.org]   # exact origins, or ["*"]
//!   max_age: 10m                 # how long a browser may cache a preflight answer
//! limits:
//!   body_bytes: 65536
//!   timeout: 30s                 # whole request, body included
//!   header_timeout: 10s          # to send the headers (slow clients are cut off)
//!   concurrency: 64              # requests in progress; more are refused with 503
//!   workers: 2                   # model threads for /v1/ask, chat and workflows
//!   queue: 64                    # requests waiting for a model thread; more get 503
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use miracle_experts::search::Markup;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// A model directory; the embedded default model when absent (or the plugin file's
    /// tuned model).
    pub model: Option<PathBuf>,
    /// A plugin file (docs/PLUGINS.md): its experts join the agent's, and its tuned model
    /// answers unless `model` names another.
    pub experts: Option<PathBuf>,
    /// How answers' APA citations write italics, unless a /v1/ask request says: `plain`,
    /// `markdown` (what chat front-ends render) or `html`.
    #[serde(default)]
    pub markup: Markup,
    /// A literature index for /v1/search; the shipped corpora's when absent.
    pub index: Option<PathBuf>,
    /// The folder of workflows served at /v1/workflows/{name}/run.
    pub workflows: Option<PathBuf>,
    #[serde(default)]
    pub keys: Vec<KeyConfig>,
    #[serde(default)]
    pub limits: Limits,
    /// Cross-origin access for browsers; none when absent (same origin only).
    pub cors: Option<Cors>,
    /// `keys` with their secrets, read once when the file is (a variable that changes
    /// later changes nothing).
    #[serde(skip)]
    pub api_keys: Vec<ApiKey>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Who holds the key: shown in logs and metrics, never the key itself.
    pub name: String,
    pub key: Option<String>,
    /// The environment variable that holds the key.
    pub key_env: Option<String>,
    #[serde(default = "default_per_second")]
    pub per_second: f64,
    #[serde(default = "default_burst")]
    pub burst: u32,
}

/// Which web pages (origins) a browser lets call the service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cors {
    /// `scheme://host[:port]` as a browser sends it in `Origin`, or `*` alone for any page.
    pub origins: Vec<String>,
    #[serde(with = "duration", default = "default_max_age")]
    pub max_age: Duration,
}

fn default_max_age() -> Duration {
    Duration::from_secs(600)
}

impl Cors {
    /// Any origin (`*`), or the listed ones, each checked to be an origin a browser sends.
    pub fn any(&self) -> bool {
        self.origins.iter().any(|o| o == "*")
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.origins.is_empty() {
            bail!("cors.origins: list the origins allowed, or [\"*\"] for any");
        }
        if self.any() && self.origins.len() > 1 {
            bail!("cors.origins: `*` allows every origin; list no other beside it");
        }
        for origin in self.origins.iter().filter(|o| *o != "*") {
            let rest = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            let valid = rest.is_some_and(|host| {
                !host.is_empty()
                    && host
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
            });
            if !valid {
                bail!(
                    "cors.origins: `{origin}` is not an origin; write scheme://host[:port], as in https://library.example.org (no path, no trailing slash)"
                );
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub body_bytes: usize,
    #[serde(with = "duration")]
    pub timeout: Duration,
    /// How long a client may take to send its request's headers.
    #[serde(with = "duration")]
    pub header_timeout: Duration,
    pub concurrency: usize,
    pub workers: usize,
    pub queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 64 * 1024,
            timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            concurrency: 64,
            workers: 2,
            queue: 64,
        }
    }
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: default_listen(),
            model: None,
            index: None,
            workflows: None,
            experts: None,
            markup: Markup::Plain,
            keys: Vec::new(),
            limits: Limits::default(),
            cors: None,
            api_keys: Vec::new(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_per_second() -> f64 {
    10.0
}

fn default_burst() -> u32 {
    20
}

/// A key and its limits, read and checked.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub name: String,
    pub secret: String,
    pub per_second: f64,
    pub burst: u32,
}

impl ServeConfig {
    /// Reads `path`; relative paths in it are read from its folder.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let mut config: ServeConfig = crate::cmd::read_yaml(path, "service config")?;
        let base = path.parent().unwrap_or(Path::new(""));
        for dir in [
            &mut config.model,
            &mut config.index,
            &mut config.workflows,
            &mut config.experts,
        ]
        .into_iter()
        .flatten()
        {
            if dir.is_relative() {
                *dir = base.join(&*dir);
            }
        }
        config.api_keys = config
            .check()
            .with_context(|| format!("{}", path.display()))?;
        Ok(config)
    }

    /// Checks the limits and returns the keys, read.
    fn check(&self) -> anyhow::Result<Vec<ApiKey>> {
        let l = &self.limits;
        if l.body_bytes == 0 || l.concurrency == 0 || l.workers == 0 || l.queue == 0 {
            bail!("limits: body_bytes, concurrency, workers and queue must be at least 1");
        }
        if l.workers > 64 {
            bail!("limits.workers is {}; at most 64 model threads", l.workers);
        }
        if l.timeout.is_zero() || l.header_timeout.is_zero() {
            bail!("limits.timeout and limits.header_timeout must be longer than zero");
        }
        if let Some(cors) = &self.cors {
            cors.check()?;
        }
        self.read_keys()
    }

    /// The keys, each with its secret read (from the file or the environment).
    fn read_keys(&self) -> anyhow::Result<Vec<ApiKey>> {
        let mut keys: Vec<ApiKey> = Vec::new();
        for (i, k) in self.keys.iter().enumerate() {
            let at = format!("keys[{i}] ({})", k.name);
            let secret = match (&k.key, &k.key_env) {
                (Some(key), None) => key.clone(),
                (None, Some(var)) => std::env::var(var)
                    .with_context(|| format!("{at}: environment variable {var} is not set"))?,
                _ => bail!("{at}: give exactly one of key: or key_env:"),
            };
            if secret.len() < 16 {
                bail!(
                    "{at}: the key is {} characters; use at least 16 (e.g. `openssl rand -hex 24`)",
                    secret.len()
                );
            }
            if !(k.per_second.is_finite() && k.per_second > 0.0) || k.burst == 0 {
                bail!("{at}: per_second must be above 0 and burst at least 1");
            }
            if keys.iter().any(|o| o.name == k.name) {
                bail!("{at}: the name {} is used twice", k.name);
            }
            keys.push(ApiKey {
                name: k.name.clone(),
                secret,
                per_second: k.per_second,
                burst: k.burst,
            });
        }
        Ok(keys)
    }
}

/// `30s`, `500ms`, `2m` in the config, read as workflows read them.
mod duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, de};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        miracle_router::workflow::duration(&text).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(origins: &[&str]) -> anyhow::Result<()> {
        Cors {
            origins: origins.iter().map(|o| o.to_string()).collect(),
            max_age: default_max_age(),
        }
        .check()
    }

    #[test]
    fn cors_origins_are_origins_a_browser_sends() {
        assert!(cors(&["https://library.example.org", "http://127.0.0.1:8000"]).is_ok());
        assert!(cors(&["*"]).is_ok());
        for bad in [
            &[][..],
            &["*", "https://a.org"],
            &["https://a.org/"],
            &["https://a.org/chat"],
            &["a.org"],
            &["ftp://a.org"],
            &["https://"],
            &["https://a.org\r\nX-Injected: 1"],
        ] {
            let error = cors(bad).expect_err("refused").to_string();
            assert!(error.starts_with("cors.origins: "), "{bad:?}: {error}");
        }
    }
}
