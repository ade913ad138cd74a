//! The loaded app: the Spin component compiled once, its ports opened, and one request run in a
//! fresh instance of it, as Spin runs one.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::BodyExt;
use tombstone_edge::Event;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, Store};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::http::{drain, edge_response, response, DrainOnDrop};
use super::options::{ServeOptions, MAX_REQUEST_BYTES};
use super::ports::kv::runtime_config::StoreLocation;
use super::ports::kv::sqlite::Durability;
use super::ports::kv::{Kv, Redis, Sqlite};
use super::ports::metrics::Metrics;
use super::ports::outbound::{self, Outbound};
use super::ports::spin::{self, SpinHost, SpinView};
use super::ports::variables::Variables;
use super::ports::{files, telemetry};

/// Epoch tick: the budget's resolution.
pub(super) const TICK: Duration = Duration::from_millis(100);
/// The wall-clock budget of one request beyond the component's own waits (its body timeout and
/// its upstream timeout): time to compute, store, and keep a dead letter.
const REQUEST_MARGIN: Duration = Duration::from_secs(10);
/// The most a component may write to stderr in one request (its events are a few lines).
const GUEST_STDERR_BYTES: usize = 4 << 20;
/// Per-request store data.
struct RequestState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    spin: SpinHost,
    outbound: Outbound,
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for RequestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}

fn spin_view(state: &mut RequestState) -> SpinView<'_> {
    SpinView {
        table: &mut state.table,
        host: &state.spin,
    }
}

/// The loaded app, shared by every connection.
pub struct App {
    pre: ProxyPre<RequestState>,
    pub(super) spin: SpinHost,
    outbound: Outbound,
    /// Wall-clock budget of one request: the component's body and upstream timeouts, plus
    /// [`REQUEST_MARGIN`]. It covers the outbound call, which the component waits for.
    budget: Duration,
    www: Option<PathBuf>,
    /// The metrics, when they are served.
    pub(super) metrics: Option<Arc<Metrics>>,
}

/// The engine: pooling allocator, epoch interruption for the request timeout.
fn engine() -> anyhow::Result<Engine> {
    let mut pooling = tombstone_harness::pooling(1000);
    pooling.max_memory_size(64 << 20);
    let mut config = Config::new();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    config.epoch_interruption(true);
    Ok(Engine::new(&config)?)
}

/// Opens the `default` store.
fn open_store(location: &StoreLocation, durability: Durability) -> anyhow::Result<Kv> {
    Ok(match location {
        StoreLocation::SqliteFile(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let store = Sqlite::open_with(path, durability)
                .with_context(|| format!("cannot open the key-value store {}", path.display()))?;
            Kv::sqlite(store, &format!("SQLite {}", path.display()))
        }
        StoreLocation::SqliteMemory => Kv::sqlite(Sqlite::in_memory()?, "SQLite in memory"),
        StoreLocation::Redis { url, prefix } => {
            // The URL may hold a password: every message shows it redacted.
            let shown = super::ports::kv::redis::redact(url);
            let store = Redis::connect(url, prefix)
                .with_context(|| format!("cannot use the Redis store at {shown}"))?;
            let under = if prefix.is_empty() {
                String::new()
            } else {
                format!(", keys under {prefix:?}")
            };
            Kv::redis(store, &format!("Redis {shown}{under}"))
        }
    })
}

/// The app's variables — `spin.toml`'s defaults, then `SPIN_VARIABLE_<NAME>`, then `overrides`
/// (`--var`) — checked as the component will read them: an unusable one is an error that names
/// it (never its value), so that `serve` refuses to start rather than answer every request
/// "not now". With them, every check that is off, in words (see
/// `tombstone_edge::Config::warnings`). `tombstone check-config` runs the same.
pub fn checked_variables(
    overrides: &[(String, String)],
) -> anyhow::Result<(Variables, Vec<String>)> {
    let declared: Vec<(&str, &str)> = tombstone_edge::config::variables()
        .iter()
        .map(|v| (v.name, v.default))
        .collect();
    let variables = Variables::new(&declared, std::env::vars(), overrides)?;
    let config = tombstone_edge::Config::from_variables(|name| variables.get(name))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((variables, config.warnings()))
}

/// The request budget for these variables: the longest the component may wait for a body and
/// for the upstream, plus a margin.
fn budget(variables: &Variables) -> Duration {
    let millis = |name: &str, default: u64| {
        variables
            .get(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(default)
            .min(600_000)
    };
    Duration::from_millis(millis("body_timeout_ms", 10_000) + millis("upstream_timeout_ms", 10_000))
        + REQUEST_MARGIN
}

impl App {
    /// The engine the component runs on (its epoch is the budget's clock).
    pub(super) fn engine(&self) -> &Engine {
        self.pre.engine()
    }

    pub(super) fn load(options: &ServeOptions) -> anyhow::Result<App> {
        let engine = engine()?;
        let bytes = std::fs::read(&options.component).with_context(|| {
            format!(
                "cannot read the Spin component at {}; build it with \
                 `cargo run --release -p xtask -- spin`",
                options.component.display()
            )
        })?;
        let component = tombstone_harness::compiled::component(&engine, &options.component, &bytes)
            .with_context(|| {
                format!(
                    "cannot load the Spin component at {}",
                    options.component.display()
                )
            })?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
        spin::add_to_linker(&mut linker, spin_view)?;
        let pre = ProxyPre::new(linker.instantiate_pre(&component)?)?;
        let metrics = options.metrics_listen.map(|_| Metrics::new());
        let kv = open_store(&options.kv, options.durability)?
            .fail_writes_to(options.fail_writes_to.clone())
            .observed(metrics.clone());
        let (variables, warnings) = checked_variables(&options.variables)?;
        for warning in warnings {
            tracing::warn!(target: "tombstone::config", "{warning}");
        }
        let outbound = Outbound::new(outbound::allowed_origins(|name| variables.get(name)))?;
        let budget = budget(&variables);
        Ok(App {
            pre,
            spin: SpinHost {
                kv,
                variables: Arc::new(variables),
            },
            outbound,
            budget,
            www: options.www.clone(),
            metrics,
        })
    }

    /// Answers one request; the events it yields are the component's (its `tombstone-event`
    /// lines on stderr), or the host's own summary for an answer the host gives itself.
    pub(super) async fn handle(
        self: Arc<Self>,
        req: hyper::Request<hyper::body::Incoming>,
    ) -> anyhow::Result<(hyper::Response<HyperOutgoingBody>, Vec<Event>)> {
        let path = req.uri().path().to_owned();
        if path == "/playground" || path.starts_with("/playground/") {
            let if_none_match = req
                .headers()
                .get(hyper::header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let answer = self.static_file(&path["/playground".len()..], if_none_match.as_deref());
            // A static file takes no body: what a client sends anyway is drained, within the
            // drain bounds, so that it gets the answer.
            drain(req.into_body());
            let summary = Event::Answered {
                route: "/playground/{file}".into(),
                status: answer.status().as_u16(),
                outcome: "ok".into(),
                task_id: None,
            };
            return Ok((answer, vec![summary]));
        }
        // A body declared longer than its route takes is refused before a byte of it is read,
        // with the document the component gives for one it stops reading.
        let limit = tombstone_edge::body_limit(req.uri().path());
        let declared = req
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|len| len > limit as u64) {
            let mut answer = tombstone_edge::body_too_large(&path, declared);
            tombstone_edge::summarize(&path, &mut answer);
            let events = std::mem::take(&mut answer.events);
            drain(req.into_body());
            return Ok((edge_response(answer), events));
        }
        // Declared and chunked bodies alike: the component reads at most MAX_REQUEST_BYTES.
        let (parts, body) = req.into_parts();
        let body = DrainOnDrop::new(body);
        let body = http_body_util::Limited::new(body, MAX_REQUEST_BYTES as usize).map_err(|e| {
            match e.downcast::<hyper::Error>() {
                Ok(e) => wasmtime_wasi_http::Error::Hyper(*e),
                Err(_) => wasmtime_wasi_http::Error::HttpRequestBodySize(Some(MAX_REQUEST_BYTES)),
            }
        });
        let (answer, events, _after) = self.call(hyper::Request::from_parts(parts, body)).await?;
        Ok((answer, events))
    }

    /// Runs the component on one request, as Spin does: a fresh instance, its answer as soon as
    /// it sets one, and the instance left running after that until its handler returns (relay
    /// mode's dispatcher runs there). The events it writes before its answer are the request's;
    /// those it writes after are logged and counted when it ends, which the returned handle
    /// awaits.
    pub(super) async fn call<B>(
        self: &Arc<Self>,
        req: hyper::Request<B>,
    ) -> anyhow::Result<(
        hyper::Response<HyperOutgoingBody>,
        Vec<Event>,
        tokio::task::JoinHandle<()>,
    )>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        // The component's stderr: its event lines become logs and metrics, anything else is
        // passed on.
        let stderr = MemoryOutputPipe::new(GUEST_STDERR_BYTES);
        let mut store = Store::new(
            self.pre.engine(),
            RequestState {
                wasi: WasiCtx::builder().stderr(stderr.clone()).build(),
                http: WasiHttpCtx::new(),
                table: ResourceTable::new(),
                spin: self.spin.clone(),
                outbound: self.outbound.clone(),
            },
        );
        store.set_epoch_deadline((self.budget.as_millis() / TICK.as_millis()) as u64);
        store.epoch_deadline_trap();
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, req)?;
        let out = store.data_mut().http().new_response_outparam(sender)?;
        let pre = self.pre.clone();
        let task = tokio::task::spawn(async move {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, incoming, out)
                .await
        });
        let Ok(answer) = tokio::time::timeout(self.budget, receiver).await else {
            task.abort();
            anyhow::bail!("the component did not answer within {:?}", self.budget);
        };
        match answer {
            Ok(Ok(resp)) => {
                let answered = stderr.contents();
                let seen = answered.len();
                let metrics = self.metrics.clone();
                // What it does after its answer, once it is done (the epoch deadline bounds it).
                let after = tokio::task::spawn(async move {
                    if let Ok(Err(e)) = task.await {
                        tracing::warn!(target: "tombstone::host", error = %format!("{e:#}"), "the component failed after its answer");
                    }
                    let all = stderr.contents();
                    let after = all.get(seen..).unwrap_or_default();
                    telemetry::noted_all(metrics.as_deref(), telemetry::guest_events(after));
                });
                Ok((resp, telemetry::guest_events(&answered), after))
            }
            Ok(Err(e)) => Err(e.into()),
            Err(_) => {
                let e = match task.await {
                    Ok(Ok(())) => anyhow::anyhow!("the component never set a response"),
                    Ok(Err(e)) => anyhow::Error::from(e),
                    Err(e) => e.into(),
                };
                Err(e.context("the component failed"))
            }
        }
    }

    /// Relay mode's dispatcher with no request arriving: every `period`, one request the host
    /// makes itself (`GET /healthz`, answered and dropped), after which the component runs its
    /// dispatch exactly as it does after any request on Spin.
    pub(super) async fn dispatch_every(self: Arc<Self>, period: Duration) {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let req = hyper::Request::get("http://localhost/healthz")
                .header(hyper::header::HOST, "localhost")
                .body(http_body_util::Empty::<Bytes>::new())
                .expect("a valid request");
            match self.call(req).await {
                Ok((answer, events, after)) => {
                    // The answer is read to its end, as a client would; the next tick waits
                    // for this dispatch to end, so that slow attempts never pile up.
                    let _ = answer.into_body().collect().await;
                    telemetry::noted_all(self.metrics.as_deref(), events);
                    let _ = after.await;
                }
                Err(e) => {
                    tracing::warn!(target: "tombstone::host", error = %format!("{e:#}"), "the dispatch tick failed");
                }
            }
        }
    }

    /// `/playground/<file>` from the www folder; `/playground/` is its `index.html`. Answered as
    /// Spin's fileserver answers (see [`files`]).
    fn static_file(
        &self,
        rest: &str,
        if_none_match: Option<&str>,
    ) -> hyper::Response<HyperOutgoingBody> {
        let not_found = || {
            let mut r = response(404, "text/plain", "Not Found\n".into());
            r.headers_mut().remove(hyper::header::CONTENT_TYPE);
            r
        };
        let Some(www) = &self.www else {
            return not_found();
        };
        let files::Lookup::File(relative) = files::lookup(rest) else {
            return not_found();
        };
        let Some(bytes) = files::read(www, &relative) else {
            return not_found();
        };
        let etag = files::etag(&bytes);
        let fresh = if_none_match.is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim().trim_matches('"') == etag || t.trim() == "*")
        });
        let mut r = if fresh {
            response(304, files::content_type(&relative), Bytes::new())
        } else {
            response(200, files::content_type(&relative), bytes.into())
        };
        let headers = r.headers_mut();
        headers.insert(
            hyper::header::CACHE_CONTROL,
            hyper::header::HeaderValue::from_static("max-age=60"),
        );
        headers.insert(
            hyper::header::ETAG,
            hyper::header::HeaderValue::from_str(&etag).expect("hex is a header value"),
        );
        r
    }
}
