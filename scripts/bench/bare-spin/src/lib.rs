//! One `wasi:keyvalue/atomics.increment` per request on Spin's default store, answered 200.
use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;
use spin_sdk::wit::wasi::keyvalue::{atomics, store};

#[http_component]
fn handle(_req: Request) -> anyhow::Result<impl IntoResponse> {
    let bucket = store::open("default").map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let n = atomics::increment(&bucket, "hits", 1).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(Response::new(200, n.to_string()))
}
