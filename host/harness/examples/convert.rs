//! The harness as a program: converts one payload file in a fresh instance of the plugin and
//! prints the outcome's JSON (a conversion, or an RFC 9457 problem).
//!
//! ```text
//! cargo run --release -p xtask -- plugin        # builds target/wasm/tombstone_adapter.wasm
//! cargo run -p tombstone-harness --example convert -- payload.json acme-vet
//! ```

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use tombstone_core::{RawContext, Timestamp};
use tombstone_harness::{find_component, outcome_json, Plugin};

fn main() -> anyhow::Result<ExitCode> {
    let mut args = std::env::args().skip(1);
    let (Some(file), Some(organization)) = (args.next(), args.next()) else {
        eprintln!("usage: convert PAYLOAD.json ORGANIZATION");
        return Ok(ExitCode::from(2));
    };
    let payload = std::fs::read(&file)?;
    let plugin = Plugin::load(&find_component()?)?;
    let context = RawContext {
        organization_id: Some(organization),
        // The plugin reads no clock: the caller says when the delivery arrived.
        received_at: Some(now()?),
        ..RawContext::default()
    };
    let outcome = plugin.convert(&payload, &context)?;
    println!("{}", outcome_json(&outcome));
    Ok(if outcome.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Now, as RFC 3339 to the millisecond.
fn now() -> anyhow::Result<String> {
    let elapsed = SystemTime::now().duration_since(UNIX_EPOCH)?;
    let time = Timestamp::from_unix(i64::try_from(elapsed.as_secs())?, elapsed.subsec_nanos(), 3)
        .ok_or_else(|| anyhow::anyhow!("the clock is past year 9999"))?;
    Ok(time.to_string())
}
