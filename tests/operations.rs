//! What an operator sees: `/metrics` after real traffic, one JSON log line
//! per request (with its request id, never a token or a value; probes
//! quiet), CORS for dashboards on another origin, and introspection that
//! can be switched off.
mod common;

use std::io::{BufRead, BufReader};

use common::{process::*, ws::*, *};
use serde_json::{Value, json};

const SET: &str = "mutation($r: MemoryRef!) { setVariable(input: { ref: $r, name: \"secret-name\", value: \"s3cr3t-value\", expiresIn: \"1m\" }) { version } }";

/// The value of the first sample of `family` whose labels contain `labels`.
fn sample(metrics: &str, family: &str, labels: &str) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.starts_with(family) && l.contains(labels))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_errors_sockets_events_janitor_and_pool() {
    let w = World::new().await;
    let s = &w.s;
    for _ in 0..3 {
        w.gql(SET, json!({ "r": w.conv_ref() })).await;
    }
    assert_code(&w.gql("{ nope }", json!({})).await, "BAD_USER_INPUT");
    assert_code(
        &s.gql("not-a-token", "{ __typename }", json!({})).await,
        "UNAUTHENTICATED",
    );
    let mut ws = WsClient::connect(&s.base, Some(TRANSPORT)).await;
    ws.init(&w.token).await;
    ws.subscribe("m", MEMORY_CHANGED, json!({ "bot": w.bot }))
        .await;
    let probe = until_live(&mut ws, "m", "memoryChanged", |k| {
        let w = &w;
        async move {
            w.gql(
                "mutation($r: MemoryRef!, $n: String!) { setVariable(input: { ref: $r, name: $n, value: 1 }) { version } }",
                json!({ "r": w.conv_ref(), "n": format!("probe-{k}") }),
            )
            .await;
            format!("probe-{k}")
        }
    })
    .await;
    assert_eq!(probe["op"], "SET");
    s.clock.advance(chrono::TimeDelta::minutes(2));
    s.ok(
        &w.token,
        "mutation { runJanitor { variablesExpired } }",
        json!({}),
    )
    .await;

    let metrics = s.http().get(s.url("/metrics")).send().await.unwrap();
    assert!(metrics.status().is_success());
    let metrics = metrics.text().await.unwrap();
    let count = |family: &str, labels: &str| {
        sample(&metrics, family, labels)
            .unwrap_or_else(|| panic!("no {family}{{{labels}}} in\n{metrics}"))
    };
    assert!(
        count(
            "botmem_request_duration_seconds_count",
            "operation=\"setVariable\",outcome=\"ok\""
        ) >= 3.0
    );
    assert!(count("botmem_errors_total", "code=\"BAD_USER_INPUT\"") >= 1.0);
    assert!(count("botmem_errors_total", "code=\"UNAUTHENTICATED\"") >= 1.0);
    assert_eq!(count("botmem_websocket_connections", ""), 1.0);
    assert_eq!(count("botmem_subscriptions", ""), 1.0);
    assert!(count("botmem_events_published_total", "") >= 4.0);
    assert!(count("botmem_events_delivered_total", "") >= 1.0);
    assert_eq!(count("botmem_janitor_runs_total", "outcome=\"ok\""), 1.0);
    assert!(count("botmem_janitor_rows_expired_total", "kind=\"variable\"") >= 1.0);
    assert!(count("botmem_janitor_run_duration_seconds_count", "") >= 1.0);
    assert!(count("botmem_db_connections", "state=\"idle\"") >= 0.0);
    assert!(count("botmem_db_acquire_seconds_count", "") >= 3.0);
    // No tenant, token or value in any label.
    assert!(
        !metrics.contains("botmem_tenant_requests_total{"),
        "{metrics}"
    );
    for secret in ["t1", &w.token, "s3cr3t-value"] {
        assert!(
            !metrics.contains(&format!("\"{secret}\"")),
            "{secret} in /metrics"
        );
    }
    drop(ws);
}

#[tokio::test]
async fn each_request_logs_one_json_line_with_its_id_and_no_secrets() {
    let s = TestServer::start().await;
    let port = free_port();
    let (reader, writer) = std::io::pipe().unwrap();
    let _server = spawn_botmem_logging(
        &s.config.database_url,
        port,
        &[("BOTMEM_LOG_FORMAT", "json"), ("RUST_LOG", "info")],
        writer,
    );
    wait_up(port).await;
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let token = s.admin("t1");
    for _ in 0..3 {
        http.get(format!("{base}/readyz")).send().await.unwrap();
        http.get(format!("{base}/healthz")).send().await.unwrap();
    }
    let answered = http
        .post(format!("{base}/graphql"))
        .bearer_auth(&token)
        .header("x-request-id", "trace-me-42")
        .json(&json!({ "query": "mutation { createBot(input: { name: \"s3cr3t-bot\" }) { id } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answered.headers()["x-request-id"], "trace-me-42");
    let refused = http
        .post(format!("{base}/graphql"))
        .bearer_auth("bad-token")
        .json(&json!({ "query": "{ bots { totalCount } }" }))
        .send()
        .await
        .unwrap();
    let generated = refused.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!generated.is_empty());
    drop(_server);

    let mut lines = vec![];
    for line in BufReader::new(reader).lines().map_while(Result::ok) {
        let parsed: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"));
        lines.push(parsed);
    }
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "graphql request")
        .collect();
    assert_eq!(requests.len(), 2, "{lines:#?}");
    let ok = requests[0];
    assert_eq!(ok["span"]["request_id"], "trace-me-42", "{ok}");
    assert_eq!(ok["span"]["tenant"], "t1");
    assert_eq!(ok["span"]["operation"], "createBot");
    assert_eq!(
        (&ok["fields"]["status"], &ok["fields"]["outcome"]),
        (&json!(200), &json!("ok"))
    );
    assert!(ok["fields"]["duration_ms"].as_f64().is_some());
    let bad = requests[1];
    assert_eq!(bad["span"]["request_id"], json!(generated));
    assert_eq!(bad["fields"]["codes"], "UNAUTHENTICATED");
    assert_eq!(bad["fields"]["status"], 401);
    let all = lines.iter().map(Value::to_string).collect::<String>();
    assert!(
        !all.contains(&token) && !all.contains("s3cr3t-bot"),
        "a token or value was logged"
    );
    // Probes are quiet at INFO.
    assert!(!all.contains("readyz") && !all.contains("healthz"), "{all}");
}

#[tokio::test]
async fn dashboards_on_allowed_origins_pass_cors_others_do_not() {
    let s =
        TestServer::start_with(|c| c.cors_origins = Some("https://dash.example.com".into())).await;
    let preflight = |origin: &'static str| {
        s.http()
            .request(reqwest::Method::OPTIONS, s.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight("https://dash.example.com").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://dash.example.com"
    );
    let methods = allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap();
    assert!(methods.contains("POST"), "{methods}");
    assert!(
        allowed
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let answer = s
        .http()
        .post(s.url("/graphql"))
        .header("origin", "https://dash.example.com")
        .bearer_auth(s.admin("t1"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "https://dash.example.com"
    );

    // The WebSocket checks the same list.
    let ws_url = s.base.replace("http://", "ws://") + "/graphql/ws";
    for (origin, allowed) in [
        ("https://dash.example.com", true),
        ("https://evil.example.com", false),
    ] {
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                ws_url.as_str(),
            )
            .unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let connected = tokio_tungstenite::connect_async(request).await;
        assert_eq!(connected.is_ok(), allowed, "{origin}");
    }
}

#[tokio::test]
async fn cors_is_off_by_default_and_bad_origins_stop_the_start() {
    let s = TestServer::start().await;
    let preflight = s
        .http()
        .request(reqwest::Method::OPTIONS, s.url("/graphql"))
        .header("origin", "https://dash.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let config = botmem::Config {
        cors_origins: Some("dash.example.com/*".into()),
        ..botmem::Config::default()
    };
    assert!(
        config
            .validate()
            .unwrap_err()
            .contains("BOTMEM_CORS_ORIGINS")
    );
}

/// Tenant labels are opt-in and capped: the first N tenants served get
/// their own, every other tenant counts under `other`.
#[tokio::test]
async fn tenant_labels_are_opt_in_and_capped() {
    let s = TestServer::start_with(|c| c.metrics_tenant_labels = 2).await;
    for (tenant, requests) in [("t1", 3), ("t2", 1), ("t3", 2), ("t4", 1), ("t1", 1)] {
        let token = s.admin(tenant);
        for _ in 0..requests {
            s.ok(&token, "{ bots { totalCount } }", json!({})).await;
        }
    }
    assert_code(
        &s.gql(&s.token("t2", "viewer"), "{ nope }", json!({})).await,
        "BAD_USER_INPUT",
    );
    // A named operation sent without operationName counts under its root field.
    s.ok(
        &s.admin("t1"),
        "query Named { viewer { subject } }",
        json!({}),
    )
    .await;
    let metrics = s.http().get(s.url("/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    let count = |labels: &str| sample(&metrics, "botmem_tenant_requests_total", labels);
    assert_eq!(
        count("outcome=\"ok\",tenant=\"t1\"").or(count("tenant=\"t1\",outcome=\"ok\"")),
        Some(5.0),
        "{metrics}"
    );
    assert_eq!(
        count("outcome=\"ok\",tenant=\"t2\"").or(count("tenant=\"t2\",outcome=\"ok\"")),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        count("outcome=\"error\",tenant=\"t2\"").or(count("tenant=\"t2\",outcome=\"error\"")),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        count("outcome=\"ok\",tenant=\"other\"").or(count("tenant=\"other\",outcome=\"ok\"")),
        Some(3.0),
        "{metrics}"
    );
    assert!(
        metrics.contains("operation=\"viewer\""),
        "the named operation was not counted: {metrics}"
    );
    for unlabelled in ["t3", "t4"] {
        assert!(
            !metrics.contains(&format!("\"{unlabelled}\"")),
            "{unlabelled} labelled"
        );
    }
}

#[tokio::test]
async fn introspection_can_be_switched_off_and_metrics_moved() {
    let port = free_port();
    let s = TestServer::start_with(|c| {
        c.introspection = botmem::config::Switch::Off;
        c.metrics_listen = Some(format!("127.0.0.1:{port}").parse().unwrap());
    })
    .await;
    let admin = s.admin("t1");
    let body = s
        .gql(&admin, "{ __schema { types { name } } }", json!({}))
        .await;
    // async-graphql answers a disabled introspection with null.
    assert_eq!(body["data"]["__schema"], Value::Null, "{body}");
    s.ok(&admin, "{ __typename bots { totalCount } }", json!({}))
        .await;
    let main = s.http().get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(main.status(), 404);
    let own = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert!(own.status().is_success());
    assert!(
        own.text()
            .await
            .unwrap()
            .contains("botmem_request_duration_seconds")
    );
}

/// Traces: a request's `traceparent` continues the caller's trace (its id
/// is in the log line, and in the spans exported over OTLP/HTTP), every
/// subscription gets a span and a log line when it ends, and buffered
/// spans are sent when the process stops on SIGTERM.
#[tokio::test]
async fn traceparent_continues_the_callers_trace_and_spans_reach_an_otlp_collector() {
    use axum::{body::Bytes, extract::State, routing::post};
    type Received = std::sync::Arc<std::sync::Mutex<Vec<u8>>>;
    let received = Received::default();
    let collector = axum::Router::new()
        .route(
            "/v1/traces",
            post(|State(r): State<Received>, body: Bytes| async move {
                r.lock().unwrap().extend_from_slice(&body);
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, collector).await });

    let s = TestServer::start().await;
    let port = free_port();
    let (reader, writer) = std::io::pipe().unwrap();
    let mut server = spawn_botmem_logging(
        &s.config.database_url,
        port,
        &[
            ("BOTMEM_LOG_FORMAT", "json"),
            ("RUST_LOG", "info"),
            ("BOTMEM_OTLP_ENDPOINT", &endpoint),
        ],
        writer,
    );
    wait_up(port).await;
    let base = format!("http://127.0.0.1:{port}");
    let token = s.admin("t1");
    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    let created: Value = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(&token)
        .header("traceparent", format!("00-{TRACE_ID}-00f067aa0ba902b7-01"))
        .json(&json!({ "query": "mutation { createBot(input: { name: \"b\" }) { id } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bot = created["data"]["createBot"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ws = WsClient::connect(&base, Some(TRANSPORT)).await;
    ws.init(&token).await;
    ws.subscribe("m", MEMORY_CHANGED, json!({ "bot": bot }))
        .await;
    ws.send(json!({ "type": "complete", "id": "m" })).await;
    ws.send(json!({ "type": "ping" })).await;
    assert_eq!(ws.recv_json().await["type"], "pong");

    let pid = server.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let exited = tokio::task::spawn_blocking(move || server.wait().map(|s| s.success()));
    let exited = tokio::time::timeout(std::time::Duration::from_secs(20), exited).await;
    assert!(
        matches!(exited, Ok(Ok(Ok(true)))),
        "botmem did not stop cleanly on SIGTERM"
    );

    let lines: Vec<Value> = BufReader::new(reader)
        .lines()
        .map_while(Result::ok)
        .map(|l| serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let request = lines
        .iter()
        .find(|l| l["fields"]["message"] == "graphql request")
        .expect("a request log line");
    assert_eq!(request["span"]["trace_id"], TRACE_ID, "{request}");
    let subscription = lines
        .iter()
        .find(|l| l["fields"]["message"] == "graphql subscription")
        .unwrap_or_else(|| panic!("no subscription log line in {lines:#?}"));
    assert_eq!(
        subscription["span"]["operation"], "memoryChanged",
        "{subscription}"
    );
    assert_eq!(subscription["span"]["tenant"], "t1");
    assert_eq!(subscription["fields"]["outcome"], "closed");

    // The export is protobuf: look for the raw trace id and the names.
    let exported = received.lock().unwrap().clone();
    let trace_id: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&TRACE_ID[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let contains = |needle: &[u8]| exported.windows(needle.len()).any(|w| w == needle);
    assert!(!exported.is_empty(), "nothing was exported");
    assert!(
        contains(&trace_id),
        "the caller's trace id was not exported"
    );
    for name in [&b"botmem"[..], b"request", b"subscription"] {
        assert!(
            contains(name),
            "{} not exported",
            String::from_utf8_lossy(name)
        );
    }
}
