//! GraphQL over WebSocket at `/graphql/ws`, in both subprotocols:
//! `graphql-transport-ws` (what the `graphql-ws` npm client speaks) and the
//! legacy `graphql-ws` (Apollo's subscriptions-transport-ws).
//!
//! Written here rather than taken from async-graphql, whose transport
//! answers with other close codes than the reference client expects, lets a
//! duplicate id replace a running subscription, and has no init timeout.
//! The rules, for both subprotocols:
//! - the token comes in `connection_init`: `{"Authorization": "Bearer …"}`
//!   or `{"token": "…"}`; refused → close 4403; none within the init
//!   timeout → 4408; a second init → 4429;
//! - `subscribe` (`start`) before the ack → 4401; an id in use → 4409;
//!   a message that is not valid JSON of the protocol → 4400; a client
//!   offering neither subprotocol → 4406;
//! - more subscriptions than allowed on the connection → an `error` message
//!   for that id (`LIMIT_EXCEEDED`); more connections of one tenant than
//!   allowed on this replica → close 1013 (try again later);
//! - the server pings (`ping`, or `ka` on the legacy protocol) and answers
//!   pings; a message that a client does not read within the send timeout
//!   drops the connection; so does shutdown (1001).
use std::{collections::HashSet, time::Duration};

use async_graphql::{Request, Response};
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    response::IntoResponse,
};
use futures_util::{
    SinkExt, StreamExt,
    stream::{BoxStream, SplitSink},
};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_stream::StreamMap;

use super::{
    errors,
    fair::TenantSlot,
    http::{HttpState, authenticate},
};
use crate::{
    error::Error,
    model::{Auth, Capability},
};

/// The limits and timers of `/graphql/ws`.
#[derive(Clone, Debug)]
pub struct WsSettings {
    pub init_timeout: Duration,
    pub keepalive: Duration,
    pub send_timeout: Duration,
    pub max_subscriptions: usize,
    pub max_connections_per_tenant: usize,
    pub max_message_bytes: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Protocol {
    /// `graphql-transport-ws`
    Transport,
    /// `graphql-ws` (subscriptions-transport-ws)
    Legacy,
}

pub async fn upgrade(
    State(state): State<HttpState>,
    headers: axum::http::HeaderMap,
    ws: WebSocketUpgrade,
) -> axum::response::Response {
    if !super::http::origin_allowed(&state, &headers) {
        return (
            axum::http::StatusCode::FORBIDDEN,
            "this origin is not in BOTMEM_CORS_ORIGINS",
        )
            .into_response();
    }
    let ws = ws
        .protocols(["graphql-transport-ws", "graphql-ws"])
        .max_message_size(state.ws.max_message_bytes)
        .max_frame_size(state.ws.max_message_bytes)
        // tungstenite's defaults (128 KiB each) made an idle subscriber
        // cost ~160 KiB of server memory; the buffers grow for larger
        // messages when needed.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024);
    let protocol = match ws.selected_protocol().and_then(|p| p.to_str().ok()) {
        Some("graphql-transport-ws") => Some(Protocol::Transport),
        Some("graphql-ws") => Some(Protocol::Legacy),
        _ => None,
    };
    ws.on_upgrade(move |socket| async move {
        let _open = crate::telemetry::Held::websocket();
        let (sink, stream) = socket.split();
        let mut connection = Connection {
            sink,
            state,
            protocol: protocol.unwrap_or(Protocol::Transport),
            auth: None,
            slot: None,
            init_seen: false,
            subscriptions: StreamMap::new(),
            answered: HashSet::new(),
        };
        match protocol {
            Some(_) => connection.serve(stream).await,
            None => connection.close(4406, "Subprotocol not acceptable").await,
        }
    })
}

/// The client's messages of both subprotocols (`start`/`stop` are the
/// legacy names of `subscribe`/`complete`).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        payload: Option<Value>,
    },
    #[serde(alias = "start")]
    Subscribe {
        id: String,
        payload: Box<Request>,
    },
    #[serde(alias = "stop")]
    Complete {
        id: String,
    },
    ConnectionTerminate,
    Ping {
        #[allow(dead_code)]
        payload: Option<Value>,
    },
    Pong {
        #[allow(dead_code)]
        payload: Option<Value>,
    },
}

/// What the connection does next.
enum Step {
    Continue,
    Send(Vec<Value>),
    /// A message already serialized: results keep their fields in
    /// selection order, which a `serde_json::Value` (sorted keys) loses.
    SendText(String),
    Close(u16, String),
    End,
}

/// One response of a subscription, or `None` when it has ended.
type Responses = BoxStream<'static, Option<Response>>;

struct Connection {
    sink: SplitSink<WebSocket, Message>,
    state: HttpState,
    protocol: Protocol,
    auth: Option<Auth>,
    slot: Option<TenantSlot>,
    init_seen: bool,
    subscriptions: StreamMap<String, Responses>,
    /// Subscriptions that have sent at least one result: an error before
    /// that is an `error` message, after it a `next` with errors.
    answered: HashSet<String>,
}

impl Connection {
    async fn serve(&mut self, mut incoming: futures_util::stream::SplitStream<WebSocket>) {
        let settings = self.state.ws.clone();
        let cancel = self.state.cancel.clone();
        let init_deadline = tokio::time::sleep(settings.init_timeout);
        tokio::pin!(init_deadline);
        let mut keepalive = tokio::time::interval(settings.keepalive);
        keepalive.tick().await;
        loop {
            let (initialising, authenticated) = (!self.init_seen, self.auth.is_some());
            let subscribed = !self.subscriptions.is_empty();
            let step = tokio::select! {
                _ = cancel.cancelled() => Step::Close(1001, "the server is shutting down".into()),
                _ = &mut init_deadline, if initialising => {
                    Step::Close(4408, "Connection initialisation timeout".into())
                }
                _ = keepalive.tick(), if authenticated => Step::Send(vec![match self.protocol {
                    Protocol::Transport => json!({"type": "ping"}),
                    Protocol::Legacy => json!({"type": "ka"}),
                }]),
                message = incoming.next() => match message {
                    Some(Ok(message)) => self.on_message(message).await,
                    None | Some(Err(_)) => Step::End,
                },
                Some((id, response)) = self.subscriptions.next(), if subscribed => {
                    self.on_response(id, response)
                }
            };
            match step {
                Step::Continue => {}
                Step::Send(messages) => {
                    for message in messages {
                        if !self.send(message.to_string()).await {
                            return;
                        }
                    }
                }
                Step::SendText(text) => {
                    if !self.send(text).await {
                        return;
                    }
                }
                Step::Close(code, reason) => return self.close(code, &reason).await,
                Step::End => return,
            }
        }
    }

    async fn on_message(&mut self, message: Message) -> Step {
        let text = match message {
            Message::Text(text) => text.to_string(),
            Message::Binary(bytes) => match String::from_utf8(bytes.to_vec()) {
                Ok(text) => text,
                Err(_) => return Step::Close(4400, "Invalid message received".into()),
            },
            Message::Close(_) => return Step::End,
            Message::Ping(_) | Message::Pong(_) => return Step::Continue,
        };
        let message: ClientMessage = match serde_json::from_str(&text) {
            Ok(message) => message,
            Err(_) => return Step::Close(4400, "Invalid message received".into()),
        };
        match message {
            ClientMessage::ConnectionInit { payload } => self.on_init(payload).await,
            ClientMessage::Subscribe { id, payload } => self.on_subscribe(id, *payload),
            ClientMessage::Complete { id } => {
                self.subscriptions.remove(&id);
                self.answered.remove(&id);
                Step::Continue
            }
            ClientMessage::ConnectionTerminate => Step::Close(1000, "terminated".into()),
            ClientMessage::Ping { .. } => Step::Send(vec![json!({"type": "pong"})]),
            ClientMessage::Pong { .. } => Step::Continue,
        }
    }

    /// Closes a connection refused at `connection_init`; the legacy
    /// protocol is told why first, with `connection_error`.
    async fn refuse_init(&mut self, error: &Error) -> Step {
        let (code, reason) = errors::ws_close(error);
        if code == 4403 && self.protocol == Protocol::Legacy {
            let refusal = json!({"type": "connection_error", "payload": {"message": reason}});
            if !self.send(refusal.to_string()).await {
                return Step::End;
            }
        }
        Step::Close(code, reason)
    }

    async fn on_init(&mut self, payload: Option<Value>) -> Step {
        if self.init_seen {
            return Step::Close(4429, "Too many initialisation requests".into());
        }
        self.init_seen = true;
        let auth = match authenticate_init(&self.state, payload).await {
            Ok(auth) => auth,
            Err(e) => return self.refuse_init(&e).await,
        };
        let limit = self.state.ws.max_connections_per_tenant;
        let Some(slot) = self.state.connections.acquire(&auth.tenant, limit) else {
            let full = Error::TooManyConnections(format!(
                "too many connections for this tenant (limit {limit}); try again later"
            ));
            return self.refuse_init(&full).await;
        };
        self.slot = Some(slot);
        self.auth = Some(auth);
        let mut replies = vec![json!({"type": "connection_ack"})];
        if self.protocol == Protocol::Legacy {
            replies.push(json!({"type": "ka"}));
        }
        Step::Send(replies)
    }
}

/// The caller named by a `connection_init` payload, if it may read.
async fn authenticate_init(state: &HttpState, payload: Option<Value>) -> Result<Auth, Error> {
    let payload = payload.unwrap_or(Value::Null);
    let field = |name: &str| {
        payload
            .as_object()?
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| value.as_str())
    };
    let authorization = match (field("authorization"), field("token")) {
        (Some(header), _) => header.to_owned(),
        (None, Some(token)) => format!("Bearer {token}"),
        (None, None) => {
            return Err(Error::Unauthenticated(
                    "connection_init must carry {\"Authorization\": \"Bearer <jwt>\"} or {\"token\": \"<jwt>\"}".into(),
                ));
        }
    };
    let auth = authenticate(&state.verifier, &state.app, Some(&authorization)).await?;
    auth.require(Capability::Read)?;
    Ok(auth)
}

impl Connection {
    fn on_subscribe(&mut self, id: String, mut request: Request) -> Step {
        let Some(auth) = &self.auth else {
            return Step::Close(4401, "Unauthorized".into());
        };
        if self.subscriptions.contains_key(&id) {
            return Step::Close(4409, format!("Subscriber for {id} already exists"));
        }
        let limit = self.state.ws.max_subscriptions;
        if self.subscriptions.len() >= limit {
            let message = format!("too many subscriptions on this connection (limit {limit})");
            return Step::Send(vec![errors::ws_error(&id, &Error::LimitExceeded(message))]);
        }
        if self.state.app.clock().now() >= auth.expires_at {
            let expired =
                Error::Unauthenticated("the token expired: reconnect with a new one".into());
            return Step::Send(vec![errors::ws_error(&id, &expired)]);
        }
        let admitted = self
            .state
            .fair
            .check_rate(&auth.tenant)
            .and_then(|()| self.state.limits.check(&mut request));
        if let Err(refused) = admitted {
            return Step::Send(vec![errors::ws_error(&id, &refused)]);
        }
        let mut fields = vec![];
        super::http::root_fields(&mut request, &mut fields);
        let document = request.parsed_query().ok().cloned();
        let operation_name = request.operation_name.clone();
        let responses = self
            .state
            .schema
            .execute_stream(request.data(auth.clone()).data(super::loaders::for_request(
                self.state.app.clone(),
                auth.clone(),
            )))
            .map(move |mut response| {
                if let Some(document) = &document {
                    super::order::in_selection_order(
                        &mut response,
                        document,
                        operation_name.as_deref(),
                    );
                }
                response
            })
            .map(Some)
            .chain(futures_util::stream::once(async { None }));
        // Lives as long as the stream: removed, completed or closed.
        let mut trace = SubscriptionTrace::new(&id, &auth.tenant.to_string(), &fields.join(","));
        let responses = responses.inspect(move |response| trace.saw(response));
        self.subscriptions.insert(id, responses.boxed());
        Step::Continue
    }

    fn on_response(&mut self, id: String, response: Option<Response>) -> Step {
        let Some(response) = response else {
            self.answered.remove(&id);
            return Step::Send(vec![json!({"type": "complete", "id": id})]);
        };
        let first = self.answered.insert(id.clone());
        if first
            && response.is_err()
            && response.data == async_graphql::Value::Null
            && !ends_stream(&response)
        {
            // Refused before producing anything (bad query, no access,
            // unknown bot): one `error` message ends the operation.
            self.subscriptions.remove(&id);
            self.answered.remove(&id);
            let errors = serde_json::to_value(&response.errors).unwrap_or(Value::Null);
            return Step::Send(vec![json!({"type": "error", "id": id, "payload": errors})]);
        }
        let kind = match self.protocol {
            Protocol::Transport => "next",
            Protocol::Legacy => "data",
        };
        let payload = serde_json::to_string(&response).unwrap_or_else(|_| "null".into());
        let id = Value::String(id);
        Step::SendText(format!(
            r#"{{"type":"{kind}","id":{id},"payload":{payload}}}"#
        ))
    }

    /// False when the client is gone or does not read: the connection ends.
    async fn send(&mut self, text: String) -> bool {
        match tokio::time::timeout(
            self.state.ws.send_timeout,
            self.sink.send(Message::Text(text.into())),
        )
        .await
        {
            Ok(Ok(())) => true,
            Ok(Err(_)) => false,
            Err(_) => {
                let tenant = self.auth.as_ref().map(|a| a.tenant.to_string());
                tracing::info!(?tenant, "dropping a WebSocket client that does not read");
                false
            }
        }
    }

    async fn close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code,
            reason: truncate(reason, 123).into(),
        };
        let _ = tokio::time::timeout(
            self.state.ws.send_timeout,
            self.sink.send(Message::Close(Some(frame))),
        )
        .await;
    }
}

/// A stream that was live and then ended (token expired, subscriber
/// lagged) sends its last result and `complete`, even if it ends before its
/// first event; only a refusal before the stream starts is an `error`.
fn ends_stream(response: &Response) -> bool {
    response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(
                |code| matches!(code, async_graphql::Value::String(c) if errors::ends_stream(c)),
            )
    })
}

/// A close reason may hold at most 123 bytes.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// One subscription's span, its gauge, and one log line when it ends:
/// `complete` (the server ended it), `error` (it ended with errors, e.g.
/// `SUBSCRIPTION_LAGGED`), or `closed` (the client completed it or left).
struct SubscriptionTrace {
    span: tracing::Span,
    started: std::time::Instant,
    events: u64,
    codes: Vec<String>,
    ended: bool,
    _active: crate::telemetry::Held,
}

impl SubscriptionTrace {
    fn new(id: &str, tenant: &str, operation: &str) -> SubscriptionTrace {
        SubscriptionTrace {
            span: tracing::info_span!("subscription", id, tenant, operation),
            started: std::time::Instant::now(),
            events: 0,
            codes: vec![],
            ended: false,
            _active: crate::telemetry::Held::subscription(),
        }
    }

    fn saw(&mut self, response: &Option<Response>) {
        let Some(response) = response else {
            self.ended = true;
            return;
        };
        self.events += 1;
        for error in &response.errors {
            let code = error.extensions.as_ref().and_then(|e| e.get("code"));
            if let Some(async_graphql::Value::String(code)) = code {
                self.codes.push(code.clone());
            }
        }
    }
}

impl Drop for SubscriptionTrace {
    fn drop(&mut self) {
        let outcome = match (self.codes.is_empty(), self.ended) {
            (false, _) => "error",
            (true, true) => "complete",
            (true, false) => "closed",
        };
        tracing::info!(
            parent: &self.span,
            outcome,
            events = self.events,
            codes = %self.codes.join(","),
            duration_ms = self.started.elapsed().as_secs_f64() * 1000.0,
            "graphql subscription"
        );
    }
}
