//! The OpenAPI document against the code it describes: every route and method, every source's
//! route with its body schemas and success status, every problem kind; and the copy in the
//! repository is the document the code serves.

use serde_json::Value;
use tombstone_core::{ProblemKind, Source};
use tombstone_edge::openapi::document;
use tombstone_edge::routes::{Access, ROUTES};

use crate::support::*;

#[test]
fn every_route_and_method_is_documented_and_nothing_else() {
    let doc = document();
    let paths = doc["paths"].as_object().unwrap();
    let mut expected = Vec::new();
    for spec in &ROUTES {
        let (template, methods): (&str, Vec<&str>) = (spec.template, spec.methods().collect());
        let concrete: Vec<String> = if template.contains("{source}") {
            Source::ALL
                .iter()
                .filter(|s| s.is_provider())
                .map(|s| s.name())
                .chain(["auto"])
                .map(|name| template.replace("{source}", name))
                .collect()
        } else {
            vec![template.to_owned()]
        };
        for path in concrete {
            let item = paths
                .get(&path)
                .unwrap_or_else(|| panic!("{path} is not documented"));
            let documented: Vec<String> = item.as_object().unwrap().keys().cloned().collect();
            let mut wanted: Vec<String> = methods.iter().map(|m| m.to_ascii_lowercase()).collect();
            wanted.sort();
            let mut documented_sorted = documented.clone();
            documented_sorted.sort();
            assert_eq!(documented_sorted, wanted, "{path}");
            expected.push(path);
        }
    }
    let mut documented: Vec<&String> = paths.keys().collect();
    documented.sort();
    expected.sort();
    assert_eq!(documented, expected.iter().collect::<Vec<_>>());
}

#[test]
fn each_source_route_takes_its_schemas_and_answers_its_status() {
    let doc = document();
    for &source in Source::ALL.iter().filter(|s| s.is_provider()) {
        let op = &doc["paths"][format!("/api/v1/webhooks/{}/{{organization_id}}", source.name())]
            ["post"];
        let body = op["requestBody"]["content"]["application/json"]["schema"].to_string();
        for event in source.events() {
            assert!(
                body.contains(&format!("\"#/components/schemas/{}\"", event.schema.name)),
                "{body}"
            );
            assert!(doc["components"]["schemas"][event.schema.name].is_object());
        }
        assert!(
            op["responses"][source.success_status().to_string()].is_object(),
            "{}",
            source.name()
        );
    }
    let kinds: Vec<String> = ProblemKind::ALL.iter().map(|k| k.type_uri()).collect();
    assert_eq!(
        doc["components"]["schemas"]["Problem"]["properties"]["type"]["enum"],
        serde_json::json!(kinds)
    );
}

#[test]
fn the_service_serves_the_document_and_the_repositorys_copy_is_current() {
    let kv = TestStore::default();
    let served = get("/openapi.json").send(&kv, &every_check_on(), at(T0));
    assert_eq!(served.status, 200);
    assert_eq!(served.body_json(), document());
    let file = format!("{}/../../openapi.json", env!("CARGO_MANIFEST_DIR"));
    let copy: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        copy,
        document(),
        "openapi.json is stale: `cargo run -p tombstone-host -- openapi > openapi.json`"
    );
}

/// A configuration with every check on: API keys, each source's secret, HighLevel's own keys.
fn every_check_on() -> Result<tombstone_edge::config::Config, tombstone_edge::config::ConfigError> {
    let fixtures = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let rsa_pem =
        std::fs::read_to_string(format!("{fixtures}/highlevel-test-rsa.pub.pem")).unwrap();
    let ed_pem = {
        use ed25519_dalek::pkcs8::EncodePublicKey;
        ed25519_dalek::SigningKey::from_bytes(&[7u8; 32])
            .verifying_key()
            .to_public_key_pem(Default::default())
            .unwrap()
    };
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    config(&[
        ("api_keys", "k1"),
        ("mercoa_webhook_secret", secret),
        ("willsuite_webhook_secret", secret),
        ("highlevel_webhook_secret", secret),
        ("highlevel_ed25519_public_key", &ed_pem),
        ("highlevel_rsa_public_key", &rsa_pem),
    ])
}

/// `operationId` → `security` of a document (an `operationId` used twice fails).
fn security_of(doc: &Value) -> std::collections::BTreeMap<String, Value> {
    let mut out = std::collections::BTreeMap::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap().to_owned();
            assert!(
                out.insert(id.clone(), op["security"].clone()).is_none(),
                "{id} twice"
            );
        }
    }
    out
}

/// The 17 operations: the canonical one (behind `X-API-Key` once `api_keys` is set), the admin
/// ones (always behind `admin_api_keys`: closed while it is unset), one webhook route per
/// provider and the detecting one, and the open ones.
const ADMIN: [&str; 7] = [
    "task",
    "deliveries",
    "delivery",
    "delete_delivery",
    "replay_delivery",
    "dispatch",
    "expire",
];
const OPEN: [&str; 5] = ["convert", "health", "ready", "schema", "openapi"];

/// The whole expected map: `webhooks` gives each webhook operation's requirement.
fn expected_security(
    api_key: bool,
    webhooks: [(&str, Value); 4],
) -> std::collections::BTreeMap<String, Value> {
    let canonical = if api_key {
        serde_json::json!([{"ApiKey": []}])
    } else {
        serde_json::json!([])
    };
    ADMIN
        .iter()
        .map(|op| (op.to_string(), serde_json::json!([{"AdminApiKey": []}])))
        .chain([("invoice_deletions".to_owned(), canonical)])
        .chain(
            OPEN.iter()
                .map(|op| (op.to_string(), serde_json::json!([]))),
        )
        .chain(webhooks.into_iter().map(|(op, s)| (op.to_owned(), s)))
        .collect()
}

#[test]
fn the_served_document_requires_exactly_the_checks_the_configuration_turns_on() {
    let kv = TestStore::default();
    let open = get("/openapi.json")
        .send(&kv, &config(&[]), at(T0))
        .body_json();
    // Nothing configured: nothing required but the admin key, of all 17 operations.
    assert_eq!(
        security_of(&open),
        expected_security(
            false,
            [
                "webhook_mercoa",
                "webhook_willsuite",
                "webhook_highlevel",
                "webhook_auto"
            ]
            .map(|op| (op, serde_json::json!([])))
        )
    );

    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let some = config(&[("api_keys", "k1"), ("mercoa_webhook_secret", secret)]);
    let doc = get("/openapi.json").send(&kv, &some, at(T0)).body_json();
    let none = serde_json::json!([]);
    assert_eq!(
        security_of(&doc),
        expected_security(
            true,
            [
                (
                    "webhook_mercoa",
                    serde_json::json!([{"StandardWebhooks": []}])
                ),
                ("webhook_willsuite", none.clone()),
                ("webhook_highlevel", none.clone()),
                // A WillSuite payload on the detecting route needs no proof, so the route
                // needs none.
                ("webhook_auto", none.clone()),
            ]
        )
    );

    let highlevel = serde_json::json!([{"StandardWebhooks": []}, {"HighLevelSignature": []}, {"HighLevelLegacySignature": []}]);
    assert_eq!(
        security_of(&document()),
        expected_security(
            true,
            [
                (
                    "webhook_mercoa",
                    serde_json::json!([{"StandardWebhooks": []}])
                ),
                (
                    "webhook_willsuite",
                    serde_json::json!([{"StandardWebhooks": []}])
                ),
                ("webhook_highlevel", highlevel),
                (
                    "webhook_auto",
                    serde_json::json!([{"StandardWebhooks": []}, {"HighLevelSignature": []}, {"HighLevelLegacySignature": []}, {"ApiKey": []}])
                ),
            ]
        )
    );
}

/// A path of a template, its captures filled with values that exist (`mercoa`) or need not.
fn example_path(template: &str) -> String {
    template
        .replace("{source}", "mercoa")
        .replace("{organization_id}", "acme-vet")
        .replace(
            "{task_id}",
            "0000000000000000000000000000000000000000000000000000000000000000",
        )
        .replace("{name}", "mercoa")
}

#[test]
fn the_router_checks_the_access_the_table_gives_each_operation() {
    let kv = TestStore::default();
    // Every check off, and the admin routes closed: what a route answers then is its access.
    let nothing = config(&[("admin_api_keys", "")]);
    for spec in &ROUTES {
        for op in spec.operations {
            let path = example_path(spec.template);
            let r = get(&path).method(op.method).send(&kv, &nothing, at(T0));
            match op.access {
                Access::Admin => assert_eq!(r.status, 403, "{} {path}: {r:?}", op.method),
                _ => assert!(
                    ![401, 403].contains(&r.status),
                    "{} {path} is {:?} in the table: {r:?}",
                    op.method,
                    op.access
                ),
            }
        }
    }
    // With an admin key configured, the admin routes let its holder in.
    let cfg = config(&[("admin_api_keys", "k-admin")]);
    for spec in &ROUTES {
        for op in spec.operations.iter().filter(|o| o.access == Access::Admin) {
            let path = example_path(spec.template);
            let r = get(&path)
                .method(op.method)
                .header("X-API-Key", "k-admin")
                .send(&kv, &cfg, at(T0));
            assert!(
                ![401, 403].contains(&r.status),
                "{} {path}: {r:?}",
                op.method
            );
        }
    }
}
