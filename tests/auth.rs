//! Authentication and authorization over HTTP: tokens that must be refused,
//! keys of every supported kind, roles and the `bots` claim.
mod common;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use common::*;
use jsonwebtoken::{
    Algorithm, EncodingKey, Header, encode,
    jwk::{Jwk, JwkSet},
};
use serde_json::json;

const VIEWER_QUERY: &str =
    "{ viewer { subject roles bots tenant { id janitorSchedule maxValueBytes } } }";

async fn status_and_body(s: &TestServer, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut request = s
        .http()
        .post(s.url("/graphql"))
        .json(&json!({ "query": VIEWER_QUERY }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn assert_refused(s: &TestServer, token: &str, why: &str) {
    let (status, body) = status_and_body(s, Some(token)).await;
    assert_eq!(status, 401, "{why}: {body}");
    assert_code(&body, "UNAUTHENTICATED");
    assert!(body.get("data").is_none(), "{why}: no data on refusal");
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[tokio::test]
async fn missing_or_malformed_token_is_401_unauthenticated() {
    let s = TestServer::start().await;
    let (status, body) = status_and_body(&s, None).await;
    assert_eq!(status, 401);
    assert_code(&body, "UNAUTHENTICATED");
    assert_refused(&s, "not-a-jwt", "garbage").await;
    let response = s
        .http()
        .post(s.url("/graphql"))
        .header("authorization", format!("Basic {}", s.admin("t1")))
        .json(&json!({ "query": VIEWER_QUERY }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        401,
        "only the Bearer scheme counts"
    );
}

#[tokio::test]
async fn valid_token_creates_the_tenant_with_defaults() {
    let s = TestServer::start().await;
    let data = s
        .ok(&s.token("acme", "viewer"), VIEWER_QUERY, json!({}))
        .await;
    assert_eq!(data["viewer"]["subject"], "tester");
    assert_eq!(data["viewer"]["roles"], json!(["VIEWER"]));
    assert_eq!(data["viewer"]["bots"], json!(null));
    assert_eq!(data["viewer"]["tenant"]["id"], "acme");
    assert_eq!(data["viewer"]["tenant"]["janitorSchedule"], "0 */2 * * * *");
    assert_eq!(data["viewer"]["tenant"]["maxValueBytes"], 65536);
}

#[tokio::test]
async fn expired_token_is_refused_by_the_servers_clock() {
    let s = TestServer::start().await;
    let token = s.admin("t1");
    s.ok(&token, VIEWER_QUERY, json!({})).await;
    // Valid for an hour, plus 60 s of leeway.
    s.clock.advance(chrono::TimeDelta::seconds(3600 + 61));
    assert_refused(&s, &token, "expired").await;

    let mut claims = s.claims("t1", &["admin"]);
    claims.nbf = Some(s.clock.now().timestamp() + 600);
    assert_refused(&s, &s.sign(&claims), "not yet valid").await;
}

#[tokio::test]
async fn forged_signature_alg_none_and_wrong_algorithms_are_refused() {
    let s = TestServer::start().await;
    let claims = s.claims("t1", &["admin"]);

    let forged =
        botmem::auth::mint_hs256("another-secret-another-secret-0123456789", &claims).unwrap();
    assert_refused(&s, &forged, "signed with another secret").await;

    let good = s.sign(&claims);
    let (head, rest) = good.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let mut tampered = claims.clone();
    tampered.tenant = "victim".into();
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&tampered).unwrap());
    assert_refused(&s, &format!("{head}.{body}.{signature}"), "claims swapped").await;

    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let claims_part = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    assert_refused(&s, &format!("{none_header}.{claims_part}."), "alg none").await;

    let hs384 = encode(
        &Header::new(Algorithm::HS384),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert_refused(&s, &hs384, "HS384 with the right secret").await;

    let rs256 = encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_pem(&fixture("rsa_private.pem")).unwrap(),
    )
    .unwrap();
    assert_refused(&s, &rs256, "RS256 against an HS256 server").await;
}

#[tokio::test]
async fn required_claims_must_be_present_and_well_typed() {
    let s = TestServer::start().await;
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let exp = s.clock.now().timestamp() + 3600;
    for (why, claims) in [
        (
            "no tenant",
            json!({ "sub": "a", "roles": ["admin"], "exp": exp }),
        ),
        (
            "no sub",
            json!({ "tenant": "t1", "roles": ["admin"], "exp": exp }),
        ),
        (
            "no exp",
            json!({ "sub": "a", "tenant": "t1", "roles": ["admin"] }),
        ),
        (
            "string exp",
            json!({ "sub": "a", "tenant": "t1", "roles": ["admin"], "exp": exp.to_string() }),
        ),
        (
            "bad tenant",
            json!({ "sub": "a", "tenant": "no spaces allowed", "roles": ["admin"], "exp": exp }),
        ),
    ] {
        let token = encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
        assert_refused(&s, &token, why).await;
    }
}

#[tokio::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let s = TestServer::start_with(|c| {
        c.jwt_issuer = Some("https://id.example".into());
        c.jwt_audience = Some("botmem".into());
    })
    .await;
    let mut claims = s.claims("t1", &["viewer"]);
    assert_refused(&s, &s.sign(&claims), "no iss/aud").await;
    claims.iss = Some("https://id.example".into());
    claims.aud = Some("other".into());
    assert_refused(&s, &s.sign(&claims), "wrong audience").await;
    claims.aud = Some("botmem".into());
    claims.iss = Some("https://evil.example".into());
    assert_refused(&s, &s.sign(&claims), "wrong issuer").await;
    claims.iss = Some("https://id.example".into());
    s.ok(&s.sign(&claims), VIEWER_QUERY, json!({})).await;
}

#[tokio::test]
async fn rs256_public_key_file_accepts_rs256_and_refuses_algorithm_confusion() {
    let dir = tempfile::tempdir().unwrap();
    let public = dir.path().join("rsa_public.pem");
    std::fs::write(&public, fixture("rsa_public.pem")).unwrap();
    let s = TestServer::start_with(|c| {
        c.jwt_secret = None;
        c.jwt_public_key_file = Some(public.clone());
    })
    .await;
    let claims = s.claims("t1", &["viewer"]);
    let rs256 = encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_pem(&fixture("rsa_private.pem")).unwrap(),
    )
    .unwrap();
    s.ok(&rs256, VIEWER_QUERY, json!({})).await;
    // The classic confusion attack: HMAC keyed with the public key.
    let confused = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&fixture("rsa_public.pem")),
    )
    .unwrap();
    assert_refused(&s, &confused, "HS256 keyed with the RSA public key").await;
}

#[tokio::test]
async fn es256_keys_from_a_jwks_file_are_accepted() {
    let private = EncodingKey::from_ec_pem(&fixture("ec_private.pem")).unwrap();
    let mut jwk = Jwk::from_encoding_key(&private, Algorithm::ES256).unwrap();
    jwk.common.key_id = Some("k1".into());
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(
        &jwks,
        serde_json::to_vec(&JwkSet { keys: vec![jwk] }).unwrap(),
    )
    .unwrap();
    let s = TestServer::start_with(|c| {
        c.jwt_secret = None;
        c.jwt_jwks_file = Some(jwks.clone());
    })
    .await;
    let claims = s.claims("t1", &["viewer"]);
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("k1".into());
    s.ok(
        &encode(&header, &claims, &private).unwrap(),
        VIEWER_QUERY,
        json!({}),
    )
    .await;
    header.kid = Some("unknown".into());
    assert_refused(
        &s,
        &encode(&header, &claims, &private).unwrap(),
        "unknown kid",
    )
    .await;
    assert_refused(&s, &s.sign(&claims), "HS256 against a JWKS server").await;
}

#[tokio::test]
async fn roles_decide_what_a_caller_may_do() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let bot = s.create_bot(&admin, "b").await;
    let create = "mutation { createBot(input: { name: \"x\" }) { id } }";
    let upsert = "mutation($bot: UUID!) { upsertUser(input: { botId: $bot, channel: \"web\", externalId: \"u\" }) { id } }";

    let viewer = s.token("t1", "viewer");
    assert_code(&s.gql(&viewer, create, json!({})).await, "FORBIDDEN");
    assert_code(
        &s.gql(&viewer, upsert, json!({ "bot": bot })).await,
        "FORBIDDEN",
    );
    s.ok(&viewer, "{ bots { totalCount } }", json!({})).await;

    let editor = s.token("t1", "EDITOR");
    assert_code(&s.gql(&editor, create, json!({})).await, "FORBIDDEN");
    s.ok(&editor, upsert, json!({ "bot": bot })).await;

    let nobody = s.sign(&s.claims("t1", &["superuser"]));
    assert_code(
        &s.gql(&nobody, "{ bots { totalCount } }", json!({})).await,
        "FORBIDDEN",
    );

    // Refused writes changed nothing.
    let data = s.ok(&admin, "{ bots { totalCount } }", json!({})).await;
    assert_eq!(data["bots"]["totalCount"], 1);
}

#[tokio::test]
async fn bots_claim_limits_the_token_to_those_bots() {
    let s = TestServer::start().await;
    let admin = s.admin("t1");
    let mine = s.create_bot(&admin, "mine").await;
    let other = s.create_bot(&admin, "other").await;
    let other_conv = s.start_conversation(&admin, &other, "u1").await;

    let mut claims = s.claims("t1", &["admin"]);
    claims.bots = Some(vec![mine.parse().unwrap()]);
    let limited = s.sign(&claims);

    let data = s
        .ok(
            &limited,
            "{ viewer { bots } bots { totalCount edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["viewer"]["bots"], json!([mine]));
    assert_eq!(data["bots"]["totalCount"], 1);
    assert_eq!(data["bots"]["edges"][0]["node"]["id"], mine.as_str());

    let q = "query($id: UUID!, $c: UUID!) { bot(id: $id) { id } conversation(id: $c) { id } }";
    let data = s
        .ok(&limited, q, json!({ "id": other, "c": other_conv["id"] }))
        .await;
    assert_eq!(data, json!({ "bot": null, "conversation": null }));

    let upd = "mutation($id: UUID!) { updateBot(id: $id, input: { name: \"n\" }) { id } }";
    assert_code(
        &s.gql(&limited, upd, json!({ "id": other })).await,
        "FORBIDDEN",
    );
    s.ok(&limited, upd, json!({ "id": mine })).await;
    let create = "mutation { createBot(input: { name: \"x\" }) { id } }";
    assert_code(&s.gql(&limited, create, json!({})).await, "FORBIDDEN");
    let start = "mutation($bot: UUID!) { startConversation(input: { botId: $bot, channel: \"w\", externalId: \"e\" }) { id } }";
    assert_code(
        &s.gql(&limited, start, json!({ "bot": other })).await,
        "FORBIDDEN",
    );
}

/// RFC 7519/7515 interoperability: `aud` as an array, NumericDates that are
/// not integers, `crit` refused; every refusal names its reason.
#[tokio::test]
async fn tokens_follow_rfc_7519_and_7515() {
    let s = TestServer::start_with(|c| c.jwt_audience = Some("botmem".into())).await;
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let now = s.clock.now().timestamp() as f64;
    let base = json!({ "sub": "a", "tenant": "t1", "roles": ["viewer"], "aud": "botmem" });
    let with = |extra: serde_json::Value| {
        let mut claims = base.clone();
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
    };
    for accepted in [
        json!({ "exp": now + 3600.5, "aud": ["other", "botmem"] }),
        json!({ "exp": now + 3600.0, "nbf": now - 0.25 }),
        json!({ "exp": 1e300 }),
    ] {
        let (status, body) = status_and_body(&s, Some(&with(accepted.clone()))).await;
        assert_eq!(status, 200, "{accepted}: {body}");
    }
    for (refused, reason) in [
        (json!({ "exp": now + 3600.0, "aud": ["other"] }), "audience"),
        (json!({ "exp": now - 3600.5 }), "expired"),
        (json!({ "exp": "soon" }), "exp claim must be a number"),
        (json!({}), "lacks the exp claim"),
        (
            json!({ "exp": now + 3600.0, "nbf": now + 600.5 }),
            "not valid yet",
        ),
        (
            json!({ "exp": now + 3600.0, "roles": "admin" }),
            "roles claim",
        ),
        (json!({ "exp": now + 3600.0, "sub": 7 }), "sub claim"),
    ] {
        let (status, body) = status_and_body(&s, Some(&with(refused.clone()))).await;
        assert_eq!(status, 401, "{refused}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{refused}: {message}");
        assert!(!message.contains(SECRET), "{message}");
    }
    // An unknown critical extension must be refused even when signed.
    let header_json = json!({ "alg": "HS256", "typ": "JWT", "crit": ["exp-ext"], "exp-ext": true });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header_json).unwrap()),
        URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(
                &json!({ "sub": "a", "tenant": "t1", "aud": "botmem", "exp": now + 3600.0 })
            )
            .unwrap()
        )
    );
    let signature =
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, Algorithm::HS256).unwrap();
    let token = format!("{signing_input}.{signature}");
    let (status, body) = status_and_body(&s, Some(&token)).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("crit"),
        "{body}"
    );
}

/// An identity provider's token, as issued: the tenant in a namespaced
/// claim, the roles in another; the standard `tenant` claim is then ignored.
#[tokio::test]
async fn the_tenant_and_roles_can_come_from_an_identity_providers_claims() {
    const TENANT: &str = "https://botmem.example.com/tenant";
    let s = TestServer::start_with(|c| {
        c.jwt_tenant_claim = TENANT.into();
        c.jwt_roles_claim = "permissions".into();
    })
    .await;
    let exp = s.clock.now().timestamp() + 600;
    let issued = json!({ "sub": "auth0|42", TENANT: "acme", "permissions": ["admin"], "exp": exp });
    let token = botmem::auth::mint_hs256(common::SECRET, &issued).unwrap();
    let created = s
        .ok(
            &token,
            "mutation { createBot(input: { name: \"b\" }) { id } }",
            json!({}),
        )
        .await;
    assert!(created["createBot"]["id"].is_string());
    // Same tenant for a token with the standard claims? No: `tenant` is not read.
    let standard = s.sign(&s.claims("acme", &["admin"]));
    assert_refused(&s, &standard, "the configured tenant claim is missing").await;
    // Another tenant in the configured claim sees nothing of acme's.
    let other = json!({ "sub": "auth0|7", TENANT: "other", "permissions": ["viewer"], "exp": exp });
    let other = botmem::auth::mint_hs256(common::SECRET, &other).unwrap();
    let bots = s.ok(&other, "{ bots { totalCount } }", json!({})).await;
    assert_eq!(bots["bots"]["totalCount"], 0);
    // Claim names that would shadow standard ones stop the start.
    let config = botmem::Config {
        jwt_tenant_claim: "sub".into(),
        ..botmem::Config::default()
    };
    assert!(
        config
            .validate()
            .unwrap_err()
            .contains("BOTMEM_JWT_TENANT_CLAIM")
    );
}

/// An identity provider on 127.0.0.1 serving a JWKS that the test rotates
/// or takes down, counting the fetches botmem makes.
#[derive(Clone, Default)]
struct Provider(std::sync::Arc<std::sync::Mutex<ProviderState>>);

#[derive(Default)]
struct ProviderState {
    keys: Vec<Jwk>,
    down: bool,
    fetches: usize,
}

impl Provider {
    async fn start(keys: Vec<Jwk>) -> (Provider, String) {
        use axum::{extract::State, http::StatusCode, response::IntoResponse, routing::get};
        let provider = Provider::default();
        provider.0.lock().unwrap().keys = keys;
        let app = axum::Router::new()
            .route(
                "/.well-known/jwks.json",
                get(|State(p): State<Provider>| async move {
                    let mut state = p.0.lock().unwrap();
                    state.fetches += 1;
                    match state.down {
                        true => StatusCode::SERVICE_UNAVAILABLE.into_response(),
                        false => axum::Json(JwkSet {
                            keys: state.keys.clone(),
                        })
                        .into_response(),
                    }
                }),
            )
            .with_state(provider.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/.well-known/jwks.json",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        (provider, url)
    }

    fn fetches(&self) -> usize {
        self.0.lock().unwrap().fetches
    }

    fn serve(&self, keys: Vec<Jwk>, down: bool) {
        let mut state = self.0.lock().unwrap();
        state.keys = keys;
        state.down = down;
    }

    /// Waits for a fetch botmem makes in the background.
    async fn wait_for_fetches(&self, n: usize) {
        for _ in 0..500 {
            if self.fetches() >= n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("botmem made {} JWKS fetches, expected {n}", self.fetches());
    }
}

/// A signing key of the provider: its JWK (with `kid`) and a signer.
struct ProviderKey {
    jwk: Jwk,
    kid: &'static str,
    algorithm: Algorithm,
    private: EncodingKey,
}

impl ProviderKey {
    fn rsa(kid: &'static str) -> ProviderKey {
        let private = EncodingKey::from_rsa_pem(&fixture("rsa_private.pem")).unwrap();
        ProviderKey::new(kid, Algorithm::RS256, private)
    }

    fn ec(kid: &'static str) -> ProviderKey {
        let private = EncodingKey::from_ec_pem(&fixture("ec_private.pem")).unwrap();
        ProviderKey::new(kid, Algorithm::ES256, private)
    }

    fn new(kid: &'static str, algorithm: Algorithm, private: EncodingKey) -> ProviderKey {
        let mut jwk = Jwk::from_encoding_key(&private, algorithm).unwrap();
        jwk.common.key_id = Some(kid.into());
        ProviderKey {
            jwk,
            kid,
            algorithm,
            private,
        }
    }

    fn token(&self, s: &TestServer, kid: &str) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(kid.into());
        encode(&header, &s.claims("acme", &["viewer"]), &self.private).unwrap()
    }
}

async fn jwks_server(url: &str) -> TestServer {
    let url = url.to_owned();
    TestServer::start_with(move |c| {
        c.jwt_secret = None;
        c.jwt_jwks_url = Some(url);
    })
    .await
}

fn seconds(n: i64) -> chrono::TimeDelta {
    chrono::TimeDelta::seconds(n)
}

/// Rotation at the provider: a token signed with the new key is accepted
/// after one refetch, one signed with the removed key is refused, and
/// tokens naming unknown keys cause at most one fetch per cooldown.
#[tokio::test]
async fn jwks_url_keys_rotate_and_unknown_kids_refetch_at_most_once_per_cooldown() {
    let old = ProviderKey::rsa("rsa-1");
    let new = ProviderKey::ec("ec-2");
    let (provider, url) = Provider::start(vec![old.jwk.clone()]).await;
    let s = jwks_server(&url).await;
    assert_eq!(provider.fetches(), 1, "fetched once at start");
    s.ok(&old.token(&s, old.kid), VIEWER_QUERY, json!({})).await;

    // The provider rotates; within the cooldown the new key is not fetched.
    provider.serve(vec![new.jwk.clone()], false);
    assert_refused(&s, &new.token(&s, new.kid), "new key within the cooldown").await;
    assert_eq!(provider.fetches(), 1);
    s.clock.advance(seconds(11));
    s.ok(&new.token(&s, new.kid), VIEWER_QUERY, json!({})).await;
    assert_eq!(provider.fetches(), 2, "one refetch for the unknown kid");
    assert_refused(&s, &old.token(&s, old.kid), "the rotated-out key").await;

    // Anyone can send unknown kids: they cost one fetch per cooldown.
    for i in 0..5 {
        assert_refused(&s, &new.token(&s, &format!("nope-{i}")), "unknown kid").await;
    }
    assert_eq!(provider.fetches(), 2, "no refetch within the cooldown");
    s.clock.advance(seconds(11));
    assert_refused(&s, &new.token(&s, "nope-5"), "unknown kid").await;
    assert_eq!(provider.fetches(), 3);
}

/// The provider down: at start botmem starts and refuses tokens until a
/// fetch succeeds; later it keeps the last good keys.
#[tokio::test]
async fn jwks_url_survives_the_provider_being_down() {
    let first = ProviderKey::rsa("rsa-1");
    let second = ProviderKey::ec("ec-2");
    let (provider, url) = Provider::start(vec![]).await;
    provider.serve(vec![first.jwk.clone()], true);
    let s = jwks_server(&url).await;
    assert_eq!(provider.fetches(), 1);
    assert_refused(&s, &first.token(&s, first.kid), "no keys fetched yet").await;

    provider.serve(vec![first.jwk.clone()], false);
    s.clock.advance(seconds(11));
    s.ok(&first.token(&s, first.kid), VIEWER_QUERY, json!({}))
        .await;
    assert_eq!(provider.fetches(), 2);

    // Down again, with rotated keys. The set goes stale: a token is still
    // verified at once while a background refetch fails.
    provider.serve(vec![second.jwk.clone()], true);
    s.clock.advance(seconds(301));
    s.ok(&first.token(&s, first.kid), VIEWER_QUERY, json!({}))
        .await;
    provider.wait_for_fetches(3).await;
    s.ok(&first.token(&s, first.kid), VIEWER_QUERY, json!({}))
        .await;
    s.clock.advance(seconds(11));
    assert_refused(&s, &second.token(&s, second.kid), "provider down").await;
    assert_eq!(provider.fetches(), 4);
    s.ok(&first.token(&s, first.kid), VIEWER_QUERY, json!({}))
        .await;

    // Back up: the next unknown kid past the cooldown picks up the new key.
    provider.serve(vec![second.jwk.clone()], false);
    s.clock.advance(seconds(11));
    s.ok(&second.token(&s, second.kid), VIEWER_QUERY, json!({}))
        .await;
    let metrics = s.http().get(s.url("/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    for outcome in ["ok", "error"] {
        assert!(
            metrics.contains(&format!(
                "botmem_jwks_fetches_total{{outcome=\"{outcome}\"}}"
            )),
            "{metrics}"
        );
    }
}
