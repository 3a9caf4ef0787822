//! The load generator: `connections` keep-alive HTTP/1.1 connections, each
//! sending one request after another for a fixed time, every response
//! checked (status 200, a `data` object, no `errors`).
use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, client::conn::http1};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Makes the JSON body of the i-th request of a connection.
pub type Body = Arc<dyn Fn(&mut Rng) -> String + Send + Sync>;

/// A small xorshift generator: the client must cost far less than the server.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[derive(Default)]
pub struct Outcome {
    pub requests: u64,
    pub errors: u64,
    /// The first refused response, to show why.
    pub first_error: Option<String>,
    pub elapsed: Duration,
    latencies_us: Vec<u32>,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// The q-quantile latency in milliseconds.
    pub fn quantile_ms(&mut self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        self.latencies_us.sort_unstable();
        let i = ((self.latencies_us.len() as f64 * q) as usize).min(self.latencies_us.len() - 1);
        self.latencies_us[i] as f64 / 1000.0
    }

    fn merge(&mut self, other: Outcome) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.first_error = self.first_error.take().or(other.first_error);
        self.latencies_us.extend(other.latencies_us);
    }
}

type Sender = http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> std::io::Result<Sender> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(connection);
    Ok(sender)
}

/// One request: the status and the body.
async fn send(
    sender: &mut Sender,
    addr: SocketAddr,
    token: &str,
    body: String,
) -> Result<(u16, Bytes), String> {
    let request = Request::post("/graphql")
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    sender.ready().await.map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, bytes))
}

/// A GraphQL answer with data and no errors, checked without parsing it all.
fn succeeded(status: u16, body: &[u8]) -> bool {
    status == 200
        && body.starts_with(b"{\"data\":{")
        && !body.windows(9).any(|w| w == b"\"errors\":")
}

/// Drives `connections` connections for `duration`.
pub async fn run(
    addr: SocketAddr,
    token: &str,
    connections: usize,
    duration: Duration,
    body: Body,
) -> Outcome {
    let never = Arc::new(AtomicBool::new(false));
    run_until(addr, token, connections, duration, never, body).await
}

/// [`run`], ending early once `stop` is set.
pub async fn run_until(
    addr: SocketAddr,
    token: &str,
    connections: usize,
    duration: Duration,
    stop: Arc<AtomicBool>,
    body: Body,
) -> Outcome {
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|c| {
            let (token, body, stop) = (token.to_owned(), body.clone(), stop.clone());
            tokio::spawn(async move {
                let mut rng = Rng::new(c as u64 + 1);
                let mut outcome = Outcome::default();
                let mut sender = connect(addr).await.expect("connects");
                while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let sent = send(&mut sender, addr, &token, body(&mut rng)).await;
                    outcome.latencies_us.push(t.elapsed().as_micros() as u32);
                    outcome.requests += 1;
                    match sent {
                        Ok((status, bytes)) if succeeded(status, &bytes) => {}
                        Ok((status, bytes)) => {
                            outcome.errors += 1;
                            outcome.first_error.get_or_insert_with(|| {
                                format!("{status} {}", String::from_utf8_lossy(&bytes))
                            });
                        }
                        Err(e) => {
                            outcome.errors += 1;
                            outcome.first_error.get_or_insert(e);
                            sender = connect(addr).await.expect("reconnects");
                        }
                    }
                }
                outcome
            })
        })
        .collect();
    let mut total = Outcome::default();
    for task in tasks {
        total.merge(task.await.expect("a load task"));
    }
    total.elapsed = started.elapsed();
    total
}

/// One GraphQL call for seeding: the parsed answer, which must have no errors.
pub async fn call(addr: SocketAddr, token: &str, body: String) -> serde_json::Value {
    let mut sender = connect(addr).await.expect("connects");
    let (status, bytes) = send(&mut sender, addr, token, body).await.expect("answers");
    let value: serde_json::Value = serde_json::from_slice(&bytes).expect("JSON");
    assert!(
        status == 200 && value.get("errors").is_none(),
        "{status} {value}"
    );
    value
}

/// The status of a GET, or `None` when nothing answers.
pub async fn get_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut sender = connect(addr).await.ok()?;
    let request = Request::get(path)
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))
        .ok()?;
    let response = sender.send_request(request).await.ok()?;
    Some(response.status().as_u16())
}

/// The value of one `/metrics` series (0 when absent or unreachable).
pub async fn metric(addr: SocketAddr, series: &str) -> f64 {
    let Ok(mut sender) = connect(addr).await else {
        return 0.0;
    };
    let Ok(request) = Request::get("/metrics")
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))
    else {
        return 0.0;
    };
    let Ok(response) = sender.send_request(request).await else {
        return 0.0;
    };
    let Ok(body) = response.into_body().collect().await else {
        return 0.0;
    };
    String::from_utf8_lossy(&body.to_bytes())
        .lines()
        .filter_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .find_map(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}
