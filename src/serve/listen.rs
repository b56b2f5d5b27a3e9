//! The accept loop: hyper's HTTP/1 server with a timer, so that a client which opens a
//! connection and never finishes its headers (slowloris) is cut off after
//! `limits.header_timeout`; slow bodies are bounded by the request timeout. On the stop
//! signal it stops accepting and lets the requests in progress finish (for up to 30 s).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;

use super::log;

/// How long the requests in progress get to finish after the stop signal.
const DRAIN: Duration = Duration::from_secs(30);

pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    stop: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a moment, go on.
                        log(json!({"event": "accept failed", "message": e.to_string()}));
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(
                        TokioIo::new(JsonRefusals::new(stream)),
                        TowerToHyperService::new(app.clone()),
                    );
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut stop => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN) => {
            log(json!({"event": "warning", "message": "requests still in progress after 30 s were cut off"}));
        }
    }
}

/// A connection whose refusals by hyper itself carry a JSON body. hyper answers a request
/// it cannot parse (400), a URI over 64 KiB (414) or headers over its buffer (431) on its
/// own, before the service sees anything, with an empty body; every other refusal of the
/// service has a JSON error body, so clients can read them all the same way. This stream
/// recognises those replies as they are written (a head with `content-length: 0` and one
/// of those statuses: the service never sends one, since `observe` gives every refusal a
/// body) and writes them with the body added.
pub(crate) struct JsonRefusals<S> {
    inner: S,
    /// A rewritten reply not yet written through, and how much of it is.
    pending: Vec<u8>,
    written: usize,
}

impl<S> JsonRefusals<S> {
    pub(crate) fn new(inner: S) -> Self {
        JsonRefusals {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

impl<S: AsyncWrite + Unpin> JsonRefusals<S> {
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonRefusals<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonRefusals<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        ready!(self.drain(cx))?;
        if let Some(reply) = with_json_body(buf) {
            // Taken whole: written through here and by the flush hyper calls next.
            self.pending = reply;
            if let Poll::Ready(Err(e)) = self.drain(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// hyper's own empty refusal, rewritten with a JSON body; `None` for anything else.
fn with_json_body(head: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(head).ok()?;
    let rest = text
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| text.strip_prefix("HTTP/1.0 "))?;
    let code: u16 = rest.get(..3)?.parse().ok()?;
    let message = match code {
        400 => "the request is not valid HTTP",
        414 => "the URI is too long",
        431 => "the request's headers are too large",
        _ => return None,
    };
    let head = text.strip_suffix("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut kept = Vec::new();
    let mut empty = false;
    for line in lines {
        let lower = line.to_ascii_lowercase();
        if lower == "content-length: 0" {
            empty = true;
        } else if !lower.starts_with("content-type:") && !lower.starts_with("connection:") {
            kept.push(line);
        }
    }
    if !empty {
        return None;
    }
    let body =
        json!({"error": {"message": message, "type": "invalid_request_error", "code": code}})
            .to_string();
    let mut reply = format!("{status_line}\r\n");
    for line in kept {
        reply.push_str(line);
        reply.push_str("\r\n");
    }
    reply.push_str(&format!(
        "content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    ));
    Some(reply.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::with_json_body;

    #[test]
    fn only_hypers_empty_refusals_are_rewritten() {
        let head = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Fri, 04 Dec 2026 14:00:00 GMT\r\n\r\n";
        let reply = String::from_utf8(with_json_body(head).unwrap()).unwrap();
        let (head, body) = reply.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 "), "{head}");
        assert!(head.contains("date: Fri"), "{head}");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["error"]["code"], 431);
        for other in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}",
            b"\xff\xfe",
        ] {
            assert!(with_json_body(other).is_none(), "{other:?}");
        }
    }
}
