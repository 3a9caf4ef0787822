#![allow(dead_code)]
//! A GraphQL-over-WebSocket test client on tokio-tungstenite, speaking
//! either subprotocol as raw JSON messages.
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

pub const TRANSPORT: &str = "graphql-transport-ws";
pub const LEGACY: &str = "graphql-ws";

/// What the server sent: a JSON message, or the close frame's code and reason.
#[derive(Debug, PartialEq)]
pub enum Frame {
    Json(Value),
    Close(u16, String),
    /// The connection ended without a close frame.
    Gone,
}

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    pub protocol: &'static str,
}

impl WsClient {
    /// Connects to `/graphql/ws` of the server at `base` (`http://…`).
    pub async fn connect(base: &str, protocol: Option<&'static str>) -> WsClient {
        let url = format!("{}/graphql/ws", base.replacen("http", "ws", 1));
        let mut request = url.into_client_request().unwrap();
        if let Some(protocol) = protocol {
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol));
        }
        let (socket, _) = connect_async(request).await.expect("websocket connects");
        WsClient {
            socket,
            protocol: protocol.unwrap_or(""),
        }
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// The next frame; pings and keep-alives of the server are skipped
    /// unless `raw` (and answered as the protocol requires).
    async fn next_frame(&mut self, raw: bool, wait: Duration) -> Frame {
        loop {
            let message = tokio::time::timeout(wait, self.socket.next())
                .await
                .expect("the server answers in time");
            let frame = match message {
                Some(Ok(Message::Text(text))) => Frame::Json(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Close(frame))) => match frame {
                    Some(f) => Frame::Close(f.code.into(), f.reason.to_string()),
                    None => Frame::Close(1005, String::new()),
                },
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => Frame::Gone,
            };
            if !raw && let Frame::Json(m) = &frame {
                match m["type"].as_str() {
                    Some("ping") => {
                        self.send(json!({"type": "pong"})).await;
                        continue;
                    }
                    Some("ka") => continue,
                    _ => {}
                }
            }
            return frame;
        }
    }

    pub async fn recv(&mut self) -> Frame {
        self.next_frame(false, Duration::from_secs(10)).await
    }

    pub async fn recv_raw(&mut self, wait: Duration) -> Frame {
        self.next_frame(true, wait).await
    }

    pub async fn recv_json(&mut self) -> Value {
        match self.recv().await {
            Frame::Json(m) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// The close code the server ends with (messages before it skipped).
    pub async fn closed_with(&mut self) -> (u16, String) {
        loop {
            match self.recv().await {
                Frame::Close(code, reason) => return (code, reason),
                Frame::Gone => return (1006, String::new()),
                Frame::Json(_) => continue,
            }
        }
    }

    /// `connection_init` with `payload`; returns the first answer.
    pub async fn init_with(&mut self, payload: Value) -> Frame {
        self.send(json!({"type": "connection_init", "payload": payload}))
            .await;
        self.recv().await
    }

    /// Initialises with a bearer token and expects the ack.
    pub async fn init(&mut self, token: &str) {
        let answer = self
            .init_with(json!({"Authorization": format!("Bearer {token}")}))
            .await;
        assert_eq!(answer, Frame::Json(json!({"type": "connection_ack"})));
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let kind = if self.protocol == LEGACY {
            "start"
        } else {
            "subscribe"
        };
        self.send(json!({
            "type": kind,
            "id": id,
            "payload": {"query": query, "variables": variables},
        }))
        .await;
    }

    /// The next result (`next`/`data`) of subscription `id`; panics on
    /// anything else.
    pub async fn next_result(&mut self, id: &str) -> Value {
        let message = self.recv_json().await;
        let kind = if self.protocol == LEGACY {
            "data"
        } else {
            "next"
        };
        assert_eq!(message["type"], kind, "{message}");
        assert_eq!(message["id"], id, "{message}");
        message["payload"].clone()
    }

    /// The next `data` of subscription `id`, which must carry no errors.
    pub async fn next_data(&mut self, id: &str, field: &str) -> Value {
        let payload = self.next_result(id).await;
        assert!(payload.get("errors").is_none(), "{payload}");
        payload["data"][field].clone()
    }

    /// Stops reading: what the server sends piles up in the socket.
    pub fn into_inner(self) -> WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>> {
        self.socket
    }
}

pub const MEMORY_CHANGED: &str = "subscription($bot: UUID!, $scope: MemoryScope, $owner: UUID) {
  memoryChanged(botId: $bot, scope: $scope, ownerId: $owner) {
    op botId scope ownerId name value version memoryVersion at } }";

pub const CONVERSATION_CHANGED: &str = "subscription($bot: UUID!) {
  conversationChanged(botId: $bot) { kind eventKind at conversation { id status endReason } } }";

/// Subscriptions go live a moment after `subscribe` (no protocol message
/// says when). Makes changes with `probe(k)`, which returns a marker the
/// change's event contains, until subscription `id` reports one, then
/// reads up to the newest probe: from then on every change is seen.
/// Returns the newest probe's event.
pub async fn until_live<F, Fut>(ws: &mut WsClient, id: &str, field: &str, mut probe: F) -> Value
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    for k in 0..100 {
        let marker = format!("\"{}\"", probe(k).await);
        let Ok(mut event) =
            tokio::time::timeout(Duration::from_millis(300), ws.next_data(id, field)).await
        else {
            continue;
        };
        while !event.to_string().contains(&marker) {
            event = ws.next_data(id, field).await;
        }
        return event;
    }
    panic!("subscription {id} never went live");
}
