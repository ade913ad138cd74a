//! The service's routes, in one table: path templates, the methods each accepts, and the
//! parsing of a request path into one of them.

/// A route, with the path segments it captures (still percent-encoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// `POST /api/v1/invoice-deletions`.
    Canonical,
    /// `POST /api/v1/webhooks/{source}/{organization_id}`.
    Webhook {
        /// `mercoa`, `willsuite`, `highlevel` or `auto` (checked by the handler).
        source: &'a str,
        /// The organization, percent-encoded.
        organization: &'a str,
    },
    /// `POST /api/v1/convert`.
    Convert,
    /// `GET /api/v1/tasks/{task_id}`.
    Task {
        /// The task id.
        id: &'a str,
    },
    /// `GET /api/v1/deliveries`.
    Deliveries,
    /// `GET` or `DELETE /api/v1/deliveries/{task_id}`.
    Delivery {
        /// The task id.
        id: &'a str,
    },
    /// `POST /api/v1/deliveries/{task_id}/replay`.
    ReplayDelivery {
        /// The task id.
        id: &'a str,
    },
    /// `POST /api/v1/deliveries/dispatch`.
    Dispatch,
    /// `POST /api/v1/maintenance/expire`.
    Expire,
    /// `GET /healthz`.
    Health,
    /// `GET /readyz`.
    Ready,
    /// `GET /schemas/{name}.json`.
    Schema {
        /// The schema's name.
        name: &'a str,
    },
    /// `GET /openapi.json`.
    OpenApi,
}

/// Every route's template and methods, in the order of the README and the API document.
pub const ROUTES: [(&str, &[&str]); 13] = [
    ("/api/v1/invoice-deletions", &["POST"]),
    ("/api/v1/webhooks/{source}/{organization_id}", &["POST"]),
    ("/api/v1/convert", &["POST"]),
    ("/api/v1/tasks/{task_id}", &["GET"]),
    ("/api/v1/deliveries", &["GET"]),
    ("/api/v1/deliveries/{task_id}", &["GET", "DELETE"]),
    ("/api/v1/deliveries/{task_id}/replay", &["POST"]),
    ("/api/v1/deliveries/dispatch", &["POST"]),
    ("/api/v1/maintenance/expire", &["POST"]),
    ("/healthz", &["GET"]),
    ("/readyz", &["GET"]),
    ("/schemas/{name}.json", &["GET"]),
    ("/openapi.json", &["GET"]),
];

/// One path segment: non-empty, no `/`.
fn segment(s: &str) -> Option<&str> {
    (!s.is_empty() && !s.contains('/')).then_some(s)
}

impl Route<'static> {
    /// One of each route, in the order of [`ROUTES`] (their segments empty): what the API
    /// document walks.
    pub const ALL: [Route<'static>; 13] = [
        Route::Canonical,
        Route::Webhook {
            source: "",
            organization: "",
        },
        Route::Convert,
        Route::Task { id: "" },
        Route::Deliveries,
        Route::Delivery { id: "" },
        Route::ReplayDelivery { id: "" },
        Route::Dispatch,
        Route::Expire,
        Route::Health,
        Route::Ready,
        Route::Schema { name: "" },
        Route::OpenApi,
    ];
}

impl<'a> Route<'a> {
    /// The route a path belongs to; `None`: no route (404).
    pub fn parse(path: &'a str) -> Option<Route<'a>> {
        match path {
            "/api/v1/invoice-deletions" => return Some(Route::Canonical),
            "/api/v1/convert" => return Some(Route::Convert),
            "/api/v1/deliveries" => return Some(Route::Deliveries),
            "/api/v1/deliveries/dispatch" => return Some(Route::Dispatch),
            "/api/v1/maintenance/expire" => return Some(Route::Expire),
            "/healthz" => return Some(Route::Health),
            "/readyz" => return Some(Route::Ready),
            "/openapi.json" => return Some(Route::OpenApi),
            _ => {}
        }
        if let Some(rest) = path.strip_prefix("/api/v1/webhooks/") {
            let (source, organization) = rest.split_once('/')?;
            return Some(Route::Webhook {
                source: segment(source)?,
                organization: segment(organization)?,
            });
        }
        if let Some(id) = path.strip_prefix("/api/v1/tasks/") {
            return Some(Route::Task { id: segment(id)? });
        }
        if let Some(rest) = path.strip_prefix("/api/v1/deliveries/") {
            return match rest.strip_suffix("/replay") {
                Some(id) => Some(Route::ReplayDelivery { id: segment(id)? }),
                None => Some(Route::Delivery { id: segment(rest)? }),
            };
        }
        if let Some(name) = path
            .strip_prefix("/schemas/")
            .and_then(|n| n.strip_suffix(".json"))
        {
            return Some(Route::Schema {
                name: segment(name)?,
            });
        }
        None
    }

    /// The route's template, as in [`ROUTES`] (for logs: never the raw path).
    pub fn template(&self) -> &'static str {
        ROUTES[self.index()].0
    }

    /// The methods the route accepts.
    pub fn methods(&self) -> &'static [&'static str] {
        ROUTES[self.index()].1
    }

    fn index(&self) -> usize {
        match self {
            Route::Canonical => 0,
            Route::Webhook { .. } => 1,
            Route::Convert => 2,
            Route::Task { .. } => 3,
            Route::Deliveries => 4,
            Route::Delivery { .. } => 5,
            Route::ReplayDelivery { .. } => 6,
            Route::Dispatch => 7,
            Route::Expire => 8,
            Route::Health => 9,
            Route::Ready => 10,
            Route::Schema { .. } => 11,
            Route::OpenApi => 12,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_into_routes_with_their_segments() {
        let cases = [
            ("/api/v1/invoice-deletions", Some(Route::Canonical)),
            (
                "/api/v1/webhooks/mercoa/acme%20vet",
                Some(Route::Webhook {
                    source: "mercoa",
                    organization: "acme%20vet",
                }),
            ),
            ("/api/v1/webhooks/mercoa", None),
            ("/api/v1/webhooks/mercoa/", None),
            ("/api/v1/webhooks/mercoa/a/b", None),
            ("/api/v1/tasks/abc", Some(Route::Task { id: "abc" })),
            ("/api/v1/tasks/", None),
            ("/api/v1/deliveries/7", Some(Route::Delivery { id: "7" })),
            (
                "/api/v1/deliveries/7/replay",
                Some(Route::ReplayDelivery { id: "7" }),
            ),
            ("/api/v1/deliveries/dispatch", Some(Route::Dispatch)),
            ("/api/v1/deliveries/7/other", None),
            (
                "/schemas/mercoa.json",
                Some(Route::Schema { name: "mercoa" }),
            ),
            ("/schemas/.json", None),
            ("/healthz", Some(Route::Health)),
            ("/nope", None),
        ];
        for (path, route) in cases {
            assert_eq!(Route::parse(path), route, "{path}");
        }
    }

    #[test]
    fn all_holds_each_route_once_in_the_order_of_routes() {
        let templates: Vec<&str> = Route::ALL.iter().map(|r| r.template()).collect();
        let expected: Vec<&str> = ROUTES.iter().map(|(t, _)| *t).collect();
        assert_eq!(templates, expected);
    }

    #[test]
    fn every_route_has_its_template_and_methods() {
        let cases: [(&str, &str, &[&str]); 14] = [
            (
                "/api/v1/invoice-deletions",
                "/api/v1/invoice-deletions",
                &["POST"],
            ),
            (
                "/api/v1/webhooks/auto/x",
                "/api/v1/webhooks/{source}/{organization_id}",
                &["POST"],
            ),
            ("/api/v1/convert", "/api/v1/convert", &["POST"]),
            ("/api/v1/tasks/ab", "/api/v1/tasks/{task_id}", &["GET"]),
            ("/api/v1/deliveries", "/api/v1/deliveries", &["GET"]),
            (
                "/api/v1/deliveries/3",
                "/api/v1/deliveries/{task_id}",
                &["GET", "DELETE"],
            ),
            (
                "/api/v1/deliveries/3/replay",
                "/api/v1/deliveries/{task_id}/replay",
                &["POST"],
            ),
            (
                "/api/v1/deliveries/dispatch",
                "/api/v1/deliveries/dispatch",
                &["POST"],
            ),
            (
                "/api/v1/maintenance/expire",
                "/api/v1/maintenance/expire",
                &["POST"],
            ),
            ("/healthz", "/healthz", &["GET"]),
            ("/readyz", "/readyz", &["GET"]),
            ("/schemas/mercoa.json", "/schemas/{name}.json", &["GET"]),
            ("/openapi.json", "/openapi.json", &["GET"]),
            (
                "/api/v1/webhooks/mercoa/acme",
                "/api/v1/webhooks/{source}/{organization_id}",
                &["POST"],
            ),
        ];
        for (path, template, methods) in cases {
            let route = Route::parse(path).unwrap_or_else(|| panic!("{path}"));
            assert_eq!(route.template(), template, "{path}");
            assert_eq!(route.methods(), methods, "{path}");
        }
        for (template, _) in ROUTES {
            assert!(cases.iter().any(|c| c.1 == template), "{template} untested");
        }
    }
}
