//! The HTTP/1.1 listener: one connection per task, at most `--max-connections` at once, a
//! deadline for a request's head, the dispatch tick, `/metrics` on its own address, and a
//! graceful stop at SIGTERM or SIGINT.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hyper::server::conn::http1;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::app::{App, TICK};
use super::fingerprint;
use super::http::{edge_response, response};
use super::options::ServeOptions;
use super::ports::metrics::{self, Metrics};
use super::ports::telemetry;

/// How long a client may take to send a request's head (slow headers hold a connection).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// `GET /metrics` on its own listener.
async fn serve_metrics(listener: tokio::net::TcpListener, metrics: Arc<Metrics>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let metrics = metrics.clone();
        tokio::task::spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<_>| {
                let metrics = metrics.clone();
                async move {
                    let answer = if req.uri().path() == "/metrics" {
                        response(200, metrics::CONTENT_TYPE, metrics.render().into())
                    } else {
                        response(404, "text/plain", "not found\n".into())
                    };
                    Ok::<_, std::convert::Infallible>(answer)
                }
            });
            let _ = http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(client), service)
                .await;
        });
    }
}

/// Serves until SIGTERM or SIGINT, then lets the requests in flight finish within the grace
/// period.
pub(super) async fn serve(options: ServeOptions) -> anyhow::Result<()> {
    let server = Arc::new(App::load(&options)?);
    let engine = server.engine().clone();
    std::thread::spawn(move || loop {
        std::thread::sleep(TICK);
        engine.increment_epoch();
    });
    fingerprint::check(&server, &options.component).await?;
    let listener = listen(&options, &server).await?;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let connections = Arc::new(tokio::sync::Semaphore::new(options.max_connections.max(1)));
    let mut backoff = ACCEPT_BACKOFF_MIN;
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            signal = &mut stop => {
                tracing::info!(target: "tombstone::host", signal, "stopping: no new connections; requests in flight may finish");
                break;
            }
            accepted = listener.accept() => accepted,
        };
        let client = match accepted {
            Ok((client, _)) => {
                backoff = ACCEPT_BACKOFF_MIN;
                client
            }
            // EMFILE and its kin pass: log, wait a little longer each time, accept again.
            Err(error) => {
                tracing::warn!(target: "tombstone::host", %error, retry_in_ms = backoff.as_millis() as u64, "accept failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        // Past --max-connections, a new connection is closed at once (its client retries).
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!(target: "tombstone::host", max = options.max_connections, "too many connections: a new one was closed");
            drop(client);
            continue;
        };
        let watcher = graceful.watcher();
        tokio::task::spawn(connection(server.clone(), client, watcher, permit));
    }
    // New connections are refused from here; open ones finish the request they are in (a
    // keep-alive connection closes after it), within the grace period.
    drop(listener);
    if tokio::time::timeout(options.grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(target: "tombstone::host", grace_ms = options.grace.as_millis() as u64, "requests still in flight after the grace period were dropped");
    }
    tracing::info!(target: "tombstone::host", "stopped");
    Ok(())
}

/// Binds the service's address (and the metrics', if asked), says both on stdout, and starts
/// what runs beside the requests: `/metrics` and the dispatch tick.
async fn listen(
    options: &ServeOptions,
    server: &Arc<App>,
) -> anyhow::Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("cannot listen on {}", options.listen))?;
    let metrics_listener = match options.metrics_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} for metrics"))?,
        ),
        None => None,
    };
    // The first line names the service's address (scripts and tests read it). Whoever started
    // the server may close its end of stdout after that line: a write that fails then is no
    // reason to stop serving.
    let announce = |line: String| {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    };
    announce(format!(
        "tombstone: listening on http://{} (component {}, key-value {})",
        listener.local_addr()?,
        options.component.display(),
        server.spin.kv.description()
    ));
    if let (Some(metrics_listener), Some(metrics)) = (metrics_listener, server.metrics.clone()) {
        announce(format!(
            "tombstone: metrics on http://{}/metrics",
            metrics_listener.local_addr()?
        ));
        tokio::task::spawn(serve_metrics(metrics_listener, metrics));
    }
    if let Some(period) = options.dispatch_every {
        tokio::task::spawn(server.clone().dispatch_every(period));
    }
    Ok(listener)
}

/// One connection, its requests answered one after another until it closes (or the server
/// stops, after the request it is in); it holds one of `--max-connections`' places.
async fn connection(
    app: Arc<App>,
    client: tokio::net::TcpStream,
    watcher: hyper_util::server::graceful::Watcher,
    _place: tokio::sync::OwnedSemaphorePermit,
) {
    let service = hyper::service::service_fn(move |req: hyper::Request<_>| {
        let app = app.clone();
        async move { Ok::<_, std::convert::Infallible>(answer(app, req).await) }
    });
    let connection = http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true)
        .serve_connection(TokioIo::new(client), service);
    let _ = watcher.watch(connection).await;
}

/// One request's answer, logged and counted; a request the component could not run is answered
/// "not now" in the status the route's source retries (HighLevel: 429).
async fn answer(
    app: Arc<App>,
    req: hyper::Request<hyper::body::Incoming>,
) -> hyper::Response<HyperOutgoingBody> {
    let started = std::time::Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let (answer, events) = match app.clone().handle(req).await {
        Ok(answered) => answered,
        Err(e) => {
            tracing::error!(target: "tombstone::host", error = %format!("{e:#}"), "request failed");
            let mut answer = tombstone_edge::not_now(&path);
            tombstone_edge::summarize(&path, &mut answer);
            let events = std::mem::take(&mut answer.events);
            (edge_response(answer), events)
        }
    };
    telemetry::answered(
        app.metrics.as_deref(),
        &method,
        answer.status().as_u16(),
        events,
        started.elapsed(),
    );
    answer
}

/// The first wait after a failed `accept`, and the longest.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Resolves with the signal's name at SIGTERM or SIGINT.
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}
