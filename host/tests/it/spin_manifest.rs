//! `spin.toml` agrees with the code: what `spin up` would run is what `tombstone serve` runs.
//! (The Spin CLI cannot be installed here; these are the manifest rules Spin 4 enforces that
//! this app depends on.)

use toml::Value;

fn manifest() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spin.toml");
    toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_variable_the_service_reads_is_declared_with_a_default_and_passed_to_the_component() {
    let m = manifest();
    assert_eq!(m["spin_manifest_version"].as_integer(), Some(2));
    let declared = m["variables"].as_table().unwrap();
    let passed = m["component"]["tombstone"]["variables"].as_table().unwrap();
    let variables = tombstone_edge::config::variables();
    let names: Vec<&str> = variables.iter().map(|v| v.name).collect();
    for variable in &variables {
        let name = &variable.name;
        // Spin variable names: lowercase letters, digits and underscores, starting with a letter.
        assert!(
            name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{name}"
        );
        let v = declared
            .get(*name)
            .unwrap_or_else(|| panic!("{name} is not declared"));
        assert_eq!(
            v.get("default").and_then(Value::as_str),
            Some(variable.default),
            "{name}: declared with the default the code (and tombstone serve) starts from"
        );
        assert_eq!(
            v.get("secret").and_then(Value::as_bool).unwrap_or(false),
            variable.secret,
            "{name}: secret or not, as the code says"
        );
        assert_eq!(
            passed.get(*name).and_then(Value::as_str),
            Some(format!("{{{{ {name} }}}}").as_str()),
            "{name}"
        );
    }
    assert_eq!(
        declared.len(),
        names.len(),
        "no variable the code does not read"
    );
    assert_eq!(passed.len(), names.len());
    for secret in [
        "api_keys",
        "admin_api_keys",
        "mercoa_webhook_secret",
        "willsuite_webhook_secret",
        "upstream_authorization",
    ] {
        assert_eq!(declared[secret]["secret"].as_bool(), Some(true), "{secret}");
    }
}

/// Spin 4.0.2's `AllowedHostConfig::parse` (crates/outbound-networking-config/src/
/// allowed_hosts.rs), for the forms this app can meet: `<scheme>://<host>[:<port>][/]`, a
/// scheme of letters or `*`, a host without a path, a port or a scheme with a well-known one.
fn spin_allowed_host(entry: &str) -> Result<(), String> {
    let url = entry.trim();
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("{url:?} does not contain a scheme"))?;
    let (host, rest) = rest.rsplit_once(':').unwrap_or((rest, ""));
    let port = match rest.split_once('/') {
        Some((_, path)) if !path.is_empty() => return Err(format!("{url:?} has a path")),
        Some((port, _)) => port,
        None => rest,
    };
    let well_known = matches!(
        scheme,
        "postgres" | "mysql" | "redis" | "mqtt" | "http" | "https"
    );
    let port_ok = match port {
        "" => well_known,
        "*" => true,
        p => p.split("..").all(|n| n.parse::<u16>().is_ok()),
    };
    if !port_ok {
        return Err(format!(
            "{url:?}: no port and no well-known one for {scheme:?}"
        ));
    }
    if !(scheme == "*" || (!scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphabetic()))) {
        return Err(format!("{url:?}: invalid scheme"));
    }
    let host = host.trim_end_matches('/');
    if host.is_empty() || host.contains('/') || host.contains(char::is_whitespace) {
        return Err(format!("{url:?}: invalid host {host:?}"));
    }
    if host.contains('*')
        && !(host == "*" || host.strip_prefix("*.").is_some_and(|d| !d.contains('*')))
    {
        return Err(format!("{url:?}: wildcards only as a subdomain prefix"));
    }
    Ok(())
}

#[test]
fn outbound_hosts_come_from_a_variable_whose_default_lets_spin_up_start() {
    assert!(spin_allowed_host("https://webhooks.nest.vet").is_ok());
    assert!(spin_allowed_host("http://127.0.0.1:3001/").is_ok());
    for bad in [
        "",
        "webhooks.nest.vet",
        "https://webhooks.nest.vet/api/v1/invoice-deletions",
        "ftp2://x",
    ] {
        assert!(spin_allowed_host(bad).is_err(), "{bad:?} must not parse");
    }
    let m = manifest();
    let hosts: Vec<&str> = m["component"]["tombstone"]["allowed_outbound_hosts"]
        .as_array()
        .expect("the component declares allowed_outbound_hosts")
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(
        hosts,
        tombstone_host::serve::ports::outbound::ALLOWED_OUTBOUND_HOSTS
    );
    let declared = m["variables"].as_table().unwrap();
    for entry in hosts {
        assert!(entry.contains("{{"), "{entry}: no host is hard-coded");
        // Spin validates a template with the variables' defaults when it loads the app.
        let mut resolved = entry.to_owned();
        while let Some(start) = resolved.find("{{") {
            let end = start + resolved[start..].find("}}").unwrap();
            let name = resolved[start + 2..end].trim().to_owned();
            let default = declared[&name]["default"].as_str().unwrap();
            resolved.replace_range(start..end + 2, default);
        }
        spin_allowed_host(&resolved).unwrap_or_else(|e| panic!("spin up would stop: {e}"));
        // The same template resolves in tombstone serve to an origin that allows nothing real.
        let allowed = tombstone_host::serve::ports::outbound::allowed_origins(|name| {
            declared
                .get(name)
                .and_then(|v| v["default"].as_str())
                .map(str::to_owned)
        });
        assert_eq!(
            allowed.len(),
            tombstone_host::serve::ports::outbound::ALLOWED_OUTBOUND_HOSTS.len(),
            "every entry resolves to an origin: {allowed:?}"
        );
        assert!(
            allowed.iter().all(|o| o.host.ends_with(".invalid")),
            "{allowed:?}"
        );
    }
}

#[test]
fn the_component_is_built_where_the_manifest_loads_it_with_the_default_store() {
    let m = manifest();
    let c = &m["component"]["tombstone"];
    assert_eq!(
        c["source"].as_str(),
        Some("target/wasm32-wasip2/wasm/tombstone_spin.wasm")
    );
    assert_eq!(
        c["build"]["command"].as_str(),
        Some("cargo build --target wasm32-wasip2 --profile wasm --locked -p tombstone-spin")
    );
    let stores: Vec<&str> = c["key_value_stores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(stores, [tombstone_host::serve::ports::spin::DEFAULT_STORE]);
    let routes: Vec<(&str, &str)> = m["trigger"]["http"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["route"].as_str().unwrap(),
                t["component"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        routes,
        [("/...", "tombstone"), ("/playground/...", "playground")]
    );
    let files = &m["component"]["playground"]["files"][0];
    assert_eq!(files["source"].as_str(), Some("www"));
    assert!(m["component"]["playground"]["source"]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
}
