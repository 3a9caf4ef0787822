//! Token verification. The accepted algorithm comes from the configured key
//! (HS256 for a secret; RS256 or ES256 from a PEM key or each JWKS entry),
//! never from the token's header. Expiry is checked against the injected
//! clock so tests can move time.
use std::path::Path;

use chrono::{DateTime, Utc};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode,
    jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm},
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::{Auth, Role, jwks::KeySet};
use crate::{
    clock::Clock,
    config::{Config, DEVELOPMENT_SECRET},
    error::{Error, Result},
    model::{BotId, TenantId},
};

/// The claims `botmem token` and the tests sign. Verification reads claims
/// more liberally, as RFC 7519 allows ([`TokenClaims`]).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub tenant: String,
    #[serde(default)]
    pub roles: Vec<String>,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bots: Option<Vec<Uuid>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

pub(super) struct Key {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

impl Key {
    /// Whether this key may have signed a token with this header.
    pub(super) fn fits(&self, header: &Header) -> bool {
        self.algorithm == header.alg
            && (header.kid.is_none() || self.kid.is_none() || self.kid == header.kid)
    }
}

pub struct Verifier {
    keys: KeySet,
    issuer: Option<String>,
    audience: Option<String>,
    leeway_secs: i64,
    tenant_claim: String,
    roles_claim: String,
    clock: Clock,
}

impl Verifier {
    /// With `BOTMEM_JWT_JWKS_URL`, the first fetch happens here; if the
    /// provider is down the server starts anyway and refuses tokens until a
    /// fetch succeeds ([`KeySet`]).
    pub async fn from_config(config: &Config) -> Result<Verifier, String> {
        let keys = if let Some(path) = &config.jwt_public_key_file {
            KeySet::fixed(vec![pem_key(path)?])
        } else if let Some(path) = &config.jwt_jwks_file {
            let source = path.display().to_string();
            KeySet::fixed(parse_jwks(&read(path)?, &source)?)
        } else if let Some(url) = &config.jwt_jwks_url {
            KeySet::remote(url, config).await?
        } else {
            let secret = config.jwt_secret.as_deref().unwrap_or(DEVELOPMENT_SECRET);
            KeySet::fixed(vec![Key {
                kid: None,
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(secret.as_bytes()),
            }])
        };
        Ok(Verifier {
            keys,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            leeway_secs: i64::try_from(config.jwt_leeway_secs).unwrap_or(i64::MAX),
            tenant_claim: config.jwt_tenant_claim.clone(),
            roles_claim: config.jwt_roles_claim.clone(),
            clock: config.clock.clone(),
        })
    }

    pub async fn verify(&self, token: &str) -> Result<Auth> {
        refuse_critical_extensions(token)?;
        let header = decode_header(token).map_err(|_| unauthenticated("malformed token"))?;
        let keys = self.keys.for_token(&header, &self.clock).await;
        let mut last_error = unauthenticated("token algorithm or key is not accepted");
        for key in keys.iter().filter(|k| k.fits(&header)) {
            match decode::<Map<String, Value>>(token, &key.key, &self.validation(key.algorithm)) {
                Ok(data) => {
                    let names = ClaimNames {
                        tenant: &self.tenant_claim,
                        roles: &self.roles_claim,
                    };
                    return self.authorize(TokenClaims::read(data.claims, names)?);
                }
                Err(e) => last_error = unauthenticated(&describe(&e)),
            }
        }
        Err(last_error)
    }

    /// Signature, `iss` and `aud` (a string or an array, RFC 7519 4.1.3);
    /// the other claims are read by [`TokenClaims::read`].
    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut v = Validation::new(algorithm);
        v.set_required_spec_claims::<&str>(&[]);
        // Time claims are checked in `authorize`, against the injected clock.
        v.validate_exp = false;
        v.validate_nbf = false;
        match &self.audience {
            Some(aud) => {
                v.set_audience(&[aud]);
                v.required_spec_claims.insert("aud".into());
            }
            None => v.validate_aud = false,
        }
        if let Some(iss) = &self.issuer {
            v.set_issuer(&[iss]);
            v.required_spec_claims.insert("iss".into());
        }
        v
    }

    fn authorize(&self, claims: TokenClaims) -> Result<Auth> {
        let now = self.clock.now().timestamp() as f64;
        let leeway = self.leeway_secs as f64;
        if now > claims.exp + leeway {
            return Err(unauthenticated("token expired"));
        }
        if matches!(claims.nbf, Some(nbf) if now + leeway < nbf) {
            return Err(unauthenticated("token not valid yet"));
        }
        let tenant = TenantId::parse(&claims.tenant)
            .map_err(|_| unauthenticated("token has an invalid tenant claim"))?;
        let mut roles: Vec<Role> = claims
            .roles
            .iter()
            .filter_map(|r| Role::from_claim(r))
            .collect();
        roles.sort();
        roles.dedup();
        Ok(Auth {
            subject: claims.sub,
            tenant,
            roles,
            bots: claims.bots.map(|ids| ids.into_iter().map(BotId).collect()),
            // `as` saturates: an exp of 1e300 is "never", not a wrap-around.
            expires_at: DateTime::<Utc>::from_timestamp(claims.exp.floor() as i64, 0)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        })
    }
}

/// The claims of a verified token, read with a message for each way one
/// can be wrong. `exp`/`nbf` are NumericDates: any JSON number (RFC 7519 2).
struct TokenClaims {
    sub: String,
    tenant: String,
    roles: Vec<String>,
    exp: f64,
    nbf: Option<f64>,
    bots: Option<Vec<Uuid>>,
}

/// Where a token carries the tenant and the roles (configurable, so an
/// identity provider's tokens work as issued).
struct ClaimNames<'a> {
    tenant: &'a str,
    roles: &'a str,
}

impl TokenClaims {
    fn read(mut claims: Map<String, Value>, names: ClaimNames<'_>) -> Result<TokenClaims> {
        let mut take = |name: &str| claims.remove(name).filter(|v| !v.is_null());
        let text = |name: &str, value: Option<Value>| match value {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            Some(_) => Err(unauthenticated(&format!(
                "token {name} claim must be a non-empty string"
            ))),
            None => Err(unauthenticated(&format!("token lacks the {name} claim"))),
        };
        let date = |name: &str, value: Option<Value>| match value {
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(_) => Err(unauthenticated(&format!(
                "token {name} claim must be a number of seconds since 1970"
            ))),
            None => Ok(None),
        };
        let sub = text("sub", take("sub"))?;
        let tenant = text(names.tenant, take(names.tenant))?;
        let exp = date("exp", take("exp"))?
            .ok_or_else(|| unauthenticated("token lacks the exp claim"))?;
        let nbf = date("nbf", take("nbf"))?;
        let roles = match take(names.roles) {
            None => vec![],
            Some(value) => serde_json::from_value(value).map_err(|_| {
                unauthenticated(&format!(
                    "token {} claim must be an array of strings",
                    names.roles
                ))
            })?,
        };
        let bots = match take("bots") {
            None => None,
            Some(value) => Some(
                serde_json::from_value(value)
                    .map_err(|_| unauthenticated("token bots claim must be an array of UUIDs"))?,
            ),
        };
        Ok(TokenClaims {
            sub,
            tenant,
            roles,
            exp,
            nbf,
            bots,
        })
    }
}

/// RFC 7515 4.1.11: a recipient must refuse a token whose `crit` header
/// names an extension it does not understand; botmem understands none.
fn refuse_critical_extensions(token: &str) -> Result<()> {
    use base64::Engine;
    let header = token.split('.').next().unwrap_or_default();
    let header: Map<String, Value> = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| unauthenticated("malformed token header"))?;
    match header.get("crit") {
        None => Ok(()),
        Some(crit) => Err(unauthenticated(&format!(
            "token header marks extensions as critical (crit: {crit}); this server supports none"
        ))),
    }
}

fn unauthenticated(message: &str) -> Error {
    Error::Unauthenticated(message.to_owned())
}

fn describe(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind::*;
    match error.kind() {
        InvalidSignature => "invalid token signature".into(),
        InvalidIssuer => "token issuer is not accepted".into(),
        InvalidAudience => "token audience is not accepted".into(),
        MissingRequiredClaim(claim) => format!("token lacks the {claim} claim"),
        InvalidAlgorithm => "token algorithm is not accepted".into(),
        InvalidClaimFormat(claim) => format!("token {claim} claim has the wrong type"),
        Json(_) => "token claims are not a JSON object".into(),
        _ => "invalid token".into(),
    }
}

pub(super) fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// An RSA key means RS256, an EC P-256 key means ES256.
fn pem_key(path: &Path) -> Result<Key, String> {
    let pem = read(path)?;
    let (algorithm, key) = if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
        (Algorithm::RS256, key)
    } else if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
        (Algorithm::ES256, key)
    } else {
        return Err(format!(
            "{} is not an RSA or EC P-256 public key in PEM form",
            path.display()
        ));
    };
    Ok(Key {
        kid: None,
        algorithm,
        key,
    })
}

/// The RS256 and ES256 keys of a JWKS document; others are skipped.
/// `source` names the file or URL in messages.
pub(super) fn parse_jwks(document: &[u8], source: &str) -> Result<Vec<Key>, String> {
    let set: JwkSet = serde_json::from_slice(document)
        .map_err(|e| format!("{source} is not a JWKS document: {e}"))?;
    let mut keys = Vec::new();
    for jwk in &set.keys {
        let algorithm = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
                Algorithm::ES256
            }
            _ => continue,
        };
        let expected = match algorithm {
            Algorithm::ES256 => KeyAlgorithm::ES256,
            _ => KeyAlgorithm::RS256,
        };
        if jwk
            .common
            .key_algorithm
            .is_some_and(|declared| declared != expected)
        {
            continue;
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("{source}: unusable key: {e}"))?;
        keys.push(Key {
            kid: jwk.common.key_id.clone(),
            algorithm,
            key,
        });
    }
    if keys.is_empty() {
        return Err(format!("{source} holds no RS256 or ES256 key"));
    }
    Ok(keys)
}

/// Signs claims with an HS256 secret: `botmem token` and the tests.
pub fn mint_hs256(secret: &str, claims: &impl Serialize) -> Result<String, String> {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| format!("cannot sign token: {e}"))
}
