//! The service's routes, in one table ([`ROUTES`]): each route's path template, how a path
//! becomes a [`Route`], and every operation on it as the API document describes it — its id,
//! summary, parameters, body, answers and who may call it. The router (`lib.rs`) parses paths
//! and checks methods with it; `openapi.rs` renders it. One description, read twice.

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

/// One route of the table.
pub struct RouteSpec {
    /// Its path template; `{name}` captures one segment (`{source}` is one route per source in
    /// the document).
    pub template: &'static str,
    /// The route of a path that matched, from the segments it captured, in order.
    pub build: for<'a> fn(&[&'a str]) -> Route<'a>,
    /// Its operations, one per method.
    pub operations: &'static [Operation],
}

/// One method on a route, as the API document describes it.
pub struct Operation {
    /// `GET`, `POST`, `DELETE`.
    pub method: &'static str,
    /// The document's `operationId` (`{source}`: the source's name, on the webhook route).
    pub id: &'static str,
    /// One line (`{display}`: the source's name as people know it).
    pub summary: &'static str,
    /// More, when one line is not enough (`{events}`: the source's deletion events).
    pub description: Option<&'static str>,
    /// The document's tag: `deletions`, `webhooks`, `admin` or `operations`.
    pub tag: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Its parameters, in order.
    pub parameters: &'static [Param],
    /// Its request body.
    pub body: Body,
    /// What it answers.
    pub responses: Responses,
}

/// Who may call an operation: the router checks it, the document says it as security.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A key of `api_keys` that serves the organization, once `api_keys` is set.
    ApiKey,
    /// The proofs of the route's source, once configured (signatures; the canonical source's
    /// is an API key).
    SourceProof,
    /// A key of `admin_api_keys`; closed (403) while it is unset.
    Admin,
}

/// A parameter of an operation.
#[derive(Debug, Clone, Copy)]
pub enum Param {
    /// One parameter.
    One {
        /// Its name.
        name: &'static str,
        /// Where it is.
        place: Place,
        /// Whether it must be there.
        required: bool,
        /// What it holds.
        schema: ParamSchema,
        /// What it is for.
        description: &'static str,
    },
    /// The Standard Webhooks headers (`webhook-id`, `webhook-timestamp`) and Svix's names for
    /// them and the signature.
    SignatureHeaders,
}

/// Where a parameter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A path segment.
    Path,
    /// The query.
    Query,
    /// A header.
    Header,
}

/// What a parameter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamSchema {
    /// An organization id.
    Organization,
    /// An `Idempotency-Key`, bare or RFC 8941-quoted.
    IdempotencyKey,
    /// A task id (64 lowercase hex characters).
    TaskId,
    /// A clinic id.
    ClinicId,
    /// `auto` or a source's name.
    SourceOrAuto,
    /// An RFC 3339 time.
    DateTime,
    /// Seconds of schedule delay, up to the contract's maximum.
    DelaySeconds,
    /// A delivery's state.
    DeliveryState,
    /// How many deliveries a page holds.
    PageLimit,
    /// A place in the queue's index.
    Before,
    /// Any string.
    Text,
    /// The name of an embedded schema.
    SchemaName,
}

/// The request body of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// None.
    None,
    /// The canonical request.
    Canonical,
    /// The route's source's payload (any source's, detected, on `auto`).
    SourcePayload,
    /// Any source's payload, detected or named in the query.
    AnySource,
}

/// What an operation answers.
#[derive(Debug, Clone, Copy)]
pub enum Responses {
    /// These statuses.
    Fixed(&'static [(u16, Answer)]),
    /// What an ingestion route answers: its sources' success statuses (`accepted`), every
    /// refusal of a payload, and the statuses its sources retry for a transient refusal.
    Ingestion {
        /// What the success status means.
        accepted: &'static str,
    },
}

/// One answer of an operation.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// JSON described by the schema component `schema`.
    Json {
        /// What it means.
        description: &'static str,
        /// The schema component.
        schema: &'static str,
    },
    /// `{"status": <status>}`.
    Status {
        /// What it means.
        description: &'static str,
        /// The one status it holds.
        status: &'static str,
        /// The header components it carries.
        headers: &'static [&'static str],
    },
    /// No body.
    Empty(&'static str),
    /// A problem of the response component of this name.
    Problem(&'static str),
    /// A problem, described here.
    ProblemAs(&'static str),
    /// A JSON Schema (`application/schema+json`).
    JsonSchema,
    /// The API document.
    Document,
}

const TASK_ID: Param = Param::One {
    name: "task_id",
    place: Place::Path,
    required: true,
    schema: ParamSchema::TaskId,
    description: "Lowercase hex SHA-256 of organization, 0x00 and key.",
};

const CLINIC_ID_QUERY: Param = Param::One {
    name: "clinic_id",
    place: Place::Query,
    required: false,
    schema: ParamSchema::ClinicId,
    description: "The clinic to use when the payload names none.",
};

/// What every admin operation may answer besides its own.
const UNAUTHORIZED: (u16, Answer) = (401, Answer::Problem("Unauthorized"));
const FORBIDDEN: (u16, Answer) = (403, Answer::Problem("Forbidden"));
const NOT_FOUND: (u16, Answer) = (404, Answer::Problem("NotFound"));
const UNAVAILABLE: (u16, Answer) = (503, Answer::Problem("Unavailable"));

/// An operation on a route with one.
const fn admin(
    method: &'static str,
    id: &'static str,
    summary: &'static str,
    description: Option<&'static str>,
    parameters: &'static [Param],
    responses: &'static [(u16, Answer)],
) -> Operation {
    Operation {
        method,
        id,
        summary,
        description,
        tag: "admin",
        access: Access::Admin,
        parameters,
        body: Body::None,
        responses: Responses::Fixed(responses),
    }
}

/// A public `GET` of the operations tag.
const fn operations(
    id: &'static str,
    summary: &'static str,
    parameters: &'static [Param],
    responses: &'static [(u16, Answer)],
) -> Operation {
    Operation {
        method: "GET",
        id,
        summary,
        description: None,
        tag: "operations",
        access: Access::Public,
        parameters,
        body: Body::None,
        responses: Responses::Fixed(responses),
    }
}

/// Every route, in the order of the API document.
pub const ROUTES: [RouteSpec; 13] = [
    RouteSpec {
        template: "/api/v1/invoice-deletions",
        build: |_| Route::Canonical,
        operations: &[Operation {
            method: "POST",
            id: "invoice_deletions",
            summary: "The canonical deletion request",
            description: Some("Strict: unknown properties are an error; at most {max_canonical_body_bytes} bytes and 5,000 entries. Scheduled exactly once per organization and Idempotency-Key (relay mode: sent upstream)."),
            tag: "deletions",
            access: Access::ApiKey,
            parameters: &[
                Param::One {
                    name: "Idempotency-Key",
                    place: Place::Header,
                    required: true,
                    schema: ParamSchema::IdempotencyKey,
                    description: "1-36 printable ASCII characters, bare or RFC 8941-quoted.",
                },
                Param::One {
                    name: "X-Organization-Id",
                    place: Place::Header,
                    required: true,
                    schema: ParamSchema::Organization,
                    description: "1-128 printable ASCII characters, no spaces.",
                },
            ],
            body: Body::Canonical,
            responses: Responses::Ingestion {
                accepted: "Scheduled, a duplicate of the first delivery, or queued (relay mode: stored here and delivered in the background).",
            },
        }],
    },
    RouteSpec {
        template: "/api/v1/webhooks/{source}/{organization_id}",
        build: |s| Route::Webhook {
            source: s[0],
            organization: s[1],
        },
        operations: &[Operation {
            method: "POST",
            id: "webhook_{source}",
            summary: "A {display} invoice-deletion webhook",
            description: Some("Validates {events} against its JSON Schema, converts it into the canonical request and delivers it (store mode: scheduled once in the key-value store; relay mode: sent to the canonical deletion API, or queued and delivered in the background when it cannot take it now). A delivery that cannot be taken right now is answered in the status the provider retries, with Retry-After."),
            tag: "webhooks",
            access: Access::SourceProof,
            parameters: &[
                Param::One {
                    name: "organization_id",
                    place: Place::Path,
                    required: true,
                    schema: ParamSchema::Organization,
                    description: "The organization (tenant) the deletion belongs to: X-Organization-Id of the canonical request.",
                },
                CLINIC_ID_QUERY,
                Param::One {
                    name: "Idempotency-Key",
                    place: Place::Header,
                    required: false,
                    schema: ParamSchema::IdempotencyKey,
                    description: "The delivery's own key; derived from the payload (UUIDv5) when absent.",
                },
                Param::SignatureHeaders,
            ],
            body: Body::SourcePayload,
            responses: Responses::Ingestion {
                accepted: "Scheduled, a duplicate of the first delivery, or queued (relay mode): the provider's documented success status.",
            },
        }],
    },
    RouteSpec {
        template: "/api/v1/convert",
        build: |_| Route::Convert,
        operations: &[Operation {
            method: "POST",
            id: "convert",
            summary: "Dry run: what a payload becomes",
            description: Some("The conversion (canonical request, headers, ids, warnings) or the problem; nothing is stored or sent. The delivery context comes from the query. (A request copied from a canonical delivery may carry `X-Organization-Id` and `Idempotency-Key` as headers instead of `organization_id` and `idempotency_key`.)"),
            tag: "deletions",
            access: Access::Public,
            parameters: &[
                Param::One {
                    name: "organization_id",
                    place: Place::Query,
                    required: true,
                    schema: ParamSchema::Organization,
                    description: "X-Organization-Id of the canonical request.",
                },
                CLINIC_ID_QUERY,
                Param::One {
                    name: "idempotency_key",
                    place: Place::Query,
                    required: false,
                    schema: ParamSchema::IdempotencyKey,
                    description: "The delivery's key; derived when absent.",
                },
                Param::One {
                    name: "source",
                    place: Place::Query,
                    required: false,
                    schema: ParamSchema::SourceOrAuto,
                    description: "Detect (auto) or force a source.",
                },
                Param::One {
                    name: "received_at",
                    place: Place::Query,
                    required: false,
                    schema: ParamSchema::DateTime,
                    description: "When the delivery was received (default: now).",
                },
                Param::One {
                    name: "delay_seconds",
                    place: Place::Query,
                    required: false,
                    schema: ParamSchema::DelaySeconds,
                    description: "scheduled_for - received_at (default: the configured delay).",
                },
            ],
            body: Body::AnySource,
            responses: Responses::Fixed(&[
                (
                    200,
                    Answer::Json {
                        description: "The conversion.",
                        schema: "Conversion",
                    },
                ),
                (400, Answer::Problem("BadRequest")),
                (408, Answer::Problem("RequestTimeout")),
                (413, Answer::Problem("PayloadTooLarge")),
                (415, Answer::Problem("UnsupportedMediaType")),
                (422, Answer::Problem("Unprocessable")),
            ]),
        }],
    },
    RouteSpec {
        template: "/api/v1/tasks/{task_id}",
        build: |s| Route::Task { id: s[0] },
        operations: &[admin(
            "GET",
            "task",
            "A scheduled task (store mode)",
            None,
            &[TASK_ID],
            &[
                (
                    200,
                    Answer::Json {
                        description: "The task: the conversion that was scheduled.",
                        schema: "Task",
                    },
                ),
                UNAUTHORIZED,
                FORBIDDEN,
                NOT_FOUND,
                UNAVAILABLE,
            ],
        )],
    },
    RouteSpec {
        template: "/api/v1/deliveries",
        build: |_| Route::Deliveries,
        operations: &[admin(
            "GET",
            "deliveries",
            "Relay mode's deliveries, newest first, without bodies",
            Some("Counted down the queue's index (no key scan). A dead letter is a delivery in state `dead`."),
            &[
                Param::One {
                    name: "state",
                    place: Place::Query,
                    required: false,
                    schema: ParamSchema::DeliveryState,
                    description: "Only deliveries in this state.",
                },
                Param::One {
                    name: "limit",
                    place: Place::Query,
                    required: false,
                    schema: ParamSchema::PageLimit,
                    description: "Deliveries per page.",
                },
                Param::One {
                    name: "before",
                    place: Place::Query,
                    required: false,
                    schema: ParamSchema::Before,
                    description: "Only deliveries queued before this number (the `next` link's cursor).",
                },
            ],
            &[
                (
                    200,
                    Answer::Json {
                        description: "A page of deliveries.",
                        schema: "DeliveryPage",
                    },
                ),
                UNAUTHORIZED,
                FORBIDDEN,
                (422, Answer::Problem("Unprocessable")),
                UNAVAILABLE,
            ],
        )],
    },
    RouteSpec {
        template: "/api/v1/deliveries/{task_id}",
        build: |s| Route::Delivery { id: s[0] },
        operations: &[
            admin(
                "GET",
                "delivery",
                "One delivery: its state, every attempt, the next one, the upstream's response",
                None,
                &[TASK_ID],
                &[
                    (
                        200,
                        Answer::Json {
                            description: "The delivery.",
                            schema: "Delivery",
                        },
                    ),
                    UNAUTHORIZED,
                    FORBIDDEN,
                    NOT_FOUND,
                    UNAVAILABLE,
                ],
            ),
            admin(
                "DELETE",
                "delete_delivery",
                "Forget a delivered or dead delivery",
                None,
                &[TASK_ID],
                &[
                    (204, Answer::Empty("Forgotten.")),
                    UNAUTHORIZED,
                    FORBIDDEN,
                    NOT_FOUND,
                    (
                        409,
                        Answer::ProblemAs(
                            "conflict: a queued delivery is still being delivered.",
                        ),
                    ),
                    UNAVAILABLE,
                ],
            ),
        ],
    },
    RouteSpec {
        template: "/api/v1/deliveries/{task_id}/replay",
        build: |s| Route::ReplayDelivery { id: s[0] },
        operations: &[admin(
            "POST",
            "replay_delivery",
            "Put a dead letter back in the queue, due now",
            Some("The dispatcher attempts it on the retry schedule from the start. Refused (409) for a delivered one, and for one received longer ago than idempotency_retention_seconds: the upstream no longer honours its key, so a replay could schedule the deletion twice."),
            &[TASK_ID],
            &[
                (
                    200,
                    Answer::Json {
                        description: "It is queued already.",
                        schema: "Delivery",
                    },
                ),
                (
                    202,
                    Answer::Json {
                        description: "Queued again.",
                        schema: "Delivery",
                    },
                ),
                UNAUTHORIZED,
                FORBIDDEN,
                NOT_FOUND,
                (
                    409,
                    Answer::ProblemAs(
                        "conflict: delivered already, or its key is no longer honoured upstream.",
                    ),
                ),
                UNAVAILABLE,
            ],
        )],
    },
    RouteSpec {
        template: "/api/v1/deliveries/dispatch",
        build: |_| Route::Dispatch,
        operations: &[admin(
            "POST",
            "dispatch",
            "Attempt the queued deliveries that are due, now (for a cron)",
            Some("`tombstone serve` dispatches every second and Spin after each request; this route lets a scheduler drive it too (a Kubernetes CronJob on SpinKube)."),
            &[],
            &[
                (
                    200,
                    Answer::Json {
                        description: "What the dispatch did and saw.",
                        schema: "DispatchReport",
                    },
                ),
                UNAUTHORIZED,
                FORBIDDEN,
                UNAVAILABLE,
            ],
        )],
    },
    RouteSpec {
        template: "/api/v1/maintenance/expire",
        build: |_| Route::Expire,
        operations: &[admin(
            "POST",
            "expire",
            "One page of maintenance: claims whose minutes have passed, finished deliveries past their retention, tasks past task_retention_seconds",
            Some("The store's keys are swept a page at a time: call again with the answer's `next` as `cursor` until it is null."),
            &[Param::One {
                name: "cursor",
                place: Place::Query,
                required: false,
                schema: ParamSchema::Text,
                description: "Where the previous call's page ended (its `next`).",
            }],
            &[
                (
                    200,
                    Answer::Json {
                        description: "What was removed.",
                        schema: "Expired",
                    },
                ),
                UNAUTHORIZED,
                FORBIDDEN,
                UNAVAILABLE,
            ],
        )],
    },
    RouteSpec {
        template: "/healthz",
        build: |_| Route::Health,
        operations: &[operations(
            "health",
            "Liveness: the component answers (it touches no store and reads no variable)",
            &[],
            &[(
                200,
                Answer::Status {
                    description: "Up.",
                    status: "ok",
                    headers: &["Tombstone-Build"],
                },
            )],
        )],
    },
    RouteSpec {
        template: "/readyz",
        build: |_| Route::Ready,
        operations: &[operations(
            "ready",
            "Readiness: every variable is usable and the key-value store answers",
            &[],
            &[
                (
                    200,
                    Answer::Status {
                        description: "Ready.",
                        status: "ready",
                        headers: &[],
                    },
                ),
                UNAVAILABLE,
            ],
        )],
    },
    RouteSpec {
        template: "/schemas/{name}.json",
        build: |s| Route::Schema { name: s[0] },
        operations: &[operations(
            "schema",
            "A JSON Schema the payloads are validated against",
            &[Param::One {
                name: "name",
                place: Place::Path,
                required: true,
                schema: ParamSchema::SchemaName,
                description: "The schema's name.",
            }],
            &[(200, Answer::JsonSchema), NOT_FOUND],
        )],
    },
    RouteSpec {
        template: "/openapi.json",
        build: |_| Route::OpenApi,
        operations: &[operations(
            "openapi",
            "This document",
            &[],
            &[(200, Answer::Document)],
        )],
    },
];

/// One segment of a template against one of a path: `Some(capture)` for a `{name}` segment
/// (with its literal prefix and suffix around it), `Some("")` for an equal literal.
fn segment<'a>(template: &str, path: &'a str) -> Option<&'a str> {
    let Some((prefix, rest)) = template.split_once('{') else {
        return (template == path).then_some("");
    };
    let suffix = rest.split_once('}').map_or("", |(_, s)| s);
    let captured = path.strip_prefix(prefix)?.strip_suffix(suffix)?;
    (!captured.is_empty()).then_some(captured)
}

impl RouteSpec {
    /// The route of `path`, if it matches this template, and how many segments it captured.
    fn matches<'a>(&self, path: &'a str) -> Option<(Route<'a>, usize)> {
        let mut captured: Vec<&'a str> = Vec::new();
        let mut template = self.template.split('/');
        let mut given = path.split('/');
        loop {
            match (template.next(), given.next()) {
                (None, None) => break,
                (Some(t), Some(p)) => {
                    let capture = segment(t, p)?;
                    if t.contains('{') {
                        captured.push(capture);
                    }
                }
                _ => return None,
            }
        }
        Some(((self.build)(&captured), captured.len()))
    }

    /// The methods it accepts.
    pub fn methods(&self) -> impl Iterator<Item = &'static str> {
        self.operations.iter().map(|o| o.method)
    }
}

impl<'a> Route<'a> {
    /// The route a path belongs to; `None`: no route (404). Where two templates match (a
    /// literal segment and a capture), the one that captures less wins:
    /// `/api/v1/deliveries/dispatch` is no task id.
    pub fn parse(path: &'a str) -> Option<Route<'a>> {
        ROUTES
            .iter()
            .filter_map(|spec| spec.matches(path))
            .min_by_key(|(_, captures)| *captures)
            .map(|(route, _)| route)
    }

    /// Its entry in [`ROUTES`]: the one whose route is of the same variant.
    pub fn spec(&self) -> &'static RouteSpec {
        let variant = std::mem::discriminant(self);
        ROUTES
            .iter()
            .find(|spec| std::mem::discriminant(&(spec.build)(&["", ""])) == variant)
            .expect("every variant is built by one route of the table")
    }

    /// The route's template (for logs: never the raw path).
    pub fn template(&self) -> &'static str {
        self.spec().template
    }

    /// Who may call it.
    pub fn access(&self) -> Access {
        self.spec().operations[0].access
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
            ("/schemas/mercoa", None),
            ("/healthz", Some(Route::Health)),
            ("/healthz/", None),
            ("/nope", None),
            ("", None),
        ];
        for (path, route) in cases {
            assert_eq!(Route::parse(path), route, "{path}");
        }
    }

    #[test]
    fn every_route_of_the_table_is_built_by_its_own_template_alone() {
        for spec in &ROUTES {
            let example = spec
                .template
                .replace("{source}", "mercoa")
                .replace("{organization_id}", "acme")
                .replace("{task_id}", "ab")
                .replace("{name}", "mercoa");
            let route = Route::parse(&example).unwrap_or_else(|| panic!("{example}"));
            assert_eq!(route.template(), spec.template, "{example}");
            assert!(!spec.operations.is_empty(), "{}", spec.template);
            let mut methods: Vec<&str> = spec.methods().collect();
            methods.dedup();
            assert_eq!(methods.len(), spec.operations.len(), "{}", spec.template);
            // One access per route: the router checks it before the method's handler.
            assert!(spec
                .operations
                .iter()
                .all(|o| o.access == spec.operations[0].access));
        }
    }
}
