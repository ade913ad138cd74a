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
    let names: Vec<&str> = tombstone_edge::config::VARIABLES
        .iter()
        .map(|(n, _)| *n)
        .collect();
    for name in &names {
        // Spin variable names: lowercase letters, digits and underscores, starting with a letter.
        assert!(name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
        let v = declared
            .get(*name)
            .unwrap_or_else(|| panic!("{name} is not declared"));
        assert!(
            v.get("default").is_some(),
            "{name}: every check is off until set"
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
        "mercoa_webhook_secret",
        "willsuite_webhook_secret",
    ] {
        assert_eq!(declared[secret]["secret"].as_bool(), Some(true), "{secret}");
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
    assert_eq!(stores, [tombstone_host::serve::spin::DEFAULT_STORE]);
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
